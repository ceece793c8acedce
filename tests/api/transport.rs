//! HTTP transport (API.md "Transport", "Errors"), input validation, and
//! durability across restarts.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = TestApp::new();
    let (status, body, _) = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));
    let (status, body, _) = app
        .send(Request::get("/livez").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let app = TestApp::new();
    let post = |content_type: &'static str, body: &'static [u8]| {
        Request::post("/graphql")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    for (request, status) in [
        (
            post("application/json", b"{not json"),
            StatusCode::BAD_REQUEST,
        ),
        (post("application/json", b""), StatusCode::BAD_REQUEST),
        (
            post("application/json", b"[{\"query\":\"{ __typename }\"}]"),
            StatusCode::BAD_REQUEST,
        ),
        (
            post("application/json", b"{\"variables\": 3}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            post("application/json", b"\xff\xfe{}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            post("text/plain", b"{\"query\":\"{ __typename }\"}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let (got, body, _) = app.send(request).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    }
    // The service still answers normally.
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn mutations_over_get_are_405_and_queries_work() {
    let world = World::new();
    let uri = format!("/graphql?query={}", "mutation%20%7B%20__typename%20%7D");
    let (status, body, headers) = world
        .app
        .send(Request::get(uri).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(headers["allow"], "POST");

    let uri = "/graphql?query=%7B%20me%20%7B%20isProgram%20%7D%20%7D";
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {}", world.admin))
        .body(Body::empty())
        .unwrap();
    let (status, body, _) = world.app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["me"]["isProgram"], true);
}

#[tokio::test]
async fn bad_user_input_names_the_field() {
    let world = World::new();
    let app = &world.app;
    let cases = [
        (
            json!({ "tenantId": "not-a-guid" }),
            vec!["input", "tenantId"],
        ),
        (json!({ "country": "USA" }), vec!["input", "country"]),
        (json!({ "domain": "localhost" }), vec!["input", "domain"]),
        (
            json!({ "companyName": "   " }),
            vec!["input", "companyName"],
        ),
        (
            json!({ "companyName": "x".repeat(300) }),
            vec!["input", "companyName"],
        ),
        (
            json!({ "billingProfile": { "email": "nope" } }),
            vec!["input", "billingProfile", "email"],
        ),
        (
            json!({ "billingProfile": { "defaultAddress": { "country": "United States" } } }),
            vec!["input", "billingProfile", "defaultAddress", "country"],
        ),
    ];
    for (patch, field) in cases {
        let mut input = customer_input(&new_tenant(), "Alpine");
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app
            .gql(
                Some(&world.admin),
                CREATE_CUSTOMER,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            json!(field),
            "{body}"
        );
    }
    // An enum value that is not one of DOMAIN's, and a wrong variable type.
    let mut input = customer_input(&new_tenant(), "Alpine");
    input["segment"] = json!("MEDIUM");
    let body = app
        .gql(
            Some(&world.admin),
            CREATE_CUSTOMER,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .gql(
            Some(&world.admin),
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": { "x": 1 } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        app.ok(&world.admin, "{ customers { totalCount } }", json!({}))
            .await["customers"]["totalCount"],
        0
    );
}

#[tokio::test]
async fn ids_and_cursors_are_validated_never_trusted() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let app = &world.app;
    for (query, vars) in [
        (
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": "garbage" }),
        ),
        (
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": contoso.id }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "cus_' OR 1=1 --" }),
        ),
        (
            "query($a: String) { customers(after: $a) { totalCount } }",
            json!({ "a": "bm90LWEtY3Vyc29y" }),
        ),
        (
            "query($a: String) { customers(after: $a) { totalCount } }",
            json!({ "a": "%%%" }),
        ),
        ("{ customers(first: 101) { totalCount } }", json!({})),
        ("{ customers(first: -1) { totalCount } }", json!({})),
        ("{ customers(first: 1, last: 1) { totalCount } }", json!({})),
    ] {
        let body = app.gql(Some(&world.admin), query, vars).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{query}: {body}");
    }
    // A partner's cursor given to the customer list is refused too.
    let data = app
        .ok(
            &world.admin,
            "{ partners(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    let cursor = data["partners"]["edges"][0]["cursor"].clone();
    let body = app
        .gql(
            Some(&world.admin),
            "query($a: String) { customers(after: $a) { totalCount } }",
            json!({ "a": cursor }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn lists_page_forwards_and_backwards_with_total_count() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(world.customer(&contoso, &format!("Customer {i}")).await.id);
    }
    let app = &world.app;
    const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) { customers(first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(&contoso.user, PAGE, json!({ "first": 2, "after": after }))
            .await;
        let page = &data["customers"];
        assert_eq!(page["totalCount"], 5);
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !seen.is_empty());
        seen.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids);

    let data = app.ok(&contoso.user, PAGE, json!({ "last": 2 })).await;
    assert_eq!(
        data["customers"]["nodes"],
        json!([{ "id": ids[3] }, { "id": ids[4] }])
    );
    assert_eq!(data["customers"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(data["customers"]["pageInfo"]["hasNextPage"], false);
    let before = data["customers"]["pageInfo"]["startCursor"].clone();
    let data = app
        .ok(&contoso.user, PAGE, json!({ "last": 2, "before": before }))
        .await;
    assert_eq!(
        data["customers"]["nodes"],
        json!([{ "id": ids[1] }, { "id": ids[2] }])
    );
    assert_eq!(data["customers"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_file() {
    let world = World::new();
    let contoso = world.partner("Contoso", "DIRECT_BILL").await;
    let alpine = world.customer(&contoso, "Alpine").await;
    let World { app, admin } = world;
    let app = app.restart();
    let data = app
        .ok(&contoso.user, "query($id: ID!) { customer(id: $id) { companyName relationships { nodes { status } } } }", json!({ "id": alpine.id }))
        .await;
    assert_eq!(data["customer"]["companyName"], "Alpine");
    assert_eq!(
        data["customer"]["relationships"]["nodes"],
        json!([{ "status": "ACTIVE" }])
    );
    let data = app
        .ok(&admin, "{ partners { totalCount } }", json!({}))
        .await;
    assert_eq!(data["partners"]["totalCount"], 1);
}

#[tokio::test]
async fn an_oversized_body_is_413_with_a_code() {
    let app = TestApp::new();
    let body = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"x\": \"{}\"}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, body, _) = app.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&body), "QUERY_TOO_LARGE");
    assert_eq!(
        app.gql(None, "{ __typename }", json!({})).await["data"]["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn answers_are_json_in_the_media_type_the_client_accepts() {
    let app = TestApp::new();
    let ask = |accept: Option<&'static str>| {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request
            .body(Body::from(r#"{"query":"{ __typename }"}"#))
            .unwrap()
    };
    for (accept, media_type) in [
        (None, "application/json"),
        (Some("application/json"), "application/json"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "application/graphql-response+json",
        ),
    ] {
        let (status, body, headers) = app.send(ask(accept)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(headers["content-type"], media_type, "accept {accept:?}");
        assert_eq!(body, json!({ "data": { "__typename": "Query" } }));
    }
}

/// Request errors (GraphQL over HTTP): a document that does not parse or
/// does not validate is refused with its own code and a one-line message,
/// without a `data` entry; `400` for clients of the newer media type, `200`
/// for plain JSON clients.
#[tokio::test]
async fn documents_that_do_not_parse_or_validate_are_request_errors() {
    let app = TestApp::new();
    let token = app.token(PROGRAM_TENANT, &[aco_api::domain::Role::Plsr], "plsr");
    let ask = |accept: &'static str, query: &str| {
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .header("accept", accept)
            .body(Body::from(json!({ "query": query }).to_string()))
            .unwrap()
    };
    for (query, wanted) in [
        ("{ me { roles ", "GRAPHQL_PARSE_FAILED"),
        ("query { me { roles } } }", "GRAPHQL_PARSE_FAILED"),
        ("{ me { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query A { __typename } query A { __typename }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        for (accept, status) in [
            ("application/graphql-response+json", StatusCode::BAD_REQUEST),
            ("application/json", StatusCode::OK),
        ] {
            let (got, body, headers) = app.send(ask(accept, query)).await;
            assert_eq!(got, status, "{query} ({accept}): {body}");
            assert_eq!(headers["content-type"], accept);
            assert_eq!(code(&body), wanted, "{query}: {body}");
            assert!(body.get("data").is_none(), "no data entry: {body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                !message.contains('\n') && !message.contains('^'),
                "{message}"
            );
        }
    }
    let (_, body, _) = app.send(ask("application/json", "{ me { roles ")).await;
    assert_eq!(
        body["errors"][0]["message"],
        "the query does not parse at line 1, column 14: expected selection_set, selection, directive, or arguments",
    );
    assert_eq!(
        body["errors"][0]["locations"],
        json!([{ "line": 1, "column": 14 }])
    );
}

/// A lookup the caller may not see, or that does not exist, is `null` at its
/// key (its alias, if any) with a `NOT_FOUND` error whose path names it; the
/// other fields of the answer stay.
#[tokio::test]
async fn a_lookup_not_found_is_null_at_its_key_and_the_rest_of_the_answer_stays() {
    let app = TestApp::new();
    let token = app.token(PROGRAM_TENANT, &[aco_api::domain::Role::Plsr], "plsr");
    let query = r#"{
        me { roles }
        p: partner(id: "prt_0000000000007000800000000000dead") { id }
        customer(id: "cus_0000000000007000800000000000dead") { id }
        acoRequest(id: "req_0000000000007000800000000000dead") { id }
        node(id: "req_0000000000007000800000000000dead") { id }
    }"#;
    let body = app.gql(Some(&token), query, json!({})).await;
    assert_eq!(
        body["data"],
        json!({ "me": { "roles": ["PLSR"] }, "p": null, "customer": null, "acoRequest": null, "node": null }),
        "{body}"
    );
    let mut paths: Vec<Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["extensions"]["code"], "NOT_FOUND", "{e}");
            e["path"].clone()
        })
        .collect();
    paths.sort_by_key(|p| p.to_string());
    assert_eq!(
        paths,
        vec![
            json!(["acoRequest"]),
            json!(["customer"]),
            json!(["node"]),
            json!(["p"])
        ]
    );
}

/// A CORS preflight for a POST with the headers a browser SDK adds.
async fn preflight(app: &TestApp, origin: &str) -> axum::http::HeaderMap {
    let request = Request::options("/graphql")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, traceparent",
        )
        .body(Body::empty())
        .unwrap();
    app.send(request).await.2
}

#[tokio::test]
async fn cors_accepts_any_origin_with_a_wildcard() {
    let app = TestApp::configured(|c| {
        c.dev = false;
        c.cors_origins = vec!["*".into()];
    });
    let headers = preflight(&app, "https://app.example.com").await;
    assert_eq!(headers["access-control-allow-origin"], "*");
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed.contains("traceparent") && allowed.contains("baggage"),
        "{allowed}"
    );
    assert!(headers.get("access-control-allow-credentials").is_none());
    let request = Request::post("/graphql")
        .header("origin", "https://app.example.com")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"query": "{ __typename }"}"#))
        .unwrap();
    let (_, _, headers) = app.send(request).await;
    assert_eq!(headers["access-control-expose-headers"], "x-request-id");
}

#[tokio::test]
async fn cors_in_dev_mode_allows_this_machine_and_nobody_else() {
    let app = TestApp::new();
    for origin in [
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://localhost",
    ] {
        let headers = preflight(&app, origin).await;
        assert_eq!(headers["access-control-allow-origin"], origin);
    }
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1:80x",
    ] {
        let headers = preflight(&app, origin).await;
        assert!(
            headers.get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
    // Outside dev mode nothing is allowed unless listed.
    let app = TestApp::configured(|c| c.dev = false);
    let headers = preflight(&app, "http://localhost:5173").await;
    assert!(headers.get("access-control-allow-origin").is_none());
    let app = TestApp::configured(|c| c.cors_origins = vec!["https://app.example.com".into()]);
    assert_eq!(
        preflight(&app, "https://app.example.com").await["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        preflight(&app, "http://localhost:5173")
            .await
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[test]
fn malformed_cors_origins_are_refused_at_start() {
    use clap::Parser;
    for (origins, ok) in [
        ("*", true),
        ("https://app.example.com,http://localhost:5173", true),
        ("https://app.example.com/", false),
        ("app.example.com", false),
        ("https://app.example.com/path", false),
    ] {
        let cli = aco_api::config::Cli::try_parse_from([
            "aco-api",
            "serve",
            "--dev",
            "--cors-origins",
            origins,
        ])
        .unwrap();
        let aco_api::config::Command::Serve(args) = cli.command else {
            unreachable!()
        };
        let outcome = aco_api::AppConfig::from_args(&args);
        assert_eq!(outcome.is_ok(), ok, "{origins}: {:?}", outcome.err());
        if let Err(e) = outcome {
            assert!(e.to_string().contains("scheme://host[:port]"), "{e}");
        }
    }
}
