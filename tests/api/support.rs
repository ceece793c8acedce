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

/// A loopback address with a port nobody listens on, for a server to bind.
pub fn free_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    format!("127.0.0.1:{port}")
}

/// Held by each test that reads [`aco_api::store::statements_run`]: the count
/// is one for the process, so two such tests must not run at once.
pub static COUNTING_STATEMENTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `true` when the suite runs on PostgreSQL: `ACO_TEST_DATABASE_URL` names a
/// database on a server the tests may create databases on
/// (`scripts/postgres.sh`). Each test app then gets a database of its own,
/// a copy of one migrated once per run; without it every app is a SQLite
/// file in a folder of its own.
pub fn on_postgres() -> bool {
    std::env::var_os("ACO_TEST_DATABASE_URL").is_some()
}

/// Says why a test does not run on PostgreSQL (docs/testing.md lists each),
/// and whether it does not: `if support::sqlite_only("…") { return; }`.
/// Waits until what was just written is below the event feed's horizon:
/// at once on SQLite, five seconds on PostgreSQL (`store::events`).
pub async fn settle() {
    if on_postgres() {
        tokio::time::sleep(std::time::Duration::from_millis(5_300)).await;
    }
}

pub fn sqlite_only(why: &str) -> bool {
    if on_postgres() {
        eprintln!("on SQLite only: {why}");
    }
    on_postgres()
}

/// The URL of database `name` on the server of `ACO_TEST_DATABASE_URL`.
fn database_url(name: &str) -> String {
    let url = std::env::var("ACO_TEST_DATABASE_URL").expect("ACO_TEST_DATABASE_URL");
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let (server, _) = base
        .rsplit_once('/')
        .expect("a database in ACO_TEST_DATABASE_URL");
    format!("{server}/{name}?{query}")
}

/// The name of the run's database, which the suite's databases start with.
fn run_database() -> String {
    let url = std::env::var("ACO_TEST_DATABASE_URL").expect("ACO_TEST_DATABASE_URL");
    let base = url.split_once('?').map_or(url.as_str(), |(b, _)| b);
    base.rsplit_once('/').expect("a database").1.to_owned()
}

/// Runs `work` to its end on a runtime of its own, on a thread of its own:
/// from the synchronous set-up of a test app, inside the test's runtime.
fn on_own_runtime<T: Send>(work: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(work)
        })
        .join()
        .expect("the database set-up")
    })
}

/// Runs one statement on the run's database (`CREATE DATABASE` and kin).
async fn admin(sql: &str) -> Result<(), tokio_postgres::Error> {
    let url = std::env::var("ACO_TEST_DATABASE_URL").expect("ACO_TEST_DATABASE_URL");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    let out = client.batch_execute(sql).await;
    drop(client);
    let _ = connection.await;
    out
}

static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(1);

/// A new database's name, `<the run's database>_<kind><pid>_<n>`: the
/// script drops every database whose name starts with the run's.
fn new_database_name(kind: &str) -> String {
    format!(
        "{}_{kind}{}_{}",
        run_database(),
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates an empty database `name` with the C collation (text sorts by
/// its bytes, as on SQLite and Aurora DSQL).
async fn create_empty_database(name: &str) {
    admin(&format!(
        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    ))
    .await
    .unwrap_or_else(|e| panic!("creating {name}: {e}"));
}
static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A fresh database for one test app: a copy of the run's template, which
/// is made and migrated (`aco-api migrate`'s steps) the first time.
fn fresh_postgres() -> (aco_api::store::postgres::PostgresConfig, String) {
    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let template = TEMPLATE.get_or_init(|| {
        let name = format!("{}_tpl{}", run_database(), std::process::id());
        on_own_runtime(async {
            create_empty_database(&name).await;
            let config =
                aco_api::store::postgres::PostgresConfig::from_url(&database_url(&name), 1)
                    .expect("its URL");
            aco_api::store::postgres::migrate(&config)
                .await
                .expect("the template migrated");
        });
        name
    });
    let name = new_database_name("t");
    on_own_runtime(async {
        // The template's last connection may take a moment to go.
        let mut tries = 0;
        loop {
            match admin(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await {
                Ok(()) => break,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("creating {name}: {e}"),
            }
        }
    });
    let url = database_url(&name);
    (
        aco_api::store::postgres::PostgresConfig::from_url(&url, 4).expect("its URL"),
        url,
    )
}

/// The PostgreSQL database of each test app, by the SQLite path its
/// configuration also holds: what a binary started on that path is given
/// instead (`ACO_DATABASE_URL`).
static POSTGRES_URLS: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The `ACO_DATABASE_URL` of the test app whose SQLite path is `path`, on
/// PostgreSQL; `None` on SQLite.
pub fn postgres_url_for(path: &std::path::Path) -> Option<String> {
    let urls = POSTGRES_URLS.lock().unwrap_or_else(|e| e.into_inner());
    urls.iter()
        .find(|(p, _)| p == path)
        .map(|(_, url)| url.clone())
}

/// Points a binary about to start at the database of `path`: on
/// PostgreSQL, the test app's database there.
pub fn use_database(command: &mut tokio::process::Command, path: &std::path::Path) {
    command.env("ACO_DATABASE_PATH", path);
    if let Some(url) = postgres_url_for(path) {
        command.env("ACO_DATABASE_URL", url);
    }
}

/// The URL of a new, empty database (no schema) on the suite's server.
pub fn empty_postgres() -> String {
    let name = new_database_name("e");
    on_own_runtime(create_empty_database(&name));
    database_url(&name)
}

/// The store of a test app's configuration, opened again (its own pool):
/// to look at what the API wrote.
pub fn open_store(config: &AppConfig) -> aco_api::store::Db {
    aco_api::store::Db::open_configured(&config.store, config.postgres.as_ref()).expect("the store")
}

pub struct TestApp {
    pub router: Router,
    pub config: AppConfig,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> Self {
        Self::configured(|_| {})
    }

    /// A fresh app whose dev configuration `change` adjusts (clock, time zone).
    pub fn configured(change: impl FnOnce(&mut AppConfig)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = AppConfig::for_dev(dir.path().join("aco.db"));
        if on_postgres() {
            let (postgres, url) = fresh_postgres();
            config.postgres = Some(postgres);
            POSTGRES_URLS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((config.store.path.clone(), url));
        }
        change(&mut config);
        if let Some(postgres) = &mut config.postgres {
            postgres.count_statements = config.store.count_statements;
            postgres.statement_timeout = config.request_timeout;
        }
        let router = aco_api::build_app(config.clone()).expect("app");
        TestApp {
            router,
            config,
            dir,
        }
    }

    /// The same database file, opened again by a new app: a restart.
    pub fn restart(self) -> Self {
        self.restart_with(|_| {})
    }

    /// Stops the app, keeping its database: for the binary (or a new app)
    /// to open the same file. The configuration and the folder holding it.
    pub fn close(self) -> (AppConfig, tempfile::TempDir) {
        let TestApp {
            router,
            config,
            dir,
        } = self;
        drop(router);
        (config, dir)
    }

    /// A restart with a changed configuration, e.g. a later `--now`.
    pub fn restart_with(self, change: impl FnOnce(&mut AppConfig)) -> Self {
        let (mut config, dir) = self.close();
        change(&mut config);
        let router = aco_api::build_app(config.clone()).expect("app after restart");
        TestApp {
            router,
            config,
            dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let (status, bytes, headers) = self.send_raw(request).await;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body, headers)
    }

    /// Sends a request; the body's bytes as they came.
    pub async fn send_raw(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::body::Bytes, axum::http::HeaderMap) {
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
        (status, bytes, headers)
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

/// A deal that passes every deal-side rule.
pub fn deal(customer: &str, acr: &str) -> Value {
    json!({
        "customerId": customer,
        "estimatedAcr": acr,
        "scenario": "MIGRATION",
        "workloads": ["Azure Kubernetes Service"],
        "timeline": { "start": "2027-02-01", "end": "2027-08-01" }
    })
}

pub const SUBMIT: &str = "mutation($input: SubmitAcoRequestInput!) { submitAcoRequest(input: $input) { acoRequest { id status version acoAmount } userErrors { code message field } } }";

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

/// A fixed clock for `--now`.
pub fn at(instant: &str) -> aco_api::domain::time::Clock {
    aco_api::domain::time::Clock::Fixed(instant.parse().expect("RFC 3339"))
}

impl World {
    pub fn new() -> Self {
        Self::on(TestApp::new())
    }

    pub fn on(app: TestApp) -> Self {
        let admin = app.token(PROGRAM_TENANT, &[Role::ProgramAdmin], "program-admin");
        World { app, admin }
    }

    /// A programme role's token.
    pub fn reviewer(&self, role: Role) -> String {
        self.app.token(
            PROGRAM_TENANT,
            &[role],
            &format!("{}@programme.example", role.as_str().to_lowercase()),
        )
    }

    /// A partner that has signed the MPA (AGR-1).
    /// A partner that signed the MPA and meets its type's CSP requirements.
    pub async fn signed_partner(&self, name: &str, partner_type: &str) -> PartnerHandle {
        let partner = self
            .signed_partner_without_profile(name, partner_type)
            .await;
        self.meet_requirements(&partner, partner_type).await;
        partner
    }

    /// A partner that signed the MPA and has recorded nothing of its CSP
    /// profile: it fails its other requirements.
    pub async fn signed_partner_without_profile(
        &self,
        name: &str,
        partner_type: &str,
    ) -> PartnerHandle {
        let partner = self.partner(name, partner_type).await;
        let data = self
            .app
            .ok(
                &partner.admin,
                "mutation($input: SignPartnerAgreementInput!) { signPartnerAgreement(input: $input) { userErrors { code } } }",
                json!({ "input": { "signerName": "Avery Admin", "signerEmail": format!("avery@{}.example.com", name.to_lowercase()), "dateAgreed": "2025-01-02" } }),
            )
            .await;
        assert_eq!(data["signPartnerAgreement"]["userErrors"], json!([]));
        partner
    }

    /// Records a profile that meets every CSP requirement of `partner_type`
    /// (§8) but the MPA, which the partner signs itself: with it signed, the
    /// partner is in good standing (ELIG-15).
    pub async fn meet_requirements(&self, partner: &PartnerHandle, partner_type: &str) {
        let mut input = json!({ "partnerId": partner.id, "mfaForAllAdmins": true,
            "securityContactEmail": "security@partner.example.com", "businessEmail": "jane.doe@partner.example.com",
            "supportPlan": "ASFP", "indirectResellerSince": "2024-01-15",
            "solutionsPartnerDesignations": ["Infrastructure (Azure)"], "capabilitiesAssessmentPassed": true,
            "creditCheckPassed": true, "priorExperienceAssessed": true });
        if partner_type == "INDIRECT_PROVIDER" {
            input["regionalRevenue"] = json!([{ "region": "US", "amount": "40000000.00" }]);
        } else {
            input["revenueTrailing12m"] = json!("2000000.00");
        }
        let data = self
            .app
            .ok(
                &self.admin,
                "mutation($input: UpdatePartnerProfileInput!) { updatePartnerProfile(input: $input) { userErrors { code } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(data["updatePartnerProfile"]["userErrors"], json!([]));
    }

    /// Records the customer's MCA acceptance (AGR-2) as `partner`'s admin.
    pub async fn accept_mca(&self, partner: &PartnerHandle, customer: &CustomerHandle) {
        let data = self
            .app
            .ok(
                &partner.admin,
                "mutation($input: RecordCustomerAgreementInput!) { recordCustomerAgreement(input: $input) { userErrors { code } } }",
                json!({ "input": { "customerId": customer.id, "dateAgreed": "2025-06-01", "acceptanceMethod": "CUSTOMER_ACCEPTED",
                    "primaryContact": { "firstName": "Jordan", "lastName": "Signer", "email": "jordan@customer.example.com" } } }),
            )
            .await;
        assert_eq!(data["recordCustomerAgreement"]["userErrors"], json!([]));
    }

    /// `partner` confirms the customer's MCA acceptance (ELIG-7).
    pub async fn confirm_mca(&self, partner: &PartnerHandle, customer: &CustomerHandle) {
        let data = self
            .app
            .ok(
                &partner.admin,
                "mutation($input: ConfirmCustomerAgreementInput!) { confirmCustomerAgreement(input: $input) { userErrors { code } } }",
                json!({ "input": { "customerId": customer.id } }),
            )
            .await;
        assert_eq!(data["confirmCustomerAgreement"]["userErrors"], json!([]));
    }

    /// A customer of `partner` that meets every customer- and partner-side rule.
    pub async fn eligible_customer(&self, partner: &PartnerHandle, name: &str) -> CustomerHandle {
        let customer = self.customer(partner, name).await;
        self.accept_mca(partner, &customer).await;
        self.confirm_mca(partner, &customer).await;
        customer
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

    /// The id of the relationship `partner` sees first on `customer`.
    pub async fn relationship_of(
        &self,
        partner: &PartnerHandle,
        customer: &CustomerHandle,
    ) -> String {
        let data = self
            .app
            .ok(
                &partner.admin,
                "query($id: ID!) { customer(id: $id) { relationships { nodes { id } } } }",
                json!({ "id": customer.id }),
            )
            .await;
        data["customer"]["relationships"]["nodes"][0]["id"]
            .as_str()
            .expect("a relationship")
            .to_owned()
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

/// An ACO request as a caller last saw it.
#[derive(Debug, Clone)]
pub struct RequestHandle {
    pub id: String,
    pub version: i64,
}

impl RequestHandle {
    pub fn from_payload(payload: &Value) -> Self {
        let request = &payload["acoRequest"];
        RequestHandle {
            id: request["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no request in {payload}"))
                .to_owned(),
            version: request["version"].as_i64().expect("version"),
        }
    }
}

/// The input type of each workflow mutation.
fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "passAcoComplianceCheck" => "PassAcoComplianceCheckInput",
        "requestAcoInformation" => "RequestAcoInformationInput",
        "answerAcoInformationRequest" => "AnswerAcoInformationRequestInput",
        "supportAcoRequest" => "SupportAcoRequestInput",
        "approveAcoRequest" => "ApproveAcoRequestInput",
        "rejectAcoRequest" => "RejectAcoRequestInput",
        "cancelAcoRequest" => "CancelAcoRequestInput",
        "publishAcoAgreement" => "PublishAcoAgreementInput",
        "withdrawAcoAgreement" => "WithdrawAcoAgreementInput",
        other => panic!("unknown workflow mutation {other}"),
    }
}

impl World {
    /// Submits a passing deal for `customer` as `partner`'s user.
    pub async fn submitted(
        &self,
        partner: &PartnerHandle,
        customer: &CustomerHandle,
        provider: Option<&PartnerHandle>,
    ) -> RequestHandle {
        let mut input = deal(&customer.id, "15000.00");
        if let Some(p) = provider {
            input["indirectProviderId"] = json!(p.id);
        }
        let data = self
            .app
            .ok(&partner.user, SUBMIT, json!({ "input": input }))
            .await;
        assert_eq!(data["submitAcoRequest"]["userErrors"], json!([]), "{data}");
        RequestHandle::from_payload(&data["submitAcoRequest"])
    }

    /// Runs a workflow mutation; the whole response body.
    pub async fn act_raw(&self, token: &str, mutation: &str, input: Value) -> Value {
        let query = format!(
            "mutation($input: {}!) {{ {mutation}(input: $input) {{ acoRequest {{ id status version dueAt overdue acoAmount }} userErrors {{ code message field }} }} }}",
            input_type(mutation)
        );
        self.app
            .gql(Some(token), &query, json!({ "input": input }))
            .await
    }

    /// Runs a workflow step on `request` with the version the caller saw; its payload.
    pub async fn act(
        &self,
        token: &str,
        mutation: &str,
        request: &RequestHandle,
        extra: Value,
    ) -> Value {
        let mut input = json!({ "id": request.id, "version": request.version });
        for (k, v) in extra.as_object().expect("object") {
            input[k] = v.clone();
        }
        let body = self.act_raw(token, mutation, input).await;
        assert!(body.get("errors").is_none(), "{mutation}: {body}");
        body["data"][mutation].clone()
    }

    /// Runs a step that must succeed; the request as it is now.
    pub async fn advance(
        &self,
        token: &str,
        mutation: &str,
        request: &RequestHandle,
        extra: Value,
    ) -> (RequestHandle, Value) {
        let payload = self.act(token, mutation, request, extra).await;
        assert_eq!(payload["userErrors"], json!([]), "{mutation}: {payload}");
        (
            RequestHandle::from_payload(&payload),
            payload["acoRequest"].clone(),
        )
    }

    /// Walks a submitted request to OPERATIONS_REVIEW.
    pub async fn approved(&self, request: &RequestHandle) -> RequestHandle {
        use aco_api::domain::Role;
        let (r, _) = self
            .advance(
                &self.reviewer(Role::Plsr),
                "passAcoComplianceCheck",
                request,
                json!({ "channelSalesManager": "csm@programme.example" }),
            )
            .await;
        let (r, _) = self
            .advance(
                &self.reviewer(Role::ChannelSales),
                "supportAcoRequest",
                &r,
                json!({}),
            )
            .await;
        let (r, _) = self
            .advance(
                &self.reviewer(Role::Finance),
                "approveAcoRequest",
                &r,
                json!({}),
            )
            .await;
        r
    }

    /// Publishes the agreement (Operations); the request and the agreement's id.
    pub async fn published(&self, request: &RequestHandle) -> (RequestHandle, String) {
        self.published_for(request, 12).await
    }

    /// Publishes the agreement with a credit period of `months`.
    pub async fn published_for(
        &self,
        request: &RequestHandle,
        months: i32,
    ) -> (RequestHandle, String) {
        let token = self.reviewer(aco_api::domain::Role::Operations);
        let body = self
            .app
            .gql(
                Some(&token),
                "mutation($input: PublishAcoAgreementInput!) { publishAcoAgreement(input: $input) { acoRequest { id status version } acoAgreement { id status expiresAt } userErrors { code message } } }",
                json!({ "input": { "id": request.id, "version": request.version, "signerName": "Jordan Signer", "signerEmail": "jordan@customer.example.com", "creditPeriodMonths": months } }),
            )
            .await;
        let payload = &body["data"]["publishAcoAgreement"];
        assert_eq!(payload["userErrors"], json!([]), "{body}");
        (
            RequestHandle::from_payload(payload),
            payload["acoAgreement"]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// The customer's signer signs; the payload.
    pub async fn sign(&self, customer: &CustomerHandle, agreement: &str) -> Value {
        let data = self
            .app
            .ok(
                &customer.signer,
                "mutation($input: SignAcoAgreementInput!) { signAcoAgreement(input: $input) { acoAgreement { id status expiresAt signedAt } creditGrant { amount firstMonth lastMonth status } userErrors { code message } } }",
                json!({ "input": { "agreementId": agreement } }),
            )
            .await;
        data["signAcoAgreement"].clone()
    }

    /// The request as a programme admin sees it.
    /// The same world, its server restarted with the clock at `now`.
    pub fn at(self, now: &str) -> World {
        let World { app, admin } = self;
        let now = at(now);
        World {
            app: app.restart_with(|c| c.clock = now),
            admin,
        }
    }

    pub async fn request_state(&self, request: &RequestHandle) -> Value {
        let data = self
            .app
            .ok(
                &self.admin,
                "query($id: ID!) { acoRequest(id: $id) { id status version acoAmount dueAt overdue stage informationRequestedFrom decisionReason history { totalCount nodes { action fromStatus toStatus actorRole actorSubject comment } } } }",
                json!({ "id": request.id }),
            )
            .await;
        data["acoRequest"].clone()
    }
}
