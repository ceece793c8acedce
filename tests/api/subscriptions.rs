//! Live updates: GraphQL subscriptions over a WebSocket
//! (`graphql-transport-ws`), authenticated in `connection_init`, scoped and
//! gated as queries are.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The app's router served on loopback: its base address.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("ws://{address}/graphql")
}

/// A connection, initialised with `token` (if any): the socket and the
/// server's answer to `connection_init`.
async fn connect(url: &str, token: Option<&str>) -> (Socket, Value) {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let answer = receive(&mut socket).await;
    (socket, answer)
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next message (pings answered), within 10 s; `Null` when closed.
async fn receive(socket: &mut Socket) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s");
        match next {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] == "ping" {
                    send(socket, json!({ "type": "pong" })).await;
                    continue;
                }
                return message;
            }
            Some(Ok(Message::Close(frame))) => {
                return json!({ "closed": frame.map(|f| u16::from(f.code)) });
            }
            Some(Ok(_)) => continue,
            _ => return Value::Null,
        }
    }
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
}

/// No message within `ms` milliseconds (else the message, to show).
async fn quiet(socket: &mut Socket, ms: u64) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_millis(ms), socket.next()).await {
        Err(_) => Ok(()),
        Ok(message) => Err(format!("{message:?}")),
    }
}

/// The code of a refusal: async-graphql answers an operation that does not
/// run with a `next` message holding the errors, then `complete`.
fn refusal_code(message: &Value) -> &str {
    assert_eq!(message["type"], json!("next"), "{message}");
    assert_eq!(message["payload"]["data"], Value::Null, "{message}");
    message["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn role_3_events_arrive_live_and_each_subscriber_sees_only_its_own() {
    let world = World::new();
    let url = serve(&world.app).await;
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    // What came before is not news (PostgreSQL: once below the feed's horizon).
    settle().await;
    let (mut ours, ack) = connect(&url, Some(&partner.admin)).await;
    assert_eq!(ack["type"], json!("connection_ack"), "{ack}");
    let (mut theirs, _) = connect(&url, Some(&rival.admin)).await;
    const EVENTS: &str = "subscription($types: [EventType!]) { events(types: $types) { type objectId actorRole cursor } }";
    subscribe(
        &mut ours,
        "1",
        EVENTS,
        json!({ "types": ["CUSTOMER_CREATED"] }),
    )
    .await;
    subscribe(&mut theirs, "1", EVENTS, json!({})).await;
    // Subscriptions start at once; give the server a moment to register them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let customer = world.customer(&partner, "Fabrikam").await;
    let next = receive(&mut ours).await;
    assert_eq!(next["type"], json!("next"), "{next}");
    let event = &next["payload"]["data"]["events"];
    assert_eq!(
        (&event["type"], &event["objectId"], &event["actorRole"]),
        (
            &json!("CUSTOMER_CREATED"),
            &json!(customer.id),
            &json!("PARTNER_ADMIN")
        )
    );
    // Its cursor resumes the feed right after it.
    settle().await;
    let (after, _) = crate::events::feed(
        &world.app,
        &partner.admin,
        Some(event["cursor"].as_str().unwrap().to_owned()),
        100,
        None,
    )
    .await;
    assert_eq!(after[0]["type"], json!("RELATIONSHIP_CREATED"), "{after:?}");
    // The rival hears nothing of it; its own change it does hear.
    quiet(&mut theirs, 1_500).await.unwrap();
    let own = world.customer(&rival, "Northwind").await;
    let next = receive(&mut theirs).await;
    assert_eq!(next["payload"]["data"]["events"]["objectId"], json!(own.id));
    // Completed by the client: nothing more.
    send(&mut ours, json!({ "id": "1", "type": "complete" })).await;
    assert_eq!(
        receive(&mut ours).await,
        json!({ "type": "complete", "id": "1" })
    );
    world.customer(&partner, "Tailspin").await;
    quiet(&mut ours, 1_500).await.unwrap();
}

#[tokio::test]
async fn a_request_s_changes_reach_those_who_may_see_it() {
    let world = World::new();
    let url = serve(&world.app).await;
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    let customer = world.eligible_customer(&partner, "Fabrikam").await;
    let request = world.submitted(&partner, &customer, None).await;
    settle().await;
    const CHANGED: &str =
        "subscription($id: ID!) { acoRequestChanged(id: $id) { id status version } }";
    let (mut ours, _) = connect(&url, Some(&partner.user)).await;
    subscribe(&mut ours, "a", CHANGED, json!({ "id": request.id })).await;
    let (mut theirs, _) = connect(&url, Some(&rival.user)).await;
    subscribe(&mut theirs, "a", CHANGED, json!({ "id": request.id })).await;
    assert_eq!(refusal_code(&receive(&mut theirs).await), "NOT_FOUND");
    tokio::time::sleep(Duration::from_millis(200)).await;
    world.approved(&request).await;
    // Each change, or changes that landed together as one answer: the
    // request as it is then, in order, until it reaches Operations.
    let order = ["CHANNEL_REVIEW", "FINANCE_REVIEW", "OPERATIONS_REVIEW"];
    let mut seen: Vec<usize> = Vec::new();
    while seen.last() != Some(&2) {
        let next = receive(&mut ours).await;
        assert_eq!(next["type"], json!("next"), "{next}");
        let status = next["payload"]["data"]["acoRequestChanged"]["status"].clone();
        let at = order.iter().position(|s| status == json!(s)).unwrap();
        assert!(
            seen.last().is_none_or(|last| *last < at),
            "{seen:?} then {status}"
        );
        seen.push(at);
    }
}

#[tokio::test]
async fn subscriptions_are_authenticated_gated_and_limited() {
    let world = World::new();
    let url = serve(&world.app).await;
    // No token: the connection is refused at its init.
    let (_, refused) = connect(&url, None).await;
    assert_ne!(refused["type"], json!("connection_ack"), "{refused}");
    // A token that does not verify: the connection is refused.
    let (_, refused) = connect(&url, Some("not.a.token")).await;
    assert_ne!(refused["type"], json!("connection_ack"), "{refused}");

    let (mut socket, _) = connect(&url, Some(&world.admin)).await;
    // Queries and mutations go over HTTP.
    subscribe(&mut socket, "q", "{ me { subject } }", json!({})).await;
    assert_eq!(refusal_code(&receive(&mut socket).await), "BAD_USER_INPUT");
    assert_eq!(
        receive(&mut socket).await,
        json!({ "type": "complete", "id": "q" })
    );
    // Too deep for the limits: refused before it runs.
    let deep = format!(
        "subscription {{ acoRequestChanged(id: \"req_0\") {{ {} }} }}",
        "customer { partners { nodes { customers { nodes { ".repeat(4)
            + "id"
            + &" } } } } }".repeat(4)
    );
    subscribe(&mut socket, "deep", &deep, json!({})).await;
    let refused = receive(&mut socket).await;
    assert_eq!(refused["id"], json!("deep"));
    assert_eq!(refusal_code(&refused), "QUERY_TOO_DEEP");
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deep"),
        "{refused}"
    );
    assert_eq!(
        receive(&mut socket).await,
        json!({ "type": "complete", "id": "deep" })
    );
    // At most ten at once on one connection.
    for i in 0..10 {
        subscribe(
            &mut socket,
            &format!("s{i}"),
            "subscription { events { type } }",
            json!({}),
        )
        .await;
    }
    subscribe(
        &mut socket,
        "eleventh",
        "subscription { events { type } }",
        json!({}),
    )
    .await;
    let refused = receive(&mut socket).await;
    assert_eq!(refused["id"], json!("eleventh"), "{refused}");
    assert!(
        refused["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10"),
        "{refused}"
    );

    // Plain HTTP without the protocol: not upgraded.
    let plain = reqwest_free_get(&url.replace("ws://", "http://")).await;
    assert!(
        plain.contains("200") || plain.contains("406") || plain.contains("404"),
        "{plain}"
    );
}

/// A plain GET of `url` without an upgrade: its status line.
async fn reqwest_free_get(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!("GET /graphql HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn subscriptions_end_when_the_connection_s_token_expires() {
    let world = World::new();
    let url = serve(&world.app).await;
    let short = mint(
        PROGRAM_TENANT,
        &[aco_api::domain::Role::ProgramAdmin],
        "short-lived",
        aco_api::config::dev::ISSUER,
        aco_api::config::dev::AUDIENCE,
        0,
        2,
    );
    let (mut socket, ack) = connect(&url, Some(&short)).await;
    assert_eq!(ack["type"], json!("connection_ack"), "{ack}");
    subscribe(
        &mut socket,
        "1",
        "subscription { events { type } }",
        json!({}),
    )
    .await;
    // The token's two seconds run out: the subscription is complete.
    let started = std::time::Instant::now();
    assert_eq!(
        receive(&mut socket).await,
        json!({ "type": "complete", "id": "1" })
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // And nothing new runs on the connection.
    subscribe(
        &mut socket,
        "2",
        "subscription { events { type } }",
        json!({}),
    )
    .await;
    assert_eq!(refusal_code(&receive(&mut socket).await), "UNAUTHENTICATED");
}
