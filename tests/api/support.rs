//! A test world: the real router on a fresh database, real signed tokens, and
//! builders that set up partners and customers through the API itself.

use aco_api::auth::{Secret, TokenRequest, mint_hs256};
use aco_api::config::{AppConfig, dev};
use aco_api::domain::Role;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

pub const PROGRAM_TENANT: &str = dev::PROGRAM_TENANT_ID;

static TENANTS: AtomicU32 = AtomicU32::new(1);

/// A fresh, unique tenant id.
pub fn new_tenant() -> String {
    let n = TENANTS.fetch_add(1, Ordering::Relaxed);
    format!("5e570000-0000-4000-8000-{n:012}")
}

pub struct TestApp {
    pub router: Router,
    pub config: AppConfig,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = AppConfig::for_dev(dir.path().join("aco.db"));
        let router = aco_api::build_app(config.clone()).expect("app");
        TestApp {
            router,
            config,
            dir,
        }
    }

    /// The same database file, opened again by a new app: a restart.
    pub fn restart(self) -> Self {
        let TestApp {
            router,
            config,
            dir,
        } = self;
        drop(router);
        let router = aco_api::build_app(config.clone()).expect("app after restart");
        TestApp {
            router,
            config,
            dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body, headers)
    }

    /// POSTs a GraphQL request with an optional raw Authorization header value.
    pub async fn post_raw(&self, authorization: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut builder = Request::post("/graphql").header("content-type", "application/json");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        let (status, body, _) = self
            .send(builder.body(Body::from(body.to_string())).unwrap())
            .await;
        (status, body)
    }

    /// Runs a query as `token` (or anonymously); the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let auth = token.map(|t| format!("Bearer {t}"));
        let (status, body) = self
            .post_raw(
                auth.as_deref(),
                json!({ "query": query, "variables": variables }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Runs a query that must succeed; its `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub fn token(&self, tenant: &str, roles: &[Role], subject: &str) -> String {
        mint(tenant, roles, subject, dev::ISSUER, dev::AUDIENCE, 0, 600)
    }
}

/// Signs a token with the dev secret; `offset` shifts iat/nbf/exp (seconds).
pub fn mint(
    tenant: &str,
    roles: &[Role],
    subject: &str,
    issuer: &str,
    audience: &str,
    offset: i64,
    ttl: i64,
) -> String {
    mint_hs256(
        &Secret::new(dev::SECRET),
        issuer,
        audience,
        &TokenRequest {
            tenant_id: tenant.to_owned(),
            roles: roles.to_vec(),
            subject: subject.to_owned(),
            name: Some(format!("{subject} name")),
            email: None,
            issued_at: chrono::Utc::now() + chrono::Duration::seconds(offset),
            ttl_seconds: ttl,
        },
    )
    .expect("token")
}

/// The first error's `extensions.code`.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// The codes of a payload's userErrors.
pub fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

pub struct PartnerHandle {
    pub id: String,
    pub tenant: String,
    pub admin: String,
    pub user: String,
}

pub struct CustomerHandle {
    pub id: String,
    pub tenant: String,
    pub signer: String,
}

/// The world a test needs, built through the API.
pub struct World {
    pub app: TestApp,
    pub admin: String,
}

pub const CREATE_PARTNER: &str = "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id tenantId partnerType } userErrors { code message field } } }";
pub const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id tenantId } userErrors { code message field } } }";

pub fn customer_input(tenant: &str, name: &str) -> Value {
    json!({
        "tenantId": tenant,
        "domain": format!("{}.example.com", name.to_lowercase().replace(' ', "")),
        "companyName": name,
        "country": "US",
        "segment": "SMB",
        "organizationKind": "COMMERCIAL",
        "billingProfile": {
            "legalName": format!("{name} LLC"),
            "taxId": "91-1234567",
            "registrationNumber": "REG-1",
            "email": "billing@example.com",
            "defaultAddress": { "addressLine1": "1 Main St", "city": "Seattle", "state": "WA", "postalCode": "98101", "country": "US" }
        }
    })
}

impl World {
    pub fn new() -> Self {
        let app = TestApp::new();
        let admin = app.token(PROGRAM_TENANT, &[Role::ProgramAdmin], "program-admin");
        World { app, admin }
    }

    pub async fn partner(&self, name: &str, partner_type: &str) -> PartnerHandle {
        let tenant = new_tenant();
        let data = self
            .app
            .ok(
                &self.admin,
                CREATE_PARTNER,
                json!({ "input": { "tenantId": tenant, "domain": format!("{}.example.com", name.to_lowercase()), "companyName": name, "partnerType": partner_type } }),
            )
            .await;
        let id = data["createPartner"]["partner"]["id"]
            .as_str()
            .expect("partner id")
            .to_owned();
        PartnerHandle {
            admin: self
                .app
                .token(&tenant, &[Role::PartnerAdmin], &format!("admin@{name}")),
            user: self
                .app
                .token(&tenant, &[Role::PartnerUser], &format!("user@{name}")),
            id,
            tenant,
        }
    }

    /// A customer created by `partner`'s admin: with an active relationship to it.
    pub async fn customer(&self, partner: &PartnerHandle, name: &str) -> CustomerHandle {
        let tenant = new_tenant();
        let data = self
            .app
            .ok(
                &partner.admin,
                CREATE_CUSTOMER,
                json!({ "input": customer_input(&tenant, name) }),
            )
            .await;
        let id = data["createCustomer"]["customer"]["id"]
            .as_str()
            .expect("customer id")
            .to_owned();
        CustomerHandle {
            signer: self
                .app
                .token(&tenant, &[Role::CustomerSigner], &format!("signer@{name}")),
            id,
            tenant,
        }
    }

    pub async fn link(&self, reseller: &PartnerHandle, provider: &PartnerHandle) {
        let data = self
            .app
            .ok(
                &self.admin,
                "mutation($input: LinkIndirectResellerInput!) { linkIndirectReseller(input: $input) { userErrors { code } } }",
                json!({ "input": { "resellerId": reseller.id, "providerId": provider.id } }),
            )
            .await;
        assert_eq!(data["linkIndirectReseller"]["userErrors"], json!([]));
    }

    /// `partner` requests a relationship with `customer`, and the customer accepts it.
    pub async fn relate(&self, partner: &PartnerHandle, customer: &CustomerHandle) -> String {
        let data = self
            .app
            .ok(
                &partner.admin,
                "mutation($input: RequestResellerRelationshipInput!) { requestResellerRelationship(input: $input) { relationship { id } userErrors { code } } }",
                json!({ "input": { "customerTenantId": customer.tenant } }),
            )
            .await;
        let id = data["requestResellerRelationship"]["relationship"]["id"]
            .as_str()
            .expect("relationship")
            .to_owned();
        let data = self
            .app
            .ok(
                &customer.signer,
                "mutation($input: AcceptResellerRelationshipInput!) { acceptResellerRelationship(input: $input) { relationship { status } userErrors { code } } }",
                json!({ "input": { "relationshipId": id } }),
            )
            .await;
        assert_eq!(
            data["acceptResellerRelationship"]["relationship"]["status"],
            "ACTIVE"
        );
        id
    }
}
