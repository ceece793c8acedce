//! Webhooks: subscriptions managed by their owners, deliveries signed as
//! Standard Webhooks asks, retried until the endpoint takes them, and sent
//! only what the owner may see.

use std::sync::{Arc, Mutex};

use aco_api::webhooks::signature::{Secret, verify};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::support::*;

/// One request a receiver took.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn envelope(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A receiver on loopback: answers `failures` requests with 500 first, then 204.
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

struct Inbox {
    seen: Arc<Mutex<Vec<Received>>>,
    failures: Mutex<usize>,
}

async fn take(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    inbox.seen.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        body,
    });
    let mut failures = inbox.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

impl Receiver {
    pub async fn start(failures: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::on(listener, failures)
    }

    pub fn on(listener: tokio::net::TcpListener, failures: usize) -> Receiver {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let inbox = Arc::new(Inbox {
            seen: seen.clone(),
            failures: Mutex::new(failures),
        });
        let router = axum::Router::new()
            .route("/hooks", post(take))
            .with_state(inbox);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, seen }
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

const CREATE: &str = "mutation($input: CreateWebhookSubscriptionInput!) {
    createWebhookSubscription(input: $input) {
        webhookSubscription { id version url eventTypes enabled previousSecretExpiresAt }
        secret
        userErrors { code message field }
    }
}";

/// Registers `url` for `types` as `token`'s owner: its id and secret.
pub async fn subscribe(app: &TestApp, token: &str, url: &str, types: Value) -> (String, String) {
    let data = app
        .ok(
            token,
            CREATE,
            json!({ "input": { "url": url, "eventTypes": types } }),
        )
        .await;
    let payload = &data["createWebhookSubscription"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    (
        payload["webhookSubscription"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload["secret"].as_str().unwrap().to_owned(),
    )
}

/// The app's deliverer, run until nothing is due or fans out (the local
/// server runs it on its own).
pub async fn deliver(app: &TestApp) {
    let db = open_store(&app.config);
    let deliverer = aco_api::jobs::deliverer(db, &app.config);
    deliverer
        .drain(std::time::Duration::from_secs(10))
        .await
        .unwrap();
}

/// Delivers until `done` holds or `seconds` pass (retries fall due later).
pub async fn deliver_until(app: &TestApp, seconds: u64, done: impl Fn() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done() {
        assert!(
            std::time::Instant::now() < until,
            "not delivered within {seconds} s"
        );
        deliver(app).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn verified(secret: &str, r: &Received) -> bool {
    verify(
        &Secret::parse(secret).unwrap(),
        &r.id,
        r.timestamp,
        r.body.as_bytes(),
        &r.signature,
    )
}

const ALL_TYPES: &[&str] = &[
    "CUSTOMER_CREATED",
    "RELATIONSHIP_CREATED",
    "CUSTOMER_UPDATED",
    "PARTNER_CREATED",
];

#[tokio::test]
async fn role_3_deliveries_are_signed_and_each_owner_gets_only_what_it_may_see() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    let (ours, theirs, programme) = (
        Receiver::start(0).await,
        Receiver::start(0).await,
        Receiver::start(0).await,
    );
    let (_, our_secret) = subscribe(&world.app, &partner.admin, &ours.url, json!(ALL_TYPES)).await;
    let (_, their_secret) =
        subscribe(&world.app, &rival.admin, &theirs.url, json!(ALL_TYPES)).await;
    let (_, programme_secret) =
        subscribe(&world.app, &world.admin, &programme.url, json!(ALL_TYPES)).await;
    let mine = world.customer(&partner, "Fabrikam").await;
    let other = world.customer(&rival, "Northwind").await;
    deliver_until(&world.app, 10, || {
        ours.received().len() >= 2
            && theirs.received().len() >= 2
            && programme.received().len() >= 4
    })
    .await;
    deliver(&world.app).await;

    let objects = |r: &Receiver| -> Vec<(String, String)> {
        r.received()
            .iter()
            .map(|m| {
                let e = m.envelope();
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["objectId"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let our_objects = objects(&ours);
    assert_eq!(our_objects.len(), 2, "{our_objects:?}");
    assert_eq!(our_objects[0], ("CUSTOMER_CREATED".into(), mine.id.clone()));
    assert_eq!(our_objects[1].0, "RELATIONSHIP_CREATED");
    let their_objects = objects(&theirs);
    assert_eq!(their_objects.len(), 2, "{their_objects:?}");
    assert_eq!(
        their_objects[0],
        ("CUSTOMER_CREATED".into(), other.id.clone())
    );
    assert_eq!(objects(&programme).len(), 4);

    for (receiver, secret) in [
        (&ours, &our_secret),
        (&theirs, &their_secret),
        (&programme, &programme_secret),
    ] {
        for message in receiver.received() {
            assert!(message.id.starts_with("msg_"), "{message:?}");
            assert!(verified(secret, &message), "{message:?}");
            assert!(!verified(&our_secret, &message) || secret == &our_secret);
            let envelope = message.envelope();
            assert!(envelope["id"].as_str().unwrap().starts_with("evt_"));
            assert_eq!(envelope["schemaVersion"], json!(1));
        }
    }
}

const DELIVERIES: &str = "query($id: ID!) {
    webhookDeliveries(subscriptionId: $id) {
        nodes { id eventType status attempts nextAttemptAt deliveredAt
                event { id type } attemptLog { attempt statusCode error durationMs } }
    }
}";

#[tokio::test]
async fn a_failing_endpoint_gets_the_event_later_with_the_same_id() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    // Answers 500 twice, then takes it.
    let flaky = Receiver::start(2).await;
    // Nothing listens at first.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let down = format!("http://{address}/hooks");
    let (flaky_id, _) = subscribe(
        &world.app,
        &partner.admin,
        &flaky.url,
        json!(["CUSTOMER_CREATED"]),
    )
    .await;
    let (down_id, down_secret) = subscribe(
        &world.app,
        &partner.admin,
        &down,
        json!(["CUSTOMER_CREATED"]),
    )
    .await;
    world.customer(&partner, "Fabrikam").await;
    settle().await;
    deliver(&world.app).await;
    let data = world
        .app
        .ok(&partner.admin, DELIVERIES, json!({ "id": down_id }))
        .await;
    let delivery = &data["webhookDeliveries"]["nodes"][0];
    assert_eq!(delivery["status"], json!("PENDING"), "{delivery}");
    assert_eq!(delivery["attempts"], json!(1));
    assert!(
        delivery["attemptLog"][0]["error"].as_str().is_some(),
        "{delivery}"
    );
    // The endpoint comes up; the retry reaches it.
    let up = Receiver::on(tokio::net::TcpListener::bind(address).await.unwrap(), 0);
    deliver_until(&world.app, 20, || {
        !up.received().is_empty() && flaky.received().len() >= 3
    })
    .await;
    let message = &up.received()[0];
    assert!(verified(&down_secret, message));
    assert_eq!(message.id, delivery["id"].as_str().unwrap());
    // Three attempts at the flaky one, all with the same webhook-id.
    let attempts = flaky.received();
    assert!(attempts.iter().all(|m| m.id == attempts[0].id));
    let data = world
        .app
        .ok(&partner.admin, DELIVERIES, json!({ "id": flaky_id }))
        .await;
    let delivery = &data["webhookDeliveries"]["nodes"][0];
    assert_eq!(delivery["status"], json!("SUCCEEDED"), "{delivery}");
    assert_eq!(delivery["attempts"], json!(3));
    assert_eq!(delivery["event"]["type"], json!("CUSTOMER_CREATED"));
    let codes: Vec<Value> = delivery["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].clone())
        .collect();
    assert_eq!(codes, [json!(500), json!(500), json!(204)]);

    // Redelivered on request: the same webhook-id once more.
    let data = world
        .app
        .ok(
            &partner.admin,
            "mutation($input: RedeliverWebhookDeliveryInput!) { redeliverWebhookDelivery(input: $input) { webhookDelivery { status } userErrors { code } } }",
            json!({ "input": { "id": delivery["id"] } }),
        )
        .await;
    assert_eq!(
        data["redeliverWebhookDelivery"]["webhookDelivery"]["status"],
        json!("PENDING")
    );
    deliver_until(&world.app, 10, || flaky.received().len() >= 4).await;
    assert_eq!(flaky.received()[3].id, attempts[0].id);
    // Another partner cannot see or redeliver it.
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    let body = world
        .app
        .gql(
            Some(&rival.admin),
            "mutation($input: RedeliverWebhookDeliveryInput!) { redeliverWebhookDelivery(input: $input) { userErrors { code } } }",
            json!({ "input": { "id": delivery["id"] } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}

#[tokio::test]
async fn owners_manage_their_subscriptions_and_nobody_else_sees_them() {
    let world = World::new();
    let partner = world.signed_partner("Contoso", "DIRECT_BILL").await;
    let rival = world.signed_partner("Rival", "DIRECT_BILL").await;
    let receiver = Receiver::start(0).await;
    let (id, secret) = subscribe(
        &world.app,
        &partner.admin,
        &receiver.url,
        json!(["CUSTOMER_CREATED"]),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    const ONE: &str =
        "query($id: ID!) { webhookSubscription(id: $id) { id version eventTypes enabled } }";
    let data = world.app.ok(&partner.admin, ONE, json!({ "id": id })).await;
    assert_eq!(data["webhookSubscription"]["version"], json!(1));
    // Another partner's admin: not found; a partner user: not allowed.
    let body = world
        .app
        .gql(Some(&rival.admin), ONE, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = world
        .app
        .gql(Some(&partner.user), ONE, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let data = world
        .app
        .ok(
            &rival.admin,
            "{ webhookSubscriptions { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["webhookSubscriptions"]["nodes"], json!([]));

    // Endpoints that are not public are refused, whatever the mode.
    for url in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hooks",
        "https://[fd00:ec2::254]/",
        "ftp://example.com/hooks",
        "https://user:pass@example.com/hooks",
    ] {
        let data = world
            .app
            .ok(
                &partner.admin,
                CREATE,
                json!({ "input": { "url": url, "eventTypes": ["CUSTOMER_CREATED"] } }),
            )
            .await;
        let errors = &data["createWebhookSubscription"]["userErrors"];
        assert_eq!(
            errors[0]["code"],
            json!("WEBHOOK_ENDPOINT_REFUSED"),
            "{url}: {errors}"
        );
        assert_eq!(errors[0]["field"], json!(["input", "url"]));
    }

    // Updated at a stale version: a conflict; at the right one: done.
    const UPDATE: &str = "mutation($input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(input: $input) { webhookSubscription { version enabled eventTypes } userErrors { code field } } }";
    let data = world
        .app
        .ok(
            &partner.admin,
            UPDATE,
            json!({ "input": { "id": id, "version": 7, "enabled": false } }),
        )
        .await;
    assert_eq!(
        data["updateWebhookSubscription"]["userErrors"][0]["code"],
        json!("CONFLICT")
    );
    let data = world
        .app
        .ok(
            &partner.admin,
            UPDATE,
            json!({ "input": { "id": id, "version": 1, "enabled": false, "eventTypes": ["CUSTOMER_UPDATED", "CUSTOMER_CREATED", "CUSTOMER_UPDATED"] } }),
        )
        .await;
    let updated = &data["updateWebhookSubscription"]["webhookSubscription"];
    assert_eq!(updated["version"], json!(2));
    assert_eq!(updated["enabled"], json!(false));
    assert_eq!(
        updated["eventTypes"],
        json!(["CUSTOMER_CREATED", "CUSTOMER_UPDATED"])
    );

    // A new secret; the old one signs beside it for a day.
    let data = world
        .app
        .ok(
            &partner.admin,
            "mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { secret webhookSubscription { version previousSecretExpiresAt } userErrors { code } } }",
            json!({ "input": { "id": id, "version": 2 } }),
        )
        .await;
    let rotated = &data["rotateWebhookSecret"];
    let fresh = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    assert!(
        rotated["webhookSubscription"]["previousSecretExpiresAt"]
            .as_str()
            .is_some()
    );
    // Enabled again: a delivery is signed with both secrets.
    world
        .app
        .ok(
            &partner.admin,
            UPDATE,
            json!({ "input": { "id": id, "version": 3, "enabled": true } }),
        )
        .await;
    world.customer(&partner, "Fabrikam").await;
    deliver_until(&world.app, 10, || !receiver.received().is_empty()).await;
    let message = &receiver.received()[0];
    assert!(verified(&fresh, message) && verified(&secret, message));
    assert_eq!(message.signature.split(' ').count(), 2);

    // The changes are the subscription's history, and its owner's events.
    settle().await;
    let (events, _) = crate::events::feed(
        &world.app,
        &partner.admin,
        None,
        100,
        Some(json!(["WEBHOOK_SUBSCRIPTION_CHANGED"])),
    )
    .await;
    assert_eq!(events.len(), 4, "{events:?}");
    let (theirs, _) = crate::events::feed(
        &world.app,
        &rival.admin,
        None,
        100,
        Some(json!(["WEBHOOK_SUBSCRIPTION_CHANGED"])),
    )
    .await;
    assert_eq!(theirs, Vec::<Value>::new());

    // Deleted: gone, and sent nothing more.
    let data = world
        .app
        .ok(
            &partner.admin,
            "mutation($input: DeleteWebhookSubscriptionInput!) { deleteWebhookSubscription(input: $input) { deletedWebhookSubscriptionId userErrors { code } } }",
            json!({ "input": { "id": id, "version": 4 } }),
        )
        .await;
    assert_eq!(
        data["deleteWebhookSubscription"]["deletedWebhookSubscriptionId"],
        json!(id)
    );
    world.customer(&partner, "Northwind").await;
    settle().await;
    deliver(&world.app).await;
    assert_eq!(receiver.received().len(), 1);
}
