//! The real binary under load and under SIGKILL, over loopback HTTP: nothing
//! acknowledged is lost, no 5xx, no `database is locked` reaching a client,
//! and the invariants hold afterwards (`aco-api check`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aco_api::domain::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// The binary under test: `ACO_TEST_BINARY` (CI: the release build), or the one `cargo test` built.
pub fn binary() -> String {
    std::env::var("ACO_TEST_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_aco-api").to_owned())
}

/// One HTTP/1.1 request on its own connection; the status and JSON body.
async fn http(
    address: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> std::io::Result<(u16, Value)> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let payload = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((
        status,
        serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    ))
}

async fn gql(
    address: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> std::io::Result<(u16, Value)> {
    http(
        address,
        "/graphql",
        token,
        &json!({ "query": query, "variables": variables }),
    )
    .await
}

struct Server {
    child: tokio::process::Child,
    address: String,
}

async fn start_server(database: &Path) -> Server {
    let address = free_address();
    let mut command = tokio::process::Command::new(binary());
    command
        .args(["serve", "--dev", "--bind", &address])
        .arg("--database-path")
        .arg(database)
        .env_clear()
        .env("ACO_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    crate::support::use_database(&mut command, database);
    let child = serve_until_healthy(command, &address).await;
    Server { child, address }
}

/// Spawns the server `command` (killed on drop) and waits until `/healthz`
/// at `address` answers 200.
pub async fn serve_until_healthy(
    mut command: tokio::process::Command,
    address: &str,
) -> tokio::process::Child {
    let child = command
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = tokio::net::TcpStream::connect(address).await {
            let _ = s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await;
            let mut out = String::new();
            if s.read_to_string(&mut out).await.is_ok() && out.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

fn check_database(database: &Path) -> String {
    let mut command = std::process::Command::new(binary());
    command
        .arg("check")
        .arg("--database-path")
        .arg(database)
        .env_clear();
    if let Some(url) = crate::support::postgres_url_for(database) {
        command.env("ACO_DATABASE_URL", url);
    }
    let output = command.output().expect("aco-api check runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "aco-api check failed: {text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("integrity_check: ok"), "{text}");
    text
}

/// A world seeded in-process, then handed to the binary on the same file.
struct Seeded {
    database: PathBuf,
    _dir: tempfile::TempDir,
    admin: String,
    partner: PartnerHandle,
    customers: Vec<CustomerHandle>,
}

async fn seeded(customers: usize) -> Seeded {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let mut handles = Vec::new();
    for i in 0..customers {
        handles.push(
            world
                .eligible_customer(&partner, &format!("Customer{i}"))
                .await,
        );
    }
    let World { app, admin } = world;
    let (config, dir) = app.close();
    Seeded {
        database: config.store.path,
        _dir: dir,
        admin,
        partner,
        customers: handles,
    }
}

/// A write the server acknowledged: a new customer, or (customer, month, amount) of usage.
type Acknowledged = (String, Option<(String, String)>);

#[tokio::test]
async fn nothing_acknowledged_is_lost_when_the_process_is_killed() {
    let world = seeded(4).await;
    let mut server = start_server(&world.database).await;
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let mut clients = Vec::new();
    for client in 0..8 {
        let (address, token, acked) = (
            server.address.clone(),
            world.partner.admin.clone(),
            acknowledged.clone(),
        );
        let customers: Vec<String> = world.customers.iter().map(|c| c.id.clone()).collect();
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let tenant = format!("c4a50000-0000-4000-8000-{:06}{:06}", client, i);
                let input = customer_input(&tenant, &format!("Crash{client}x{i}"));
                let Ok((200, body)) = gql(&address, &token, CREATE_CUSTOMER, json!({ "input": input })).await else { break };
                let Some(id) = body["data"]["createCustomer"]["customer"]["id"].as_str() else { break };
                acked.lock().unwrap().push((id.to_owned(), None));
                // Usage of a seeded customer: the last acknowledged figure must survive.
                let customer = &customers[client % customers.len()];
                let amount = format!("{}.{:02}", 100 + i, client);
                let month = format!("2026-{:02}", 1 + (i % 10));
                let query = "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { changed } }";
                let usage = json!({ "input": { "customerId": customer, "month": month, "firstPartyAcr": amount, "thirdPartyCharges": "0.00" } });
                if client < customers.len() {
                    let Ok((200, body)) = gql(&address, &token, query, usage).await else { break };
                    if body["data"]["recordMonthlyUsage"]["changed"] == true {
                        acked.lock().unwrap().push((customer.clone(), Some((month, amount))));
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.start_kill().expect("SIGKILL");
    server.child.wait().await.ok();
    for c in clients {
        c.await.ok();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "the load reached the server ({} writes)",
        acknowledged.len()
    );

    let server = start_server(&world.database).await;
    let created: Vec<&String> = acknowledged
        .iter()
        .filter(|(_, u)| u.is_none())
        .map(|(id, _)| id)
        .collect();
    for chunk in created.chunks(100) {
        let (_, body) = gql(
            &server.address,
            &world.admin,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": chunk }),
        )
        .await
        .unwrap();
        let missing = body["data"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n.is_null())
            .count();
        assert_eq!(missing, 0, "acknowledged customers lost: {body}");
    }
    // Every acknowledged figure is in the month's history (a later write may
    // have committed without being acknowledged before the kill).
    let usage: Vec<(&String, &String, &String)> = acknowledged
        .iter()
        .filter_map(|(c, u)| u.as_ref().map(|(m, a)| (c, m, a)))
        .collect();
    for (customer, month, amount) in usage {
        let (_, body) = gql(
            &server.address,
            &world.admin,
            "query($id: ID!, $m: Month) { customer(id: $id) { monthlyUsage(month: $m) { firstPartyAcr } } }",
            json!({ "id": customer, "m": month }),
        )
        .await
        .unwrap();
        let revisions = body["data"]["customer"]["monthlyUsage"].as_array().unwrap();
        assert!(
            revisions
                .iter()
                .any(|r| r["firstPartyAcr"] == amount.as_str()),
            "{customer} {month}: the acknowledged {amount} is lost"
        );
    }
    check_database(&world.database);
    if crate::support::on_postgres() {
        // A PostgreSQL-compatible engine's backups are its own.
        return;
    }
    // A backup taken while the server is serving is a consistent database.
    let copy = world.database.with_file_name("backup.db");
    let output = std::process::Command::new(binary())
        .arg("backup")
        .arg("--database-path")
        .arg(&world.database)
        .arg(&copy)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(server);
    check_database(&world.database);
    check_database(&copy);
}

/// Figures of one soak run.
#[derive(Debug, Default)]
struct Figures {
    requests: u64,
    server_errors: u64,
    locked: u64,
    conflicts: u64,
    submitted: Vec<String>,
    latencies_ms: Vec<f64>,
}

/// The soak across `processes` servers on one database (PostgreSQL: as
/// Lambda instances would share it; SQLite has one process). Each client
/// works through one of them, and its rival reviewer through the next.
async fn soak(seconds: u64, processes: usize) -> Figures {
    let world = seeded(16).await;
    let mut servers = Vec::new();
    for _ in 0..processes {
        servers.push(start_server(&world.database).await);
    }
    let server = &servers[0];
    let figures: Arc<Mutex<Figures>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let reviewers: Vec<String> = [
        Role::Plsr,
        Role::ChannelSales,
        Role::Finance,
        Role::Operations,
    ]
    .iter()
    .map(|r| {
        mint(
            PROGRAM_TENANT,
            &[*r],
            &format!("{r}@programme.example"),
            aco_api::config::dev::ISSUER,
            aco_api::config::dev::AUDIENCE,
            0,
            3600,
        )
    })
    .collect();
    let mut clients = Vec::new();
    for client in 0..8usize {
        let (figures, reviewers) = (figures.clone(), reviewers.clone());
        let address = servers[client % processes].address.clone();
        let rival_address = servers[(client + 1) % processes].address.clone();
        let partner = world.partner.user.clone();
        let partner_admin = world.partner.admin.clone();
        let admin = world.admin.clone();
        let mine: Vec<(String, String)> = world.customers[client * 2..client * 2 + 2]
            .iter()
            .map(|c| (c.id.clone(), c.signer.clone()))
            .collect();
        clients.push(tokio::spawn(async move {
            let call_at = |address: String, token: String, query: String, variables: Value| {
                let figures = figures.clone();
                async move {
                    let started = Instant::now();
                    let answer = gql(&address, &token, &query, variables).await;
                    let mut f = figures.lock().unwrap();
                    f.requests += 1;
                    f.latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                    match &answer {
                        Ok((status, body)) => {
                            if *status >= 500 {
                                f.server_errors += 1;
                            }
                            if body.to_string().contains("database is locked") {
                                f.locked += 1;
                            }
                            if body.to_string().contains("\"CONFLICT\"") {
                                f.conflicts += 1;
                            }
                        }
                        Err(_) => f.server_errors += 1,
                    }
                    answer.ok().map(|(_, b)| b).unwrap_or(Value::Null)
                }
            };
            let call = |token: String, query: String, variables: Value| {
                call_at(address.clone(), token, query, variables)
            };
            let mut round = 0u64;
            while Instant::now() < deadline {
                round += 1;
                let (customer, signer) = &mine[(round % 2) as usize];
                // Reads.
                call(admin.clone(), "{ acoRequests(first: 20) { totalCount nodes { id status dueAt customer { companyName } partner { companyName } lastEvent { action } } } }".into(), json!({})).await;
                // A submission, walked through every step; a rival reviewer acts on the same version.
                let body = call(partner.clone(), SUBMIT.into(), json!({ "input": deal(customer, "15000.00") })).await;
                let Some(id) = body["data"]["submitAcoRequest"]["acoRequest"]["id"].as_str().map(str::to_owned) else { continue };
                figures.lock().unwrap().submitted.push(id.clone());
                let steps = [
                    ("passAcoComplianceCheck", "PassAcoComplianceCheckInput", 0, json!({ "channelSalesManager": "csm@programme.example" })),
                    ("supportAcoRequest", "SupportAcoRequestInput", 1, json!({})),
                    ("approveAcoRequest", "ApproveAcoRequestInput", 2, json!({})),
                    ("publishAcoAgreement", "PublishAcoAgreementInput", 3, json!({ "signerName": "S", "signerEmail": "s@customer.example.com" })),
                ];
                let mut version = 1;
                let mut agreement = None;
                for (mutation, input_type, reviewer, extra) in steps {
                    let mut input = json!({ "id": id, "version": version });
                    for (k, v) in extra.as_object().unwrap() {
                        input[k] = v.clone();
                    }
                    let query = format!("mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ acoRequest {{ version }} userErrors {{ code }} }} }}");
                    if mutation == "supportAcoRequest" {
                        // The rival: the same step, the same version, at once,
                        // through another process where there are several.
                        let rival = call_at(rival_address.clone(), reviewers[reviewer].clone(), query.clone(), json!({ "input": input.clone() }));
                        let mine = call(reviewers[reviewer].clone(), query.clone(), json!({ "input": input.clone() }));
                        let (a, b) = tokio::join!(rival, mine);
                        let won = [&a, &b].iter().filter(|r| r["data"][mutation]["userErrors"] == json!([])).count();
                        assert_eq!(won, 1, "exactly one of two concurrent steps wins: {a} {b}");
                        version += 1;
                        continue;
                    }
                    let body = call(reviewers[reviewer].clone(), query, json!({ "input": input })).await;
                    assert_eq!(body["data"][mutation]["userErrors"], json!([]), "{mutation}: {body}");
                    version += 1;
                    if mutation == "publishAcoAgreement" {
                        let q = "query($id: ID!) { acoRequest(id: $id) { agreements { id status } } }";
                        let body = call(admin.clone(), q.into(), json!({ "id": id })).await;
                        agreement = body["data"]["acoRequest"]["agreements"].as_array().and_then(|a| a.last()).and_then(|a| a["id"].as_str()).map(str::to_owned);
                    }
                }
                if let Some(agreement) = agreement {
                    let q = "mutation($input: SignAcoAgreementInput!) { signAcoAgreement(input: $input) { userErrors { code } } }";
                    let body = call(signer.clone(), q.into(), json!({ "input": { "agreementId": agreement } })).await;
                    assert_eq!(body["data"]["signAcoAgreement"]["userErrors"], json!([]), "{body}");
                }
                // Usage against the new credit.
                let month = chrono::Utc::now().format("%Y-%m").to_string();
                let q = "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { changed userErrors { code } } }";
                call(partner_admin.clone(), q.into(), json!({ "input": { "customerId": customer, "month": month, "firstPartyAcr": format!("{}.00", round % 500), "thirdPartyCharges": "1.50" } })).await;
            }
        }));
    }
    for c in clients {
        c.await.expect("a client failed");
    }
    let mut figures = Arc::try_unwrap(figures).unwrap().into_inner().unwrap();
    // No lost update: every acknowledged submission is there, in its final state.
    for chunk in figures.submitted.chunks(100) {
        let (_, body) = gql(
            &server.address,
            &world.admin,
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on AcoRequest { status } } }",
            json!({ "ids": chunk }),
        )
        .await
        .unwrap();
        for node in body["data"]["nodes"].as_array().unwrap() {
            assert!(
                ["ACTIVE", "EXHAUSTED"].contains(&node["status"].as_str().unwrap_or("<lost>")),
                "{node}"
            );
        }
    }
    drop(servers);
    check_database(&world.database);
    figures.latencies_ms.sort_by(f64::total_cmp);
    figures
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn soak_and_check(seconds: u64) {
    // Four processes share a PostgreSQL database; SQLite's has one.
    let processes = if crate::support::on_postgres() { 4 } else { 1 };
    let f = soak(seconds, processes).await;
    println!(
        "soak {seconds} s, 8 clients, {processes} processes: {} requests ({:.0}/s), {} requests walked to ACTIVE, {} CONFLICTs, p50 {:.1} ms, p99 {:.1} ms, 5xx {}, locked {}",
        f.requests,
        f.requests as f64 / seconds as f64,
        f.submitted.len(),
        f.conflicts,
        percentile(&f.latencies_ms, 0.5),
        percentile(&f.latencies_ms, 0.99),
        f.server_errors,
        f.locked
    );
    assert_eq!(f.server_errors, 0, "no 5xx");
    assert_eq!(f.locked, 0, "no `database is locked` reaches a client");
    assert!(!f.submitted.is_empty());
}

#[tokio::test]
async fn soak_briefly() {
    soak_and_check(5).await;
}

/// The full soak: `cargo test --test api durability::soak_for_a_minute -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a minute long; run on demand (see docs/operations.md)"]
async fn soak_for_a_minute() {
    soak_and_check(60).await;
}
