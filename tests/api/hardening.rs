//! Refusing abuse cleanly: query limits, bad input of every kind, and the
//! service answering normally afterwards.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn still_answers(app: &TestApp) {
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn query_limits_are_refused_with_their_codes() {
    let world = World::new();
    let app = &world.app;
    // Depth.
    let deep = "{ partners(first: 1) { nodes { customers(first: 1) { nodes { relationships(first: 1) { nodes { partner { customers(first: 1) { nodes { relationships(first: 1) { nodes { customer { id } } } } } } } } } } } } }";
    let body = app.gql(Some(&world.admin), deep, json!({})).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    // Complexity: list fields cost their page size times their items.
    let wide =
        "{ partners(first: 100) { nodes { customers(first: 100) { nodes { id companyName } } } } }";
    let body = app.gql(Some(&world.admin), wide, json!({})).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let fine =
        "{ partners(first: 10) { nodes { customers(first: 10) { nodes { id companyName } } } } }";
    assert!(
        app.gql(Some(&world.admin), fine, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    // Query text size.
    let padding = " ".repeat(20_000);
    let body = app
        .gql(
            Some(&world.admin),
            &format!("{{ __typename {padding} }}"),
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "QUERY_TOO_LARGE", "{body}");
    // Aliases.
    let bomb: String = (0..40)
        .map(|i| format!("a{i}: me {{ subject }} "))
        .collect();
    let body = app
        .gql(Some(&world.admin), &format!("{{ {bomb} }}"), json!({}))
        .await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    still_answers(app).await;
}

/// A refusal for cost says the cost and the limit, on the first request of
/// a document and on a later one (the fast validation); the administrator's
/// list of customers with their partners fits the default limit.
#[tokio::test]
async fn a_refusal_for_cost_says_the_cost_and_the_limit_and_an_admin_list_fits() {
    let world = World::new();
    let app = &world.app;
    let wide = "query($n: Int) { partners(first: $n) { nodes { customers(first: $n) { nodes { id companyName } } } } }";
    let body = app.gql(Some(&world.admin), wide, json!({ "n": 100 })).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("costs 30201") && message.contains("at most 5000"),
        "{message}"
    );
    let body = app.gql(Some(&world.admin), wide, json!({ "n": 10 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = app.gql(Some(&world.admin), wide, json!({ "n": 50 })).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("costs 7601") && message.contains("at most 5000"),
        "{message}"
    );

    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    world.customer(&partner, "Alpine").await;
    let admin_list = "{ customers(first: 100) { nodes { id companyName relationships { nodes { status partner { companyName } } } } } }";
    let body = app.gql(Some(&world.admin), admin_list, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["customers"]["nodes"][0]["relationships"]["nodes"][0]["partner"]["companyName"],
        "Contoso",
        "{body}"
    );
}

/// A document that ran once is later checked by the engine's fast validation
/// only: its limits still depend on each request's variables, and bad
/// variables are still refused before anything changes.
#[tokio::test]
async fn a_document_seen_before_is_held_to_the_same_limits_and_input_rules() {
    let world = World::new();
    let app = &world.app;
    let wide = "query($n: Int) { partners(first: $n) { nodes { customers(first: $n) { nodes { id companyName } } } } }";
    for _ in 0..3 {
        let body = app.gql(Some(&world.admin), wide, json!({ "n": 10 })).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let body = app.gql(Some(&world.admin), wide, json!({ "n": 100 })).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");

    let update = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { partner { companyName } userErrors { code } } }";
    let partner = world.partner("Seenbefore", "DIRECT_BILL").await;
    for name in ["Seen Before 1", "Seen Before 2"] {
        let data = app
            .ok(
                &world.admin,
                update,
                json!({ "input": { "id": partner.id, "companyName": name } }),
            )
            .await;
        assert_eq!(data["updatePartner"]["partner"]["companyName"], name);
    }
    for bad in [
        json!({ "input": { "id": partner.id, "companyName": 42 } }),
        json!({ "input": { "id": partner.id, "companyName": "Changed", "unknownField": 1 } }),
        json!({ "input": "not an object" }),
        json!({}),
    ] {
        let body = app.gql(Some(&world.admin), update, bad.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
    let data = app
        .ok(
            &world.admin,
            "query($id: ID!) { partner(id: $id) { companyName } }",
            json!({ "id": partner.id }),
        )
        .await;
    assert_eq!(data["partner"]["companyName"], "Seen Before 2");
    let read = "query($id: ID!, $first: Int) { partner(id: $id) { companyName customers(first: $first) { totalCount } } }";
    for _ in 0..2 {
        let data = app
            .ok(&world.admin, read, json!({ "id": partner.id, "first": 1 }))
            .await;
        assert_eq!(data["partner"]["companyName"], "Seen Before 2");
    }
    for bad in [
        json!({ "id": true, "first": 1 }),
        json!({ "id": partner.id, "first": "ten" }),
        json!({ "id": [partner.id], "first": 1 }),
        json!({ "first": 1 }),
    ] {
        let body = app.gql(Some(&world.admin), read, bad.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
    still_answers(app).await;
}

#[tokio::test]
async fn introspection_and_the_explorer_are_off_outside_dev_mode() {
    let app = TestApp::configured(|c| {
        c.limits.introspection = false;
        c.explorer = false;
    });
    let body = app
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(body["data"]["__schema"], Value::Null, "{body}");
    let (status, _, _) = app
        .send(Request::get("/graphql").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_cut_off() {
    let app = TestApp::configured(|c| c.request_timeout = std::time::Duration::from_secs(1));
    let world = World::on(app);
    // Another process holds the database's write lock (on PostgreSQL, a
    // lock on the partners) longer than the limit.
    let path = &world.app.config.store.path;
    let blocker = rusqlite::Connection::open(path).unwrap();
    let postgres = match crate::support::postgres_url_for(path) {
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client
                .batch_execute("BEGIN; LOCK TABLE partners IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
            Some(client)
        }
        None => {
            blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
            None
        }
    };
    let started = std::time::Instant::now();
    let input = json!({ "input": { "tenantId": new_tenant(), "domain": "slow.example.com", "companyName": "Slow", "partnerType": "DIRECT_BILL" } });
    let (status, body) = world
        .app
        .post_raw(
            Some(&format!("Bearer {}", world.admin)),
            json!({ "query": CREATE_PARTNER, "variables": input }),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(code(&body), "TIMEOUT");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    match postgres {
        Some(client) => client.batch_execute("ROLLBACK").await.unwrap(),
        None => blocker.execute_batch("ROLLBACK").unwrap(),
    }
    still_answers(&world.app).await;
}

#[tokio::test]
async fn bad_input_never_hurts() {
    let world = World::new();
    let contoso = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let alpine = world.eligible_customer(&contoso, "Alpine").await;
    let app = &world.app;
    let auth = format!("Bearer {}", contoso.user);

    // Raw bodies: every one a clear 4xx with a code, never a 500.
    let raw: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{\"query\": ".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"\"{ me { subject } }\"".to_vec()),
        ("application/json", vec![0xc3, 0x28, 0x7b]),
        ("application/json", Vec::new()),
        ("application/xml", b"<query/>".to_vec()),
        ("multipart/form-data; boundary=x", b"--x--".to_vec()),
    ];
    for (content_type, body) in raw {
        let request = Request::post("/graphql")
            .header("content-type", content_type)
            .header("authorization", &auth)
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, answer, _) = app.send(request).await;
        assert!(
            status.is_client_error(),
            "{content_type} {body:?}: {status} {answer}"
        );
        assert!(
            answer["errors"][0]["extensions"]["code"].is_string(),
            "{answer}"
        );
    }

    let queries: Vec<(String, Value)> = vec![
        // Syntax, unknown fields and operations.
        ("{ me { subject ".into(), json!({})),
        ("{ nothingHere }".into(), json!({})),
        // Fragment cycles and deep fragment nesting.
        (
            "query { ...F } fragment F on Query { ...G } fragment G on Query { ...F }".into(),
            json!({}),
        ),
        (
            format!(
                "{{ me {{ {}subject{} }} }}",
                "... on Viewer { ".repeat(200),
                " }".repeat(200)
            ),
            json!({}),
        ),
        // Wrong variable types and huge strings.
        (
            "query($id: ID!) { customer(id: $id) { id } }".into(),
            json!({ "id": [1, 2] }),
        ),
        (
            "query($id: ID!) { customer(id: $id) { id } }".into(),
            json!({ "id": "x".repeat(100_000) }),
        ),
        (
            "query($f: Int) { customers(first: $f) { totalCount } }".into(),
            json!({ "f": "ten" }),
        ),
        (
            "query($f: Int) { customers(first: $f) { totalCount } }".into(),
            json!({ "f": 99999999999i64 }),
        ),
    ];
    for (query, variables) in &queries {
        let (status, body) = app
            .post_raw(
                Some(&auth),
                json!({ "query": query, "variables": variables }),
            )
            .await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{query}: {status}"
        );
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>");
        assert!(
            [
                "BAD_USER_INPUT",
                "QUERY_TOO_DEEP",
                "QUERY_TOO_COMPLEX",
                "QUERY_TOO_LARGE",
                "GRAPHQL_PARSE_FAILED",
                "GRAPHQL_VALIDATION_FAILED"
            ]
            .contains(&code),
            "{query}: {body}"
        );
    }
    let (_, body) = app
        .post_raw(
            Some(&auth),
            json!({ "query": "query A { me { subject } }", "operationName": "B" }),
        )
        .await;
    assert_eq!(
        code(&body),
        "GRAPHQL_VALIDATION_FAILED",
        "unknown operation: {body}"
    );

    // Money and months that are not plain money and months.
    for amount in [
        "1e3",
        "NaN",
        "0.001",
        "99999999999999999999999999999",
        "12,50",
        " 1.00",
        "Infinity",
    ] {
        let mut input = deal(&alpine.id, "15000.00");
        input["estimatedAcr"] = json!(amount);
        let body = app
            .gql(Some(&contoso.user), SUBMIT, json!({ "input": input }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{amount}: {body}");
    }
    let mut input = deal(&alpine.id, "15000.00");
    input["estimatedAcr"] = json!("-0");
    let body = app
        .gql(Some(&contoso.user), SUBMIT, json!({ "input": input }))
        .await;
    assert_eq!(
        user_error_codes(&body["data"]["submitAcoRequest"]),
        ["DEAL_BELOW_MINIMUM"],
        "-0 is zero: {body}"
    );
    for month in ["2027-13", "2027-00", "27-01", "2027-1", "January"] {
        let body = app
            .gql(Some(&contoso.admin), "mutation($input: RecordMonthlyUsageInput!) { recordMonthlyUsage(input: $input) { changed } }",
                json!({ "input": { "customerId": alpine.id, "month": month, "firstPartyAcr": "1.00", "thirdPartyCharges": "0.00" } }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{month}: {body}");
    }
    // Ids of the wrong type, and tampered cursors.
    let body = app
        .gql(
            Some(&contoso.user),
            "query($id: ID!) { acoRequest(id: $id) { id } }",
            json!({ "id": alpine.id }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let data = app
        .ok(
            &contoso.user,
            "{ customers(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let mut cursor = data["customers"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    cursor.insert(3, 'Z');
    let body = app
        .gql(
            Some(&contoso.user),
            "query($a: String) { customers(after: $a) { totalCount } }",
            json!({ "a": cursor }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");

    still_answers(app).await;
    let data = app.ok(&contoso.user, "{ me { subject } }", json!({})).await;
    assert_eq!(data["me"]["subject"], "user@Contoso");
}
