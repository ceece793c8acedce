//! The PostgreSQL store against a real server: `ACO_TEST_DATABASE_URL`
//! names an empty database (`scripts/postgres.sh` makes one; `.ci/run` runs
//! these tests through it). Without it they say so and pass: the default
//! `cargo test` needs nothing installed.

use aco_api::store::postgres::{self, PostgresConfig};

/// The tests share one database: one migrates at a time (two `CREATE …
/// IF NOT EXISTS` at once can collide on PostgreSQL).
static MIGRATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn migrated(config: &PostgresConfig) -> usize {
    let _one = MIGRATING.lock().await;
    postgres::migrate(config).await.unwrap()
}

/// Runs `work` in one committed PostgreSQL transaction of the store's
/// engine, as a use case runs.
async fn in_transaction<T: Send + 'static>(
    config: &PostgresConfig,
    work: impl FnOnce(&aco_api::store::Tx<'_>) -> T + Clone + Send + 'static,
) -> T {
    use aco_api::store::{Db, Engine, JournalMode, StoreConfig};
    let db = Db::open_configured(
        &StoreConfig::new("unused.db", JournalMode::Wal),
        Some(config),
    )
    .unwrap();
    db.write(move |tx| Ok(work(tx))).await.unwrap()
}

fn database() -> Option<PostgresConfig> {
    let Ok(url) = std::env::var("ACO_TEST_DATABASE_URL") else {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return None;
    };
    Some(PostgresConfig::from_url(&url, 2).expect("ACO_TEST_DATABASE_URL"))
}

#[tokio::test]
async fn migrations_apply_every_step_once_and_again_harmlessly() {
    let Some(config) = database() else { return };
    let first = migrated(&config).await;
    let (recorded, steps) = postgres::schema_steps(&config).await.unwrap();
    assert_eq!(recorded, steps);
    assert!(first == steps || first == 0, "{first} of {steps}");
    assert_eq!(migrated(&config).await, 0);

    // Every table the steps create is there, with its columns.
    let pool = config.pool().unwrap();
    let client = pool.get().await.unwrap();
    let columns: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'aco_schema_steps'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'aco_schema_steps'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 29);
    assert!(columns > 200, "{columns} columns");
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    // A port nothing listens on.
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let config = PostgresConfig::from_url(
        &format!("postgres://aco:s3cret@127.0.0.1:{port}/aco?sslmode=disable"),
        1,
    )
    .unwrap();
    let error = postgres::migrate(&config).await.unwrap_err().to_string();
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(
        error.contains(&format!("postgres://aco@127.0.0.1:{port}/aco")),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}

/// The store's engine-neutral statements, on PostgreSQL: a relationship
/// written, read back, found live and active, and moved on, by the same
/// functions that serve SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_functions_run_on_postgresql_as_on_sqlite() {
    use aco_api::domain::RelationshipStatus;
    use aco_api::domain::ids::ObjectId;
    use aco_api::store::relationships::{self, RelationshipRow};

    let Some(config) = database() else { return };
    migrated(&config).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (partner, customer) = (
        ObjectId::from_trusted(format!("prt_{suffix}")),
        ObjectId::from_trusted(format!("cus_{suffix}")),
    );
    let row = RelationshipRow {
        id: ObjectId::from_trusted(format!("rel_{suffix}")),
        partner_id: partner.clone(),
        customer_id: customer.clone(),
        status: RelationshipStatus::Pending,
        requested_at: "2027-01-05T10:00:00Z".parse().unwrap(),
        accepted_at: None,
        revoked_at: None,
        revoke_reason: None,
    };
    let written = row.clone();
    let outcome = in_transaction(&config, move |tx| {
        relationships::insert(tx, &written, "admin@example.com").unwrap();
        let read = relationships::get(tx, &written.id).unwrap().unwrap();
        let live = relationships::live(tx, &written.partner_id, &written.customer_id).unwrap();
        let active_before = relationships::is_active(tx, &partner, &customer).unwrap();
        let accepted = RelationshipRow {
            status: RelationshipStatus::Active,
            accepted_at: Some("2027-01-06T09:30:00Z".parse().unwrap()),
            ..written.clone()
        };
        let moved = relationships::set_status(tx, &accepted, RelationshipStatus::Pending).unwrap();
        let moved_twice =
            relationships::set_status(tx, &accepted, RelationshipStatus::Pending).unwrap();
        let active_after = relationships::is_active(tx, &partner, &customer).unwrap();
        (read, live, active_before, moved, moved_twice, active_after)
    })
    .await;
    let (read, live, active_before, moved, moved_twice, active_after) = outcome;
    assert_eq!(read.id, row.id);
    assert_eq!(read.status, RelationshipStatus::Pending);
    assert_eq!(read.requested_at, row.requested_at);
    assert_eq!(read.accepted_at, None);
    assert_eq!(live.map(|l| l.id), Some(row.id.clone()));
    assert!(!active_before && active_after);
    assert!(
        moved && !moved_twice,
        "a move from a state it left is refused"
    );
}

/// A partner written, found by id and by tenant, its tenant seen as in use,
/// edited, linked to a reseller, authorized, demoted and retyped, through
/// the same store functions that serve SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_are_stored_and_found_on_postgresql() {
    use aco_api::domain::ids::ObjectId;
    use aco_api::domain::{Address, Contact, PartnerType};
    use aco_api::store::partners::{self, PartnerRow};

    let Some(config) = database() else { return };
    migrated(&config).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let row = PartnerRow {
        name_key: None,
        id: ObjectId::from_trusted(format!("prt_{suffix}")),
        tenant_id: suffix.clone(),
        company_name: "Contoso Cloud".into(),
        domain: "contosocloud.com".into(),
        partner_type: PartnerType::IndirectProvider,
        mpn_id: None,
        default_address: Address {
            address_line1: Some("1 Main St".into()),
            city: Some("Redmond".into()),
            country: Some("US".into()),
            ..Address::default()
        },
        primary_contact: Contact {
            email: Some("ops@contosocloud.com".into()),
            ..Contact::default()
        },
        version: 1,
        created_at: "2027-01-05T10:00:00Z".parse().unwrap(),
        updated_at: "2027-01-05T10:00:00Z".parse().unwrap(),
    };
    let written = row.clone();
    let (by_id, by_tenant, in_use, unused, any, edited) = in_transaction(&config, move |tx| {
        partners::insert(tx, &written).unwrap();
        let by_id = partners::get(tx, &written.id).unwrap().unwrap();
        let by_tenant = partners::by_tenant(tx, &written.tenant_id)
            .unwrap()
            .unwrap();
        let in_use = partners::tenant_in_use(tx, &written.tenant_id).unwrap();
        let unused = partners::tenant_in_use(tx, "no-such-tenant").unwrap();
        let any = partners::any(tx).unwrap();
        let renamed = PartnerRow {
            company_name: "Contoso Cloud Ltd".into(),
            updated_at: "2027-01-06T10:00:00Z".parse().unwrap(),
            ..written.clone()
        };
        partners::update(tx, &renamed).unwrap();
        // A reseller linked to the provider once (again: no change), and
        // the provider's authorization dates set once.
        let reseller = PartnerRow {
            id: ObjectId::from_trusted(format!("prt_r{}", written.tenant_id)),
            tenant_id: format!("r{}", written.tenant_id),
            partner_type: PartnerType::IndirectReseller,
            ..written.clone()
        };
        partners::insert(tx, &reseller).unwrap();
        let now = "2027-01-07T10:00:00Z".parse().unwrap();
        assert!(partners::link(tx, &reseller.id, &written.id, now).unwrap());
        assert!(!partners::link(tx, &reseller.id, &written.id, now).unwrap());
        assert_eq!(
            partners::linked(tx, &reseller).unwrap(),
            std::slice::from_ref(&written.id)
        );
        assert_eq!(
            partners::linked(tx, &written).unwrap(),
            std::slice::from_ref(&reseller.id)
        );
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(
            partners::authorization_dates(tx, &written.id).unwrap(),
            (None, None)
        );
        partners::set_authorized_since(tx, &written.id, day("2027-01-07")).unwrap();
        partners::set_authorized_since(tx, &written.id, day("2027-03-01")).unwrap();
        partners::demote(tx, &reseller.id, day("2028-01-07"), day("2027-01-07"), now).unwrap();
        assert_eq!(
            partners::authorization_dates(tx, &written.id).unwrap(),
            (Some(day("2027-01-07")), None),
            "authorized since its first day, not moved later"
        );
        assert_eq!(
            partners::authorization_dates(tx, &reseller.id).unwrap().1,
            Some(day("2028-01-07"))
        );
        partners::set_type(tx, &reseller.id, PartnerType::DirectBill, now).unwrap();
        let retyped = partners::get(tx, &reseller.id).unwrap().unwrap();
        assert_eq!(retyped.partner_type, PartnerType::DirectBill);
        assert_eq!(retyped.version, 3, "demoted, then retyped");
        let edited = partners::get(tx, &written.id).unwrap().unwrap();
        (by_id, by_tenant, in_use, unused, any, edited)
    })
    .await;
    assert_eq!(by_id.tenant_id, row.tenant_id);
    assert_eq!(by_id.partner_type, PartnerType::IndirectProvider);
    assert_eq!(by_id.default_address, row.default_address);
    assert_eq!(by_id.primary_contact, row.primary_contact);
    assert_eq!(by_id.created_at, row.created_at);
    assert_eq!(by_tenant.id, row.id);
    assert!(in_use && !unused && any);
    assert_eq!(edited.company_name, "Contoso Cloud Ltd");
    assert_eq!(edited.version, 2);
    assert_eq!(edited.updated_at.to_rfc3339(), "2027-01-06T10:00:00+00:00");
}

/// A customer written, found by id and by tenant, and edited, and its MCA
/// acceptances recorded and confirmed (AGR-2), on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_stored_and_found_on_postgresql() {
    use aco_api::domain::ids::ObjectId;
    use aco_api::domain::{
        AcceptanceMethod, Address, BillingProfile, Contact, CustomerSegment, OrganizationKind,
    };
    use aco_api::store::customers::{self, CustomerAgreementRow, CustomerRow, McaConfirmationRow};
    use aco_api::store::partners;

    let Some(config) = database() else { return };
    migrated(&config).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let row = CustomerRow {
        name_key: None,
        id: ObjectId::from_trusted(format!("cus_{suffix}")),
        tenant_id: suffix.clone(),
        domain: "fabrikam.com".into(),
        company_name: "Fabrikam".into(),
        country: "US".into(),
        segment: CustomerSegment::Enterprise,
        organization_kind: OrganizationKind::NonProfit,
        billing_profile: BillingProfile {
            legal_name: Some("Fabrikam Inc.".into()),
            tax_id: Some("12-3456789".into()),
            address: Address {
                city: Some("Seattle".into()),
                ..Address::default()
            },
            ..BillingProfile::default()
        },
        version: 1,
        created_at: "2027-02-01T08:00:00Z".parse().unwrap(),
        updated_at: "2027-02-01T08:00:00Z".parse().unwrap(),
    };
    let written = row.clone();
    let (by_id, by_tenant, in_use, edited) = in_transaction(&config, move |tx| {
        customers::insert(tx, &written).unwrap();
        let by_id = customers::get(tx, &written.id).unwrap().unwrap();
        let by_tenant = customers::by_tenant(tx, &written.tenant_id)
            .unwrap()
            .unwrap();
        let in_use = partners::tenant_in_use(tx, &written.tenant_id).unwrap();
        let moved = CustomerRow {
            segment: CustomerSegment::Smb,
            billing_profile: BillingProfile::default(),
            ..written.clone()
        };
        customers::update(tx, &moved).unwrap();
        let edited = customers::get(tx, &written.id).unwrap().unwrap();
        // AGR-2: two acceptances, the newest counts; a partner confirms one,
        // then the newer one in its place.
        let partner = ObjectId::from_trusted(format!("prt_{}", written.tenant_id));
        let mut agreements = Vec::new();
        for (n, day) in [(1, "2027-02-02"), (2, "2027-02-09")] {
            let agreement = CustomerAgreementRow {
                id: ObjectId::from_trusted(format!("cag_{}_{n}", written.tenant_id)),
                customer_id: written.id.clone(),
                date_agreed: day.parse().unwrap(),
                primary_contact: Contact {
                    first_name: Some("Dana".into()),
                    last_name: Some("Lee".into()),
                    email: Some("cfo@fabrikam.com".into()),
                    phone_number: None,
                },
                acceptance_method: AcceptanceMethod::CustomerAccepted,
                recorded_by_partner: Some(partner.clone()),
                recorded_at: "2027-02-09T08:00:00Z".parse().unwrap(),
            };
            customers::insert_agreement(tx, &agreement, "user@partner.example").unwrap();
            let confirmation = McaConfirmationRow {
                partner_id: partner.clone(),
                agreement_id: agreement.id.clone(),
                confirmed_at: "2027-02-10T08:00:00Z".parse().unwrap(),
            };
            customers::confirm(tx, &written.id, &confirmation, "user@partner.example").unwrap();
            agreements.push(agreement.id);
        }
        let current = customers::current_agreement(tx, &written.id)
            .unwrap()
            .unwrap();
        let first = customers::agreement(tx, &agreements[0]).unwrap().unwrap();
        let confirmations = customers::confirmations(tx, &written.id).unwrap();
        assert_eq!(current.id, agreements[1]);
        assert_eq!(first.date_agreed.to_string(), "2027-02-02");
        assert_eq!(first.recorded_by_partner, Some(partner));
        assert_eq!(
            confirmations.len(),
            1,
            "one per partner, the newest in place"
        );
        assert_eq!(confirmations[0].agreement_id, agreements[1]);
        (by_id, by_tenant, in_use, edited)
    })
    .await;
    assert_eq!(by_id.billing_profile, row.billing_profile);
    assert_eq!(by_id.organization_kind, OrganizationKind::NonProfit);
    assert_eq!(by_tenant.id, row.id);
    assert!(in_use, "a customer's tenant is in use for partners too");
    assert_eq!(edited.segment, CustomerSegment::Smb);
    assert_eq!(edited.billing_profile, BillingProfile::default());
    assert_eq!(edited.version, 2);
}

/// A use case that loses to a concurrent one runs again whole, and nothing
/// is lost: two increments of one counter, each reading it and writing it
/// back after a pause, both count. The second commits only after its first
/// attempt was refused (SQLSTATE 40001, REPEATABLE READ) and run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_use_case_refused_for_a_concurrent_one_runs_again_and_nothing_is_lost() {
    use aco_api::store::{Db, Engine};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let Some(config) = database() else { return };
    let table = format!("retry_probe_{}", std::process::id());
    let setup = format!(
        "CREATE TABLE IF NOT EXISTS {table} (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); \
         DELETE FROM {table}; INSERT INTO {table} VALUES (1, 0)"
    );
    let pool = config.pool().unwrap();
    pool.get()
        .await
        .unwrap()
        .batch_execute(&setup)
        .await
        .unwrap();
    let db = Db::open_configured(
        &aco_api::store::StoreConfig::new("unused.db", aco_api::store::JournalMode::Wal),
        Some(&config),
    )
    .unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let increment = |pause: u64| {
        let (db, attempts, table) = (db.clone(), attempts.clone(), table.clone());
        tokio::spawn(async move {
            db.write(move |tx| {
                let first = attempts.fetch_add(1, Ordering::SeqCst) < 2;
                let n: i64 = tx
                    .row(&format!("SELECT n FROM {table} WHERE id = 1"), &[], |r| {
                        r.get(0)
                    })?
                    .unwrap();
                if first {
                    std::thread::sleep(std::time::Duration::from_millis(pause));
                }
                tx.exec(
                    &format!("UPDATE {table} SET n = ?1 WHERE id = 1"),
                    &[&(n + 1)],
                )?;
                Ok(n + 1)
            })
            .await
        })
    };
    let (a, b) = (increment(100), increment(300));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    let mut written = [a, b];
    written.sort();
    assert_eq!(written, [1, 2], "each increment saw the other's or none");
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "one ran again");
    let n: i64 = pool
        .get()
        .await
        .unwrap()
        .query_one(&format!("SELECT n FROM {table} WHERE id = 1"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    pool.get()
        .await
        .unwrap()
        .batch_execute(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
}

/// Two instances of the service on one database (as two Lambda instances
/// or servers would be), each with its own connections: of two
/// submissions for one customer at once, one is accepted and the other
/// refused by ELIG-13 (one unfinished request per customer); of two
/// reviewers acting on one version at once, exactly one wins (FLOW-18).
/// Neither refusal leaves a trace: one request, and its history as long
/// as its version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elig_13_and_flow_18_hold_for_two_instances_on_one_database() {
    use crate::support::{SUBMIT, TestApp, World, deal};
    use aco_api::domain::Role;
    use serde_json::json;

    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let world = World::on(TestApp::new());
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Alpine").await;
    let other = aco_api::build_app(world.app.config.clone()).unwrap();
    let second = TestApp {
        router: other,
        config: world.app.config.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let input = json!({ "input": deal(&customer.id, "15000.00") });
    let (a, b) = tokio::join!(
        world.app.gql(Some(&partner.user), SUBMIT, input.clone()),
        second.gql(Some(&partner.user), SUBMIT, input.clone()),
    );
    let accepted: Vec<&serde_json::Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["data"]["submitAcoRequest"]["userErrors"] == json!([]))
        .collect();
    assert_eq!(accepted.len(), 1, "{a} {b}");
    let refused = if accepted[0] == &a { &b } else { &a };
    let codes = refused["data"]["submitAcoRequest"]["userErrors"].to_string();
    assert!(codes.contains("OPEN_REQUEST_EXISTS"), "{refused}");
    let id = accepted[0]["data"]["submitAcoRequest"]["acoRequest"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Two reviewers, one on each instance, pass the same version at once.
    let plsr = world.reviewer(Role::Plsr);
    let step = "mutation($input: PassAcoComplianceCheckInput!) { passAcoComplianceCheck(input: $input) { acoRequest { version } userErrors { code } } }";
    let step_input = json!({ "input": { "id": id, "version": 1, "channelSalesManager": "csm@programme.example" } });
    let (a, b) = tokio::join!(
        world.app.gql(Some(&plsr), step, step_input.clone()),
        second.gql(Some(&plsr), step, step_input.clone()),
    );
    let won = [&a, &b]
        .iter()
        .filter(|r| r["data"]["passAcoComplianceCheck"]["userErrors"] == json!([]))
        .count();
    assert_eq!(won, 1, "{a} {b}");
    let lost = [&a, &b]
        .into_iter()
        .find(|r| r["data"]["passAcoComplianceCheck"]["userErrors"] != json!([]))
        .unwrap();
    assert!(lost.to_string().contains("CONFLICT"), "{lost}");
    let query = "query($id: ID!) { acoRequest(id: $id) { version history(first: 50) { totalCount } } customer(id: $c) { acoRequests(first: 10) { totalCount } } }";
    let query = query.replace("query($id: ID!)", "query($id: ID!, $c: ID!)");
    let data = world
        .app
        .ok(&world.admin, &query, json!({ "id": id, "c": customer.id }))
        .await;
    assert_eq!(data["acoRequest"]["version"], 2, "{data}");
    assert_eq!(data["acoRequest"]["history"]["totalCount"], 2, "{data}");
    assert_eq!(data["customer"]["acoRequests"]["totalCount"], 1, "{data}");
}

/// Everything the API answers of a world: every request with its history
/// and agreements, every customer with its balance and reconciliation.
async fn everything(world: &crate::support::World) -> serde_json::Value {
    use serde_json::json;
    let requests = world
        .app
        .ok(
            &world.admin,
            "{ acoRequests(first: 100) { totalCount nodes { id status version acoAmount dueAt \
               customer { companyName } partner { companyName } lastEvent { action at } } } }",
            json!({}),
        )
        .await;
    let mut answers = vec![requests.clone()];
    for request in requests["acoRequests"]["nodes"].as_array().unwrap() {
        answers.push(
            world
                .app
                .ok(
                    &world.admin,
                    "query($id: ID!) { acoRequest(id: $id) { id estimatedAcr overdue \
                       history(first: 50) { totalCount nodes { action fromStatus toStatus actorRole comment at } } \
                       agreements { id status expiresAt signedAt } } }",
                    json!({ "id": request["id"] }),
                )
                .await,
        );
    }
    let customers = world
        .app
        .ok(
            &world.admin,
            "{ customers(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    for customer in customers["customers"]["nodes"].as_array().unwrap() {
        answers.push(
            world
                .app
                .ok(
                    &world.admin,
                    "query($id: ID!) { customer(id: $id) { id companyName \
                       creditBalance { granted used remaining lapsed grants { granted used remaining status exhaustedIn lapsedAmount } } \
                       reconciliation(from: \"2026-01\", to: \"2027-03\") { month acr openingBalance applied aboveAco pec invoiceAmount closingBalance acoApplies recorded thirdPartyCharges } \
                       monthlyUsage(month: \"2026-11\") { firstPartyAcr revision } } }",
                    json!({ "id": customer["id"] }),
                )
                .await,
        );
    }
    json!(answers)
}

/// `aco-api copy` moves a SQLite database, the demo's, into an empty
/// PostgreSQL one, then checks the copy; the API answers the same of it,
/// request by request, balance by balance, month by month; and the copy
/// takes new writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_copied_to_postgresql_answers_the_same() {
    use crate::support::{TestApp, World, at};

    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    // The demo on SQLite.
    let sqlite = TestApp::configured(|c| {
        c.postgres = None;
        c.clock = at("2027-01-20T10:00:00Z");
    });
    let db = crate::support::open_store(&sqlite.config);
    assert!(aco_api::demo::seed(&db, &sqlite.config).await.unwrap());
    drop(db);
    let sqlite = World::on(sqlite);
    let before = everything(&sqlite).await;
    assert!(
        before.to_string().contains("\"ACTIVE\""),
        "the demo has credit"
    );

    // An empty PostgreSQL database to copy it into.
    let target = TestApp::configured(|c| c.clock = at("2027-01-20T10:00:00Z"));
    let url = crate::support::postgres_url_for(&target.config.store.path).unwrap();
    let output = std::process::Command::new(crate::durability::binary())
        .args(["copy", "--to", &url, "--database-path"])
        .arg(&sqlite.app.config.store.path)
        .env_clear()
        .output()
        .unwrap();
    let said = copied_and_checked(&output);
    assert!(said.contains("aco_request_history: "), "{said}");
    assert!(said.ends_with("ok\n"), "the copy is checked: {said}");

    let postgres = World::on(target);
    let after = everything(&postgres).await;
    assert_eq!(after, before);

    // A second copy into it is refused: it is not empty any more.
    let again = std::process::Command::new(crate::durability::binary())
        .args(["copy", "--to", &url, "--database-path"])
        .arg(&sqlite.app.config.store.path)
        .env_clear()
        .output()
        .unwrap();
    assert!(!again.status.success());
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(refused.contains("not empty"), "{refused}");
    assert!(!refused.contains("password"), "{refused}");

    // The copy goes on from where it was: a request moves on, its history
    // numbered after the copied entries.
    let requests = postgres
        .app
        .ok(
            &postgres.admin,
            "{ acoRequests(first: 100, filter: { status: [SUBMITTED] }) { nodes { id version } } }",
            serde_json::json!({}),
        )
        .await;
    let Some(submitted) = requests["acoRequests"]["nodes"].as_array().unwrap().first() else {
        panic!("the demo has a submitted request: {requests}");
    };
    let plsr = postgres.reviewer(aco_api::domain::Role::Plsr);
    let moved = postgres
        .act_raw(
            &plsr,
            "passAcoComplianceCheck",
            serde_json::json!({ "id": submitted["id"], "version": submitted["version"], "channelSalesManager": "csm@programme.example" }),
        )
        .await;
    assert_eq!(
        moved["data"]["passAcoComplianceCheck"]["userErrors"],
        serde_json::json!([]),
        "{moved}"
    );
    let history = postgres
        .app
        .ok(
            &postgres.admin,
            "query($id: ID!) { acoRequest(id: $id) { lastEvent { action } history(last: 1) { nodes { action } } } }",
            serde_json::json!({ "id": submitted["id"] }),
        )
        .await;
    assert_eq!(
        history["acoRequest"]["lastEvent"], history["acoRequest"]["history"]["nodes"][0],
        "{history}"
    );
}

/// The server refuses to start on a database it cannot serve, and says
/// what to do: one without the schema's steps (run `aco-api migrate`), and
/// one it cannot reach — naming the database, never the password.
#[tokio::test]
async fn serving_an_unmigrated_or_unreachable_database_is_refused_with_what_to_do() {
    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let serve = |url: &str| {
        std::process::Command::new(crate::durability::binary())
            .args(["serve", "--dev", "--bind", "127.0.0.1:0"])
            .env_clear()
            .env("ACO_DATABASE_URL", url)
            .output()
            .unwrap()
    };
    let empty = crate::support::empty_postgres();
    let refused = serve(&empty);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("aco-api migrate"), "{said}");
    assert!(said.contains("has 0 of this version's"), "{said}");

    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let refused = serve(&format!(
        "postgres://aco:s3cret@127.0.0.1:{port}/aco?sslmode=disable"
    ));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("cannot be reached"), "{said}");
    assert!(said.contains(&format!("127.0.0.1:{port}/aco")), "{said}");
    assert!(!said.contains("s3cret"), "{said}");
}

/// BEN-6 across two instances: two credits of one kind assigned to one
/// user at once, each through its own instance — one is assigned, the other
/// refused, never both (the assignment claims the partner, so that the
/// second sees the first or runs again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ben_6_two_instances_never_both_assign_one_user_two_credits_of_a_kind() {
    use crate::support::{TestApp, World};
    use serde_json::json;

    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let world = World::on(TestApp::new());
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let second = TestApp {
        router: aco_api::build_app(world.app.config.clone()).unwrap(),
        config: world.app.config.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let create = "mutation($input: CreateBenefitCreditInput!) { createBenefitCredit(input: $input) { benefitCredit { id } userErrors { code } } }";
    let assign = "mutation($input: AssignBenefitCreditInput!) { assignBenefitCredit(input: $input) { benefitCredit { id } userErrors { code } } }";
    for round in 0..5 {
        let mut credits = Vec::new();
        for _ in 0..2 {
            let data = world
                .app
                .ok(&world.admin, create, json!({ "input": { "partnerId": partner.id, "kind": "MONTHLY", "purpose": "GENERAL", "amount": "100.00" } }))
                .await;
            credits.push(data["createBenefitCredit"]["benefitCredit"]["id"].clone());
        }
        let email = format!("user{round}@{}", partner_domain(&world, &partner.id).await);
        let (a, b) = tokio::join!(
            world.app.gql(
                Some(&partner.admin),
                assign,
                json!({ "input": { "creditId": credits[0], "assigneeEmail": email } })
            ),
            second.gql(
                Some(&partner.admin),
                assign,
                json!({ "input": { "creditId": credits[1], "assigneeEmail": email } })
            ),
        );
        let assigned = [&a, &b]
            .iter()
            .filter(|r| r["data"]["assignBenefitCredit"]["userErrors"] == json!([]))
            .count();
        assert_eq!(assigned, 1, "round {round}: {a} {b}");
    }
}

async fn partner_domain(world: &crate::support::World, id: &str) -> String {
    let data = world
        .app
        .ok(
            &world.admin,
            "query($id: ID!) { partner(id: $id) { domain } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    data["partner"]["domain"].as_str().unwrap().to_owned()
}

/// `aco-api copy` reads one snapshot of a database that keeps taking
/// writes: requests are submitted and moved on while it copies, and the
/// copy is consistent (its `check` passes: every history in step with its
/// request, every reference whole), holding the requests committed before
/// its snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_copied_while_it_takes_writes_is_one_consistent_snapshot() {
    use crate::support::{TestApp, World};

    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let sqlite = World::on(TestApp::configured(|c| c.postgres = None));
    let partner = sqlite.signed_partner("Contoso", "DIRECT_BILL").await;
    let mut customers = Vec::new();
    for i in 0..24 {
        customers.push(
            sqlite
                .eligible_customer(&partner, &format!("Busy{i}"))
                .await,
        );
    }
    let target = TestApp::new();
    let url = crate::support::postgres_url_for(&target.config.store.path).unwrap();
    let copy = tokio::process::Command::new(crate::durability::binary())
        .args(["copy", "--to", &url, "--database-path"])
        .arg(&sqlite.app.config.store.path)
        .env_clear()
        .output();
    let writes = async {
        for customer in &customers {
            let request = sqlite.submitted(&partner, customer, None).await;
            sqlite.approved(&request).await;
        }
    };
    let (copied, ()) = tokio::join!(copy, writes);
    let said = copied_and_checked(&copied.unwrap());
    assert!(said.ends_with("ok\n"), "the copy is consistent: {said}");
    let target = World::on(target);
    let (before, after) = (requests(&target).await, requests(&sqlite).await);
    eprintln!("{before} requests copied of {after}");
    assert!(before <= after && after == 24, "{before} copied of {after}");
}

/// How many requests a programme admin sees.
async fn requests(world: &crate::support::World) -> i64 {
    world
        .app
        .ok(
            &world.admin,
            "{ acoRequests { totalCount } }",
            serde_json::json!({}),
        )
        .await["acoRequests"]["totalCount"]
        .as_i64()
        .unwrap()
}

/// What `aco-api copy` printed, once it has succeeded.
fn copied_and_checked(output: &std::process::Output) -> String {
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    said
}

/// Connections the server ends (a restart, a failover) are replaced without
/// a request failing: the use case whose pooled connection is gone runs
/// again on a new one, reads and writes alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_server_ends_are_replaced_without_a_request_failing() {
    use crate::support::{TestApp, World};

    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let world = World::on(TestApp::new());
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let url = crate::support::postgres_url_for(&world.app.config.store.path).unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    for round in 0..3 {
        // Every other connection to the app's database, ended by the server.
        let ended: i64 = client
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(round > 0 || ended > 0, "the app had connections to end");
        let customer = world
            .eligible_customer(&partner, &format!("After{round}"))
            .await;
        let read = world
            .app
            .ok(
                &world.admin,
                "query($id: ID!) { customer(id: $id) { companyName } }",
                serde_json::json!({ "id": customer.id }),
            )
            .await;
        assert_eq!(read["customer"]["companyName"], format!("After{round}"));
    }
}

/// `aco-api migrate` with `ACO_DATABASE_APP_ROLE` makes the role the
/// service connects as: it may log in, read and write the service's tables,
/// and not change the record of migration steps. Run again, it changes
/// nothing. (The IAM mapping, `AWS IAM GRANT`, is Aurora DSQL's: refused here.)
#[tokio::test]
async fn migrate_makes_the_services_own_role_with_the_tables_and_no_more() {
    if !crate::support::on_postgres() {
        eprintln!("no ACO_TEST_DATABASE_URL: the PostgreSQL tests did not run");
        return;
    }
    let url = crate::support::empty_postgres();
    let role = format!("aco_app_{}", uuid::Uuid::new_v4().simple());
    let migrate = |arn: Option<&str>| {
        let mut command = std::process::Command::new(crate::durability::binary());
        command
            .arg("migrate")
            .env_clear()
            .env("ACO_DATABASE_URL", &url)
            .env("ACO_DATABASE_APP_ROLE", &role);
        if let Some(arn) = arn {
            command.env("ACO_DATABASE_APP_ROLE_ARN", arn);
        }
        command.output().unwrap()
    };
    for run in 0..2 {
        let output = migrate(None);
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(said.contains("CREATE ROLE"), run == 0, "{said}");
        assert!(
            said.contains(&format!("the service may connect as {role}")),
            "{said}"
        );
    }
    let refused = migrate(Some("arn:aws:iam::123456789012:role/aco-api"));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only Aurora DSQL"));

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let can = |table: &'static str, privilege: &'static str| {
        let (client, role) = (&client, &role);
        async move {
            let row = client
                .query_one(
                    "SELECT has_table_privilege($1, $2, $3)",
                    &[role, &table, &privilege],
                )
                .await
                .unwrap();
            row.get::<_, bool>(0)
        }
    };
    for table in ["aco_requests", "customers", "partners", "open_requests"] {
        for privilege in ["SELECT", "INSERT", "UPDATE", "DELETE"] {
            assert!(can(table, privilege).await, "{privilege} on {table}");
        }
        assert!(!can(table, "TRUNCATE").await, "TRUNCATE on {table}");
    }
    assert!(can("aco_schema_steps", "SELECT").await);
    for privilege in ["INSERT", "UPDATE", "DELETE"] {
        assert!(
            !can("aco_schema_steps", privilege).await,
            "{privilege} on the steps"
        );
    }
    let login: bool = client
        .query_one("SELECT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole FROM pg_roles WHERE rolname = $1", &[&role])
        .await
        .unwrap()
        .get(0);
    assert!(login);
    client
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}
