//! Lists people can use: `orderBy` on customers, partners and requests, and
//! `search` on customers and partners; keyset pages stay whole in each order.

use aco_api::domain::Role;
use aco_api::store::Engine;
use serde_json::{Value, json};

use crate::support::*;

const CUSTOMERS: &str = "query($search: String, $order: NameOrder, $first: Int, $after: String, $last: Int, $before: String) {
    customers(search: $search, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
        nodes { id companyName }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
}";

/// The names a search finds, sorted.
async fn found(world: &World, token: &str, search: &str) -> Vec<String> {
    let data = world
        .app
        .ok(token, CUSTOMERS, json!({ "search": search, "first": 100 }))
        .await;
    let mut names: Vec<String> = data["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["companyName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_search_finds_a_prefix_of_any_word_of_the_name_or_the_whole_domain_or_tenant_id() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    for name in [
        "Coho Winery",
        "Coho Vineyard and Winery",
        "Alpine Ski House",
        "Zürich Kaffee AG",
    ] {
        let mut input = customer_input(&new_tenant(), name);
        input["domain"] = json!(format!("{}.example.com", name.len()));
        let data = world
            .app
            .ok(
                &partner.admin,
                "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { userErrors { code } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(data["createCustomer"]["userErrors"], json!([]));
    }
    let theirs = world.customer(&rival, "Coho Rival Cellars").await;
    let admin = world.admin.clone();
    assert_eq!(
        found(&world, &admin, "coho").await,
        [
            "Coho Rival Cellars",
            "Coho Vineyard and Winery",
            "Coho Winery"
        ]
    );
    assert_eq!(
        found(&world, &admin, "WIN").await,
        ["Coho Vineyard and Winery", "Coho Winery"]
    );
    // Every word a prefix of some word: "coho vin" is the vineyard only.
    assert_eq!(
        found(&world, &admin, "coho vin").await,
        ["Coho Vineyard and Winery"]
    );
    assert_eq!(found(&world, &admin, "zü").await, ["Zürich Kaffee AG"]);
    assert_eq!(found(&world, &admin, "ZÜRICH").await, ["Zürich Kaffee AG"]);
    // Within a word is not a prefix.
    assert!(found(&world, &admin, "oho").await.is_empty());
    // The whole domain or tenant id, in any case; not a part of them.
    assert_eq!(
        found(&world, &admin, "16.Example.COM").await,
        ["Alpine Ski House"]
    );
    assert!(found(&world, &admin, "16.example").await.is_empty());
    assert_eq!(
        found(&world, &admin, &theirs.tenant.to_uppercase()).await,
        ["Coho Rival Cellars"]
    );
    // A partner finds only its own customers (ROLE-3).
    assert_eq!(
        found(&world, &partner.admin, "coho").await,
        ["Coho Vineyard and Winery", "Coho Winery"]
    );
    // The same through the partner's own list, by name, Z to A.
    let data = world
        .app
        .ok(
            &partner.admin,
            "query($id: ID!) { partner(id: $id) { customers(search: \"coho\", orderBy: { field: NAME, direction: DESC }) { nodes { companyName } } } }",
            json!({ "id": partner.id }),
        )
        .await;
    assert_eq!(
        data["partner"]["customers"]["nodes"],
        json!([{ "companyName": "Coho Winery" }, { "companyName": "Coho Vineyard and Winery" }])
    );
    // A renamed customer is found by its new name only.
    let alpine = world
        .app
        .ok(&admin, CUSTOMERS, json!({ "search": "alpine" }))
        .await["customers"]["nodes"][0]["id"]
        .clone();
    let renamed = world
        .app
        .ok(
            &admin,
            "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }",
            json!({ "input": { "id": alpine, "companyName": "Glacier Lodge" } }),
        )
        .await;
    assert_eq!(renamed["updateCustomer"]["userErrors"], json!([]));
    assert!(found(&world, &admin, "alpine").await.is_empty());
    assert_eq!(found(&world, &admin, "lodge").await, ["Glacier Lodge"]);
    // Bad searches are refused, and say why.
    for (search, says) in [
        ("  ", "at least one letter or digit"),
        ("a b c d e f g h i", "at most 8 words"),
        (&"x".repeat(201)[..], "at most 200 characters"),
    ] {
        let body = world
            .app
            .gql(Some(&admin), CUSTOMERS, json!({ "search": search }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{search}: {body}");
        assert!(body.to_string().contains(says), "{body}");
    }
    // `aco-api check`'s view: every name's terms agree with it.
    assert_checks_clean(&world.app).await;
}

/// What `aco-api check` finds in the app's database: nothing.
async fn assert_checks_clean(app: &TestApp) {
    let db = open_store(&app.config);
    let month = aco_api::domain::time::Month::of(chrono::Utc::now().date_naive());
    let report = db
        .read(move |tx| aco_api::service::check::run(tx, month))
        .await
        .expect("check runs");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// Every page of a list in `order`, `size` at a time, forwards (from `first`
/// and `after`) or backwards (from `last` and `before`); the ids in list order.
async fn walk(world: &World, order: Value, size: i64, backwards: bool) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let variables = if backwards {
            json!({ "order": order, "last": size, "before": cursor })
        } else {
            json!({ "order": order, "first": size, "after": cursor })
        };
        let data = world.app.ok(&world.admin, CUSTOMERS, variables).await;
        let page = &data["customers"];
        let mut these: Vec<String> = page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        let info = &page["pageInfo"];
        if backwards {
            these.extend(ids);
            ids = these;
            if !info["hasPreviousPage"].as_bool().unwrap() {
                return ids;
            }
            cursor = info["startCursor"].as_str().map(str::to_owned);
        } else {
            ids.extend(these);
            if !info["hasNextPage"].as_bool().unwrap() {
                return ids;
            }
            cursor = info["endCursor"].as_str().map(str::to_owned);
        }
    }
}

#[tokio::test]
async fn every_order_pages_the_whole_list_without_gaps_or_repeats() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let names = [
        "delta", "Alpha", "charlie", "Bravo", "alpha", "Echo", "bravo", "Foxtrot", "golf", "Hotel",
        "india", "Alpha",
    ];
    let mut created = Vec::new();
    for name in names {
        created.push((name.to_lowercase(), world.customer(&partner, name).await.id));
    }
    // By name: without regard to case, ties in creation (id) order.
    let mut by_name = created.clone();
    by_name.sort();
    let by_name: Vec<String> = by_name.into_iter().map(|(_, id)| id).collect();
    let reversed: Vec<String> = by_name.iter().rev().cloned().collect();
    let in_creation: Vec<String> = created.iter().map(|(_, id)| id.clone()).collect();
    let newest_first: Vec<String> = in_creation.iter().rev().cloned().collect();
    let name = |direction: &str| json!({ "field": "NAME", "direction": direction });
    let created_at = |direction: &str| json!({ "field": "CREATED_AT", "direction": direction });
    for size in [1, 3, 5, 12, 20] {
        for backwards in [false, true] {
            assert_eq!(walk(&world, name("ASC"), size, backwards).await, by_name);
            assert_eq!(walk(&world, name("DESC"), size, backwards).await, reversed);
            assert_eq!(
                walk(&world, created_at("ASC"), size, backwards).await,
                in_creation
            );
            assert_eq!(
                walk(&world, created_at("DESC"), size, backwards).await,
                newest_first
            );
            assert_eq!(
                walk(&world, Value::Null, size, backwards).await,
                in_creation
            );
        }
    }
    // The direction defaults to ASC.
    assert_eq!(
        walk(&world, json!({ "field": "NAME" }), 4, false).await,
        by_name
    );
    // A cursor belongs to its order: one of another order is refused.
    let data = world
        .app
        .ok(
            &world.admin,
            CUSTOMERS,
            json!({ "order": name("ASC"), "first": 2 }),
        )
        .await;
    let cursor = data["customers"]["pageInfo"]["endCursor"].clone();
    for order in [name("DESC"), created_at("ASC"), Value::Null] {
        let body = world
            .app
            .gql(
                Some(&world.admin),
                CUSTOMERS,
                json!({ "order": order, "first": 2, "after": cursor }),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{order}: {body}");
    }
    // A renamed customer moves, but a cursor given out keeps its place.
    let third = &by_name[2];
    let data = world
        .app
        .ok(
            &world.admin,
            CUSTOMERS,
            json!({ "order": name("ASC"), "first": 3 }),
        )
        .await;
    let after_third = data["customers"]["pageInfo"]["endCursor"].clone();
    world
        .app
        .ok(
            &world.admin,
            "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }",
            json!({ "input": { "id": third, "companyName": "Zulu" } }),
        )
        .await;
    let data = world
        .app
        .ok(
            &world.admin,
            CUSTOMERS,
            json!({ "order": name("ASC"), "first": 1, "after": after_third }),
        )
        .await;
    assert_eq!(data["customers"]["nodes"][0]["id"], json!(by_name[3]));
}

const REQUESTS: &str = "query($order: AcoRequestOrder, $after: String) {
    acoRequests(orderBy: $order, first: 2, after: $after) {
        nodes { id status dueAt updatedAt submittedAt }
        pageInfo { hasNextPage endCursor }
    }
}";

/// Every request in `order`, two a page.
async fn requests_in(world: &World, order: Value) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = world
            .app
            .ok(
                &world.admin,
                REQUESTS,
                json!({ "order": order, "after": after }),
            )
            .await;
        let page = &data["acoRequests"];
        all.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return all;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn requests_are_listed_by_submission_due_date_or_last_change() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let mut requests = Vec::new();
    for name in ["One", "Two", "Three", "Four", "Five"] {
        let customer = world.eligible_customer(&partner, name).await;
        requests.push(world.submitted(&partner, &customer, None).await);
    }
    // The second goes on to channel review (a later due date), the fourth
    // waits on the partner (no due date).
    world
        .advance(
            &world.reviewer(Role::Plsr),
            "passAcoComplianceCheck",
            &requests[1],
            json!({ "channelSalesManager": "csm@programme.example" }),
        )
        .await;
    world
        .advance(
            &world.reviewer(Role::Plsr),
            "requestAcoInformation",
            &requests[3],
            json!({ "question": "Which subscriptions?" }),
        )
        .await;
    let ids = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let order = |field: &str, direction: &str| json!({ "field": field, "direction": direction });
    let sorted_by = |list: &[Value], key: &dyn Fn(&Value) -> String| {
        let mut list = list.to_vec();
        list.sort_by_key(|n| (key(n), n["id"].as_str().unwrap().to_owned()));
        ids(&list)
    };
    let all = requests_in(&world, Value::Null).await;
    assert_eq!(all.len(), 5);
    let submitted = |n: &Value| n["submittedAt"].as_str().unwrap().to_owned();
    let updated = |n: &Value| n["updatedAt"].as_str().unwrap().to_owned();
    let due = |n: &Value| n["dueAt"].as_str().unwrap_or("9999").to_owned();
    for (field, key) in [
        ("SUBMITTED_AT", &submitted as &dyn Fn(&Value) -> String),
        ("UPDATED_AT", &updated),
        ("DUE_AT", &due),
    ] {
        let up = sorted_by(&all, key);
        assert_eq!(
            ids(&requests_in(&world, order(field, "ASC")).await),
            up,
            "{field}"
        );
        let down: Vec<String> = up.iter().rev().cloned().collect();
        assert_eq!(
            ids(&requests_in(&world, order(field, "DESC")).await),
            down,
            "{field}"
        );
    }
    // A page whose selection the brief rows hold pages the same.
    for field in ["SUBMITTED_AT", "UPDATED_AT", "DUE_AT"] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = world
                .app
                .ok(
                    &world.admin,
                    "query($order: AcoRequestOrder, $after: String) { acoRequests(orderBy: $order, first: 2, after: $after) { nodes { id status } pageInfo { hasNextPage endCursor } } }",
                    json!({ "order": order(field, "DESC"), "after": after }),
                )
                .await;
            let page = &data["acoRequests"];
            seen.extend(ids(page["nodes"].as_array().unwrap()));
            if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(
            seen,
            ids(&requests_in(&world, order(field, "DESC")).await),
            "{field}"
        );
    }
    // The last changes come first newest first; the one without a due date last by due date.
    let newest = requests_in(&world, order("UPDATED_AT", "DESC")).await;
    assert_eq!(newest[0]["id"], json!(requests[3].id));
    let by_due = requests_in(&world, order("DUE_AT", "ASC")).await;
    assert_eq!(by_due[4]["id"], json!(requests[3].id));
    assert_eq!(by_due[4]["dueAt"], Value::Null);
}

/// A name written without its sort key and terms (by a binary from before
/// search, during a rolling deployment) is found by `check` and indexed by
/// the sweep; then it is found and ordered like any other.
#[tokio::test]
async fn names_written_without_their_terms_are_indexed_by_the_sweep() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let customer = world.customer(&partner, "Quiet Harbor").await;
    let db = open_store(&world.app.config);
    let id = customer.id.clone();
    db.write(move |tx| {
        tx.exec(
            "UPDATE customers SET name_key = NULL WHERE id = ?1",
            &[&id.as_str()],
        )?;
        tx.exec(
            "DELETE FROM search_terms WHERE object_id = ?1",
            &[&id.as_str()],
        )
    })
    .await
    .unwrap();
    assert!(found(&world, &world.admin, "quiet").await.is_empty());
    let month = aco_api::domain::time::Month::of(chrono::Utc::now().date_naive());
    let report = db
        .read(move |tx| aco_api::service::check::run(tx, month))
        .await
        .unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("search terms")),
        "{:?}",
        report.problems
    );
    assert_eq!(aco_api::jobs::index_for_search(&db).await.unwrap(), 1);
    assert_eq!(found(&world, &world.admin, "quiet").await, ["Quiet Harbor"]);
    assert_checks_clean(&world.app).await;
}
