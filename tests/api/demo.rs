//! The demo world (`serve --dev --demo`) is what the README promises: every
//! customer- and partner-side rule failed by some customer, customers that
//! pass all of them, requests in every review state, and working tokens.

use aco_api::demo::{self, CUSTOMERS, PARTNERS};
use aco_api::domain::Role;
use serde_json::json;
use std::collections::BTreeMap;

use crate::support::*;

pub(crate) async fn demo_world() -> World {
    let app = TestApp::configured(|c| {
        c.demo = true;
        c.clock = at("2027-01-20T10:00:00Z");
    });
    let db = crate::support::open_store(&app.config);
    assert!(demo::seed(&db, &app.config).await.unwrap());
    assert!(
        !demo::seed(&db, &app.config).await.unwrap(),
        "loaded only into an empty database"
    );
    World::on(app)
}

async fn ids_by_tenant(world: &World, list: &str) -> BTreeMap<String, String> {
    let data = world
        .app
        .ok(
            &world.admin,
            &format!("{{ {list}(first: 100) {{ nodes {{ id tenantId }} }} }}"),
            json!({}),
        )
        .await;
    data[list]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["tenantId"].as_str().unwrap().to_owned(),
                n["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn demo_customers_fail_each_rule_and_some_pass_all() {
    let world = demo_world().await;
    let partners = ids_by_tenant(&world, "partners").await;
    let customers = ids_by_tenant(&world, "customers").await;
    assert_eq!(
        (partners.len(), customers.len()),
        (PARTNERS.len(), CUSTOMERS.len())
    );
    let northwind = &partners[PARTNERS[1].tenant_id];
    let plsr = world.reviewer(Role::Plsr);
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut all_pass = 0;
    for c in &CUSTOMERS {
        let seller = PARTNERS.iter().find(|p| p.key == c.partner).unwrap();
        let mut input = deal(&customers[c.tenant_id], "15000.00");
        input["partnerId"] = json!(partners[seller.tenant_id]);
        if seller.partner_type == aco_api::domain::PartnerType::IndirectReseller {
            input["indirectProviderId"] = json!(northwind);
        }
        let data = world
            .app
            .ok(&plsr, "query($input: AcoEligibilityInput!) { acoEligibility(input: $input) { eligible rules { code passed } } }", json!({ "input": input }))
            .await;
        let failed: Vec<String> = data["acoEligibility"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["passed"] == false)
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect();
        match c.fails {
            None => {
                assert!(failed.is_empty(), "{} should pass: {failed:?}", c.name);
                all_pass += 1;
            }
            Some(code) => assert_eq!(failed[0], code, "{}: {failed:?}", c.name),
        }
        for code in failed {
            *failures.entry(code).or_default() += 1;
        }
    }
    for code in [
        "CUSTOMER_NOT_US",
        "CUSTOMER_NOT_SMB",
        "CUSTOMER_NOT_COMMERCIAL",
        "BILLING_PROFILE_INCOMPLETE",
        "MCA_NOT_ACCEPTED",
        "MPA_NOT_SIGNED",
        "MCA_NOT_CONFIRMED",
        "NO_RESELLER_RELATIONSHIP",
        "PROVIDER_RELATIONSHIP_MISSING",
    ] {
        assert!(
            failures.get(code).copied().unwrap_or(0) >= 1,
            "no demo customer fails {code}"
        );
    }
    assert!(all_pass >= 2, "at least two customers pass every rule");
}

#[tokio::test]
async fn demo_has_requests_in_every_review_state() {
    let world = demo_world().await;
    let data = world
        .app
        .ok(
            &world.admin,
            "{ acoRequests(first: 100) { nodes { status history { totalCount } } } }",
            json!({}),
        )
        .await;
    let states: std::collections::BTreeSet<&str> = data["acoRequests"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    for state in [
        "SUBMITTED",
        "CHANNEL_REVIEW",
        "NEEDS_INFO",
        "FINANCE_REVIEW",
        "OPERATIONS_REVIEW",
        "AWAITING_SIGNATURE",
        "ACTIVE",
        "EXHAUSTED",
        "LAPSED",
        "REJECTED",
        "CANCELLED",
    ] {
        assert!(states.contains(state), "no demo request is {state}");
    }
    assert!(
        data["acoRequests"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["history"]["totalCount"].as_i64().unwrap() >= 1)
    );
}

#[tokio::test]
async fn demo_credits_are_active_exhausted_and_lapsed_with_months_of_usage() {
    let world = demo_world().await;
    let customers = ids_by_tenant(&world, "customers").await;
    let mut seen = Vec::new();
    for c in CUSTOMERS.iter().filter(|c| c.credit.is_some()) {
        let data = world
            .app
            .ok(
                &world.admin,
                "query($id: ID!) { customer(id: $id) { monthlyUsage { month } creditBalance { grants { status used remaining lapsedAmount } } } }",
                json!({ "id": customers[c.tenant_id] }),
            )
            .await;
        let customer = &data["customer"];
        assert_eq!(
            customer["monthlyUsage"].as_array().unwrap().len(),
            c.credit.as_ref().unwrap().usage.len()
        );
        seen.push(
            customer["creditBalance"]["grants"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    seen.sort();
    assert_eq!(seen, ["ACTIVE", "EXHAUSTED", "LAPSED"]);
}

#[tokio::test]
async fn demo_tokens_work_for_every_role() {
    let world = demo_world().await;
    let tokens = demo::tokens(&world.app.config).unwrap();
    assert!(tokens.len() >= 10);
    let mut roles = std::collections::BTreeSet::new();
    for t in &tokens {
        let data = world.app.ok(&t.token, "{ me { roles } }", json!({})).await;
        roles.insert(data["me"]["roles"][0].as_str().unwrap().to_owned());
    }
    let all: std::collections::BTreeSet<String> =
        Role::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(roles, all, "a token for every role");
}

/// `--demo` on a database that has data says so (and how to start over)
/// instead of skipping silently; a log written to a file carries no colour
/// codes.
#[tokio::test]
async fn the_demo_on_a_database_with_data_says_it_was_not_loaded_without_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("aco.db");
    for run in ["first", "second"] {
        let address = crate::support::free_address();
        let log = dir.path().join(format!("{run}.log"));
        let mut command = tokio::process::Command::new(crate::durability::binary());
        command
            .args(["serve", "--dev", "--demo", "--bind", &address])
            .arg("--database-path")
            .arg(&database)
            .env_clear()
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::process::Stdio::null());
        let mut server = crate::durability::serve_until_healthy(command, &address).await;
        server.kill().await.unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            !text.contains('\u{1b}'),
            "{run}: colour codes in a file: {text}"
        );
        let skipped = text.contains("the demo was not loaded");
        assert_eq!(skipped, run == "second", "{run}: {text}");
        if skipped {
            assert!(text.contains("delete it"), "{text}");
        } else {
            assert!(text.contains("demo data loaded"), "{text}");
        }
    }
}
