//! The demo world (`serve --dev --demo`): a direct bill partner, an indirect
//! provider with two linked resellers, and eighteen customers. Three meet every
//! eligibility rule, with finished requests behind them and an ACO credit each
//! — active and partly used, exhausted (the programme guide's worked example),
//! lapsed with a balance left — and months of usage; nine fail one rule each of
//! ELIG-1…9; six have a request open in each review state, so a new one would
//! fail ELIG-13. Everything is created
//! through the same use cases the API runs, so the demo obeys every rule.

use chrono::{Duration, Utc};

use crate::auth::{TokenRequest, mint_hs256};
use crate::config::AppConfig;
use crate::domain::actor::{Actor, Organization};
use crate::domain::authorization::Profile;
use crate::domain::eligibility::Scope;
use crate::domain::ids::ObjectId;
use crate::domain::time::Month;
use crate::domain::workflow::WorkflowAction;
use crate::domain::{
    AcceptanceMethod, Address, BillingProfile, Contact, CustomerSegment, OrganizationKind,
    PartnerType, Role,
};
use crate::domain::{AcoRequestStatus, AcoScenario};
use crate::error::{Error, Result};
use crate::service::agreements::{self, Publication};
use crate::service::authorization::{self, ProfileChanges};
use crate::service::credits::{self, UsageReport};
use crate::service::customers::{self, NewCustomer, NewCustomerAgreement};
use crate::service::partners::{self, NewPartner};
use crate::service::requests::{self, Deal, Step};
use crate::service::{Call, relationships};
use crate::store::Db;
use crate::store::Engine;
use crate::store::requests::AcoRequestRow;
use rust_decimal::Decimal;

/// A partner of the demo world.
pub struct DemoPartner {
    pub key: &'static str,
    pub tenant_id: &'static str,
    pub name: &'static str,
    pub domain: &'static str,
    pub partner_type: PartnerType,
    pub signs_mpa: bool,
}

pub const PARTNERS: [DemoPartner; 4] = [
    DemoPartner {
        key: "contoso",
        tenant_id: "11111111-1111-4111-8111-000000000001",
        name: "Contoso Cloud Services",
        domain: "contosocloud.com",
        partner_type: PartnerType::DirectBill,
        signs_mpa: true,
    },
    DemoPartner {
        key: "northwind",
        tenant_id: "11111111-1111-4111-8111-000000000002",
        name: "Northwind Distribution",
        domain: "northwinddist.com",
        partner_type: PartnerType::IndirectProvider,
        signs_mpa: true,
    },
    DemoPartner {
        key: "fabrikam",
        tenant_id: "11111111-1111-4111-8111-000000000003",
        name: "Fabrikam IT Solutions",
        domain: "fabrikamit.com",
        partner_type: PartnerType::IndirectReseller,
        signs_mpa: true,
    },
    DemoPartner {
        key: "tailspin",
        tenant_id: "11111111-1111-4111-8111-000000000004",
        name: "Tailspin Technology",
        domain: "tailspintech.com",
        partner_type: PartnerType::IndirectReseller,
        signs_mpa: false,
    },
];

/// A customer of the demo world and the one rule it is built to fail.
pub struct DemoCustomer {
    pub tenant_id: &'static str,
    pub name: &'static str,
    pub domain: &'static str,
    /// The transacting partner (its key in [`PARTNERS`]).
    pub partner: &'static str,
    /// For an indirect reseller's customer: does the provider relate to it too?
    pub provider_relationship: bool,
    pub country: &'static str,
    pub segment: CustomerSegment,
    pub kind: OrganizationKind,
    pub tax_id: bool,
    pub mca: bool,
    pub confirmed: bool,
    pub revoked: bool,
    /// The eligibility rule this customer fails, if any.
    pub fails: Option<&'static str>,
    /// The ACO requests it has, each walked through the workflow to this state.
    pub requests: &'static [AcoRequestStatus],
    /// An ACO signed months ago, with the usage recorded since.
    pub credit: Option<DemoCredit>,
}

/// An ACO granted `months_ago` and consumed month by month since (§6).
pub struct DemoCredit {
    pub months_ago: u32,
    pub estimated_acr: &'static str,
    pub credit_period_months: u32,
    /// First-party usage of each month from the month of signing.
    pub usage: &'static [&'static str],
}

const fn customer(
    tenant_id: &'static str,
    name: &'static str,
    domain: &'static str,
    partner: &'static str,
) -> DemoCustomer {
    DemoCustomer {
        tenant_id,
        name,
        domain,
        partner,
        provider_relationship: true,
        country: "US",
        segment: CustomerSegment::Smb,
        kind: OrganizationKind::Commercial,
        tax_id: true,
        mca: true,
        confirmed: true,
        revoked: false,
        fails: None,
        requests: &[],
        credit: None,
    }
}

pub const CUSTOMERS: [DemoCustomer; 18] = [
    // An active credit, partly used.
    DemoCustomer {
        credit: Some(DemoCredit {
            months_ago: 3,
            estimated_acr: "15000.00",
            credit_period_months: 12,
            usage: &["310.00", "290.00", "355.20"],
        }),
        ..customer(
            "22222222-2222-4222-8222-000000000001",
            "Alpine Ski House",
            "alpineskihouse.com",
            "contoso",
        )
    },
    // A credit that lapsed with a balance left, after a rejected and a cancelled request.
    DemoCustomer {
        requests: &[AcoRequestStatus::Rejected, AcoRequestStatus::Cancelled],
        credit: Some(DemoCredit {
            months_ago: 14,
            estimated_acr: "5000.00",
            credit_period_months: 12,
            usage: &["20.00", "35.00", "40.00"],
        }),
        ..customer(
            "22222222-2222-4222-8222-000000000002",
            "Coho Winery",
            "cohowinery.com",
            "contoso",
        )
    },
    // The programme guide's worked example: 500.00 exhausted in the sixth month.
    DemoCustomer {
        credit: Some(DemoCredit {
            months_ago: 7,
            estimated_acr: "5000.00",
            credit_period_months: 12,
            usage: &["75.00", "85.00", "90.00", "112.00", "85.00", "100.00"],
        }),
        ..customer(
            "22222222-2222-4222-8222-000000000003",
            "Blue Yonder Airlines",
            "blueyonderairlines.com",
            "fabrikam",
        )
    },
    DemoCustomer {
        country: "CA",
        fails: Some("CUSTOMER_NOT_US"),
        ..customer(
            "22222222-2222-4222-8222-000000000004",
            "A. Datum Corporation",
            "adatum.ca",
            "contoso",
        )
    },
    DemoCustomer {
        segment: CustomerSegment::Enterprise,
        fails: Some("CUSTOMER_NOT_SMB"),
        ..customer(
            "22222222-2222-4222-8222-000000000005",
            "Fourth Coffee",
            "fourthcoffee.com",
            "contoso",
        )
    },
    DemoCustomer {
        kind: OrganizationKind::Education,
        fails: Some("CUSTOMER_NOT_COMMERCIAL"),
        ..customer(
            "22222222-2222-4222-8222-000000000006",
            "Graphic Design Institute",
            "graphicdesigninstitute.edu",
            "fabrikam",
        )
    },
    DemoCustomer {
        tax_id: false,
        fails: Some("BILLING_PROFILE_INCOMPLETE"),
        ..customer(
            "22222222-2222-4222-8222-000000000007",
            "Humongous Insurance",
            "humongousinsurance.com",
            "contoso",
        )
    },
    DemoCustomer {
        mca: false,
        confirmed: false,
        fails: Some("MCA_NOT_ACCEPTED"),
        ..customer(
            "22222222-2222-4222-8222-000000000008",
            "Lamna Healthcare",
            "lamnahealthcare.com",
            "contoso",
        )
    },
    DemoCustomer {
        fails: Some("MPA_NOT_SIGNED"),
        ..customer(
            "22222222-2222-4222-8222-000000000009",
            "Margie's Travel",
            "margiestravel.com",
            "tailspin",
        )
    },
    DemoCustomer {
        confirmed: false,
        fails: Some("MCA_NOT_CONFIRMED"),
        ..customer(
            "22222222-2222-4222-8222-000000000010",
            "Proseware",
            "proseware.com",
            "contoso",
        )
    },
    DemoCustomer {
        revoked: true,
        fails: Some("NO_RESELLER_RELATIONSHIP"),
        ..customer(
            "22222222-2222-4222-8222-000000000011",
            "Relecloud",
            "relecloud.com",
            "contoso",
        )
    },
    DemoCustomer {
        provider_relationship: false,
        fails: Some("PROVIDER_RELATIONSHIP_MISSING"),
        ..customer(
            "22222222-2222-4222-8222-000000000012",
            "Wide World Importers",
            "wideworldimporters.com",
            "fabrikam",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::Submitted],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000013",
            "Trey Research",
            "treyresearch.net",
            "contoso",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::ChannelReview],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000014",
            "VanArsdel Ltd",
            "vanarsdel.com",
            "contoso",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::NeedsInfo],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000015",
            "Woodgrove Bank",
            "woodgrovebank.com",
            "contoso",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::FinanceReview],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000016",
            "Southridge Video",
            "southridgevideo.com",
            "fabrikam",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::OperationsReview],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000017",
            "Wingtip Toys",
            "wingtiptoys.com",
            "contoso",
        )
    },
    DemoCustomer {
        requests: &[AcoRequestStatus::AwaitingSignature],
        fails: Some("OPEN_REQUEST_EXISTS"),
        ..customer(
            "22222222-2222-4222-8222-000000000018",
            "First Up Consultants",
            "firstupconsultants.com",
            "fabrikam",
        )
    },
];

fn partner_def(key: &str) -> Result<&'static DemoPartner> {
    PARTNERS
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| Error::Internal(format!("demo partner {key}")))
}

fn actor(subject: &str, tenant_id: &str, role: Role, organization: Organization) -> Actor {
    Actor {
        subject: subject.to_owned(),
        name: Some("Demo loader".to_owned()),
        email: None,
        tenant_id: tenant_id.to_owned(),
        roles: vec![role],
        organization,
    }
}

/// Loads the demo world into an empty database; does nothing if any partner exists.
/// Returns whether it loaded.
pub async fn seed(db: &Db, config: &AppConfig) -> Result<bool> {
    let program_tenant = config.jwt.program_tenant_id.clone();
    let now = config.clock.now();
    let timezone = config.timezone;
    db.write(move |tx| {
        if crate::store::partners::any(tx)? {
            return Ok(false);
        }
        let call_as = |actor: Actor| Call {
            actor,
            now,
            program_tenant_id: program_tenant.clone(),
            timezone,
        };
        let admin = call_as(actor(
            "demo-loader",
            &program_tenant,
            Role::ProgramAdmin,
            Organization::Program,
        ));

        let mut ids: Vec<(&'static str, ObjectId, PartnerType)> = Vec::new();
        for p in &PARTNERS {
            let row = partners::create_partner(
                tx,
                &admin,
                NewPartner {
                    tenant_id: p.tenant_id.to_owned(),
                    company_name: p.name.to_owned(),
                    domain: p.domain.to_owned(),
                    partner_type: p.partner_type,
                    mpn_id: Some(format!("{}", 4_100_000 + ids.len() as u32 * 1_117)),
                    default_address: Address {
                        address_line1: Some("1 Microsoft Way".into()),
                        address_line2: None,
                        city: Some("Redmond".into()),
                        state: Some("WA".into()),
                        postal_code: Some("98052".into()),
                        country: Some("US".into()),
                    },
                    primary_contact: Contact {
                        first_name: Some("Avery".into()),
                        last_name: Some("Admin".into()),
                        email: Some(format!("admin.contact@{}", p.domain)),
                        phone_number: Some("+1 425 555 0100".into()),
                    },
                },
            )?;
            ids.push((p.key, row.id, p.partner_type));
        }
        let id_of = |key: &str| -> Result<(ObjectId, PartnerType)> {
            ids.iter()
                .find(|(k, ..)| *k == key)
                .map(|(_, id, t)| (id.clone(), *t))
                .ok_or_else(|| Error::Internal(format!("demo partner {key}")))
        };
        let partner_call = |key: &str| -> Result<Call> {
            let def = partner_def(key)?;
            let (id, partner_type) = id_of(key)?;
            Ok(call_as(actor(
                &format!("demo-admin@{}", def.domain),
                def.tenant_id,
                Role::PartnerAdmin,
                Organization::Partner { id, partner_type },
            )))
        };
        let (northwind, _) = id_of("northwind")?;
        for reseller in ["fabrikam", "tailspin"] {
            partners::link_indirect_reseller(tx, &admin, &id_of(reseller)?.0, &northwind)?;
        }
        for p in PARTNERS.iter().filter(|p| p.signs_mpa) {
            partners::sign_partner_agreement(
                tx,
                &partner_call(p.key)?,
                "Avery Admin".into(),
                format!("avery@{}", p.domain),
                Some(admin.today() - Duration::days(400)),
            )?;
        }
        // Every partner records a CSP profile that meets its type's
        // requirements (§8); those that signed the MPA are in good standing,
        // assessed today (ELIG-15, AUTH-2).
        for p in &PARTNERS {
            let (id, partner_type) = id_of(p.key)?;
            authorization::update_profile(
                tx,
                &admin,
                &id,
                ProfileChanges::from(Profile::meeting_requirements(partner_type, p.domain)),
            )?;
            if p.signs_mpa {
                authorization::reassess(tx, &admin, &id)?;
            }
        }

        for c in &CUSTOMERS {
            let seller = partner_call(c.partner)?;
            let created = customers::create_customer(
                tx,
                &seller,
                NewCustomer {
                    tenant_id: c.tenant_id.to_owned(),
                    domain: c.domain.to_owned(),
                    company_name: c.name.to_owned(),
                    country: c.country.to_owned(),
                    segment: c.segment,
                    organization_kind: c.kind,
                    billing_profile: BillingProfile {
                        legal_name: Some(format!("{} LLC", c.name)),
                        tax_id: c
                            .tax_id
                            .then(|| format!("{}-{}", &c.tenant_id[24..26], &c.tenant_id[29..36])),
                        registration_number: Some(format!("REG-{}", &c.tenant_id[30..36])),
                        email: Some(format!("billing@{}", c.domain)),
                        address: Address {
                            address_line1: Some("500 Main Street".into()),
                            address_line2: None,
                            city: Some(
                                if c.country == "US" {
                                    "Seattle"
                                } else {
                                    "Vancouver"
                                }
                                .into(),
                            ),
                            state: Some(if c.country == "US" { "WA" } else { "BC" }.into()),
                            postal_code: Some(
                                if c.country == "US" {
                                    "98101"
                                } else {
                                    "V6B 1A1"
                                }
                                .into(),
                            ),
                            country: Some(c.country.into()),
                        },
                    },
                },
            )?;
            if c.mca {
                customers::record_customer_agreement(
                    tx,
                    &seller,
                    &created.id,
                    NewCustomerAgreement {
                        date_agreed: admin.today() - Duration::days(90),
                        primary_contact: Contact {
                            first_name: Some("Jordan".into()),
                            last_name: Some("Signer".into()),
                            email: Some(format!("jordan.signer@{}", c.domain)),
                            phone_number: None,
                        },
                        acceptance_method: AcceptanceMethod::CustomerAccepted,
                    },
                )?;
            }
            if c.confirmed {
                customers::confirm_customer_agreement(tx, &seller, &created.id)?;
            }
            let seller_type = id_of(c.partner)?.1;
            if seller_type == PartnerType::IndirectReseller && c.provider_relationship {
                let provider =
                    relationships::request(tx, &partner_call("northwind")?, c.tenant_id)?;
                relationships::accept(tx, &admin, &provider.id)?;
            }
            if c.revoked {
                let (seller_id, _) = id_of(c.partner)?;
                if let Some(live) = crate::store::relationships::live(tx, &seller_id, &created.id)?
                {
                    relationships::revoke(
                        tx,
                        &seller,
                        &live.id,
                        Some("customer moved to another partner".into()),
                    )?;
                }
            }
            let provider =
                (seller_type == PartnerType::IndirectReseller).then(|| northwind.clone());
            let signer = call_as(actor(
                &format!("jordan.signer@{}", c.domain),
                c.tenant_id,
                Role::CustomerSigner,
                Organization::Customer {
                    id: created.id.clone(),
                },
            ));
            let reviewers = Reviewers {
                call_as: &call_as,
                program_tenant: &program_tenant,
                now,
            };
            for (n, target) in c.requests.iter().enumerate() {
                let acr = Decimal::new(1_500_000 + 250_000 * n as i64, 2);
                let journey = Journey {
                    target: *target,
                    acr,
                    period: agreements::DEFAULT_CREDIT_PERIOD_MONTHS,
                };
                walk(
                    tx,
                    &seller,
                    &signer,
                    &reviewers,
                    &created.id,
                    provider.clone(),
                    n,
                    journey,
                )?;
            }
            if let Some(credit) = &c.credit {
                let then = now
                    .checked_sub_months(chrono::Months::new(credit.months_ago))
                    .ok_or_else(|| Error::Internal("demo: date out of range".into()))?;
                let at_then = |call: &Call| Call {
                    now: then,
                    ..call.clone()
                };
                let past = Reviewers {
                    now: then,
                    ..reviewers
                };
                let journey = Journey {
                    target: AcoRequestStatus::Active,
                    acr: credit
                        .estimated_acr
                        .parse()
                        .map_err(|_| Error::Internal("demo: bad amount".into()))?,
                    period: credit.credit_period_months,
                };
                walk(
                    tx,
                    &at_then(&seller),
                    &at_then(&signer),
                    &past,
                    &created.id,
                    provider.clone(),
                    c.requests.len(),
                    journey,
                )?;
                let first = Month::of(crate::domain::sla::local_date(then, timezone));
                for (i, amount) in credit.usage.iter().enumerate() {
                    credits::record_monthly_usage(
                        tx,
                        &seller,
                        UsageReport {
                            customer_id: created.id.clone(),
                            partner_id: None,
                            month: first.plus(i as u32),
                            first_party_acr: amount
                                .parse()
                                .map_err(|_| Error::Internal("demo: bad amount".into()))?,
                            third_party_charges: Decimal::ZERO,
                        },
                    )?;
                }
            }
        }
        Ok(true)
    })
    .await
}

/// Programme reviewers of the demo world.
struct Reviewers<'a, F: Fn(Actor) -> Call> {
    call_as: &'a F,
    program_tenant: &'a str,
    /// When they act (the demo's past credits were reviewed months ago).
    now: chrono::DateTime<Utc>,
}

impl<F: Fn(Actor) -> Call> Reviewers<'_, F> {
    fn as_role(&self, role: Role) -> Call {
        let subject = format!("{}@programme.example", role.as_str().to_ascii_lowercase());
        let mut call = (self.call_as)(actor(
            &subject,
            self.program_tenant,
            role,
            Organization::Program,
        ));
        call.now = self.now;
        call
    }
}

/// Where one demo request goes.
struct Journey {
    target: AcoRequestStatus,
    acr: Decimal,
    period: u32,
}

/// Submits a request for the customer and walks it to `target` along the
/// rule book's path.
#[allow(clippy::too_many_arguments)]
fn walk<F: Fn(Actor) -> Call>(
    tx: &crate::store::Tx<'_>,
    seller: &Call,
    signer: &Call,
    reviewers: &Reviewers<'_, F>,
    customer: &ObjectId,
    provider: Option<ObjectId>,
    n: usize,
    journey: Journey,
) -> Result<()> {
    use AcoRequestStatus as S;
    use WorkflowAction as A;
    let Journey {
        target,
        acr,
        period,
    } = journey;
    let today = seller.today();
    let deal = Deal {
        customer_id: customer.clone(),
        partner_id: None,
        indirect_provider_id: provider,
        estimated_acr: acr,
        scope: Scope {
            scenario: Some(
                [
                    AcoScenario::Migration,
                    AcoScenario::NewWorkloadPoc,
                    AcoScenario::Adoption,
                ][n % 3],
            ),
            workloads: vec![
                "Azure Kubernetes Service".into(),
                "Azure SQL Database".into(),
            ],
            timeline: Some((today + Duration::days(14), today + Duration::days(194))),
        },
    };
    let mut row = requests::submit(
        tx,
        seller,
        deal,
        Some("Customer is moving its on-premises workloads to Azure.".into()),
    )?;
    let step = |row: &AcoRequestRow, comment: &str| Step {
        request_id: row.id.clone(),
        version: row.version,
        comment: Some(comment.to_owned()),
    };
    let path: &[(S, &str)] = match target {
        S::Submitted => &[],
        S::Cancelled => &[(S::Cancelled, "")],
        S::ChannelReview => &[(S::ChannelReview, "")],
        S::NeedsInfo => &[(S::ChannelReview, ""), (S::NeedsInfo, "")],
        S::FinanceReview => &[(S::ChannelReview, ""), (S::FinanceReview, "")],
        S::Rejected => &[
            (S::ChannelReview, ""),
            (S::FinanceReview, ""),
            (S::Rejected, ""),
        ],
        S::OperationsReview => &[
            (S::ChannelReview, ""),
            (S::FinanceReview, ""),
            (S::OperationsReview, ""),
        ],
        S::AwaitingSignature | S::Active | S::Exhausted | S::Lapsed => &[
            (S::ChannelReview, ""),
            (S::FinanceReview, ""),
            (S::OperationsReview, ""),
            (S::AwaitingSignature, ""),
            (S::Active, ""),
        ],
    };
    for (next, _) in path {
        if row.status == target {
            break;
        }
        row = match next {
            S::ChannelReview => requests::pass_compliance_check(
                tx,
                &reviewers.as_role(Role::Plsr),
                step(&row, "Prerequisites verified."),
                "channel_sales@programme.example".into(),
            )?,
            S::NeedsInfo => requests::step(
                tx,
                &reviewers.as_role(Role::ChannelSales),
                A::RequestInformation,
                step(
                    &row,
                    "Please add the migration plan and the current monthly spend.",
                ),
            )?,
            S::FinanceReview => requests::step(
                tx,
                &reviewers.as_role(Role::ChannelSales),
                A::Support,
                step(&row, "Strong migration case; supported."),
            )?,
            S::Rejected => requests::step(
                tx,
                &reviewers.as_role(Role::Finance),
                A::Reject,
                step(&row, "The estimate is not supported by the usage history."),
            )?,
            S::OperationsReview => requests::step(
                tx,
                &reviewers.as_role(Role::Finance),
                A::Approve,
                step(&row, "Approved."),
            )?,
            S::Cancelled => requests::cancel(
                tx,
                seller,
                step(&row, "The customer postponed the project."),
            )?,
            S::AwaitingSignature => {
                let publication = Publication {
                    signer_name: "Jordan Signer".into(),
                    signer_email: signer.actor.subject.clone(),
                    credit_period_months: period,
                };
                agreements::publish(
                    tx,
                    &reviewers.as_role(Role::Operations),
                    step(&row, "Published to the customer's signer."),
                    publication,
                )?
                .0
            }
            S::Active => {
                let agreement = crate::store::agreements::published_for(tx, &row.id)?
                    .ok_or_else(|| Error::Internal("demo: no published agreement".into()))?;
                match agreements::sign(tx, signer, &agreement.id)? {
                    agreements::Signature::Signed { request, .. } => request,
                    agreements::Signature::Expired { .. } => {
                        return Err(Error::Internal("demo: agreement expired".into()));
                    }
                }
            }
            _ => row,
        };
    }
    if row.status != target {
        return Err(Error::Internal(format!(
            "demo: request reached {} instead of {target}",
            row.status
        )));
    }
    Ok(())
}

/// A ready-to-paste token for one role of the demo world.
pub struct DemoToken {
    pub label: String,
    pub token: String,
}

/// Tokens for every role: programme roles, partner admins and users, a customer signer.
pub fn tokens(config: &AppConfig) -> Result<Vec<DemoToken>> {
    let secret = config
        .jwt
        .secret
        .clone()
        .ok_or_else(|| Error::Internal("no JWT secret".into()))?;
    let mut wanted: Vec<(String, String, Role, String)> = Vec::new();
    for role in [
        Role::ProgramAdmin,
        Role::Plsr,
        Role::ChannelSales,
        Role::Finance,
        Role::Operations,
    ] {
        wanted.push((
            format!("{role} (programme)"),
            config.jwt.program_tenant_id.clone(),
            role,
            format!("{}@programme.example", role.as_str().to_ascii_lowercase()),
        ));
    }
    for p in &PARTNERS {
        wanted.push((
            format!("PARTNER_ADMIN {} ({})", p.name, p.partner_type),
            p.tenant_id.into(),
            Role::PartnerAdmin,
            format!("admin@{}", p.domain),
        ));
    }
    for key in ["contoso", "fabrikam"] {
        let p = partner_def(key)?;
        wanted.push((
            format!("PARTNER_USER {} ({})", p.name, p.partner_type),
            p.tenant_id.into(),
            Role::PartnerUser,
            format!("user@{}", p.domain),
        ));
    }
    let alpine = &CUSTOMERS[0];
    wanted.push((
        format!("CUSTOMER_SIGNER {}", alpine.name),
        alpine.tenant_id.into(),
        Role::CustomerSigner,
        format!("jordan.signer@{}", alpine.domain),
    ));
    wanted
        .into_iter()
        .map(|(label, tenant_id, role, email)| {
            let token = mint_hs256(
                &secret,
                &config.jwt.issuer,
                &config.jwt.audience,
                &TokenRequest {
                    tenant_id,
                    roles: vec![role],
                    subject: email.clone(),
                    name: Some(email.clone()),
                    email: Some(email),
                    issued_at: Utc::now(),
                    ttl_seconds: 12 * 3600,
                },
            )
            .map_err(|e| Error::Internal(format!("minting a demo token: {e}")))?;
            Ok(DemoToken { label, token })
        })
        .collect()
}
