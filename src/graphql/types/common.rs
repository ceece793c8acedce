//! What the object types share: the `Node` interface, addresses and
//! contacts, and the change history of partners and customers.

use async_graphql::{Context, ID, Interface, SimpleObject};

use super::{Customer, CustomerAgreement, Partner, ResellerRelationship};
use crate::domain;
use crate::domain::Role;
use crate::domain::actor::Actor;
use crate::graphql::aco::{AcoAgreement, AcoRequest, CreditGrant};
use crate::graphql::benefits::BenefitCredit;
use crate::graphql::connection::{Conn, CursorKey, connection, page_args};
use crate::graphql::read;
use crate::graphql::scalars::DateTime;
use crate::store::audit::{self, ChangeRow};

/// An object with a global id, resolvable through `node(id:)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global id."))]
pub enum Node {
    Partner(Partner),
    Customer(Customer),
    ResellerRelationship(ResellerRelationship),
    CustomerAgreement(CustomerAgreement),
    AcoRequest(AcoRequest),
    AcoAgreement(AcoAgreement),
    CreditGrant(CreditGrant),
    BenefitCredit(BenefitCredit),
}

/// A postal address (Partner Center's `defaultAddress`).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Address {
    /// The first line of the street address.
    pub address_line1: Option<String>,
    /// The second line of the street address, if any.
    pub address_line2: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The state, province or region (for a US address, the state).
    pub state: Option<String>,
    /// The postal code (for a US address, the ZIP code).
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl From<domain::Address> for Address {
    fn from(a: domain::Address) -> Self {
        Address {
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// A person to contact (Partner Center's `primaryContact`).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct Contact {
    /// The contact's first name.
    pub first_name: Option<String>,
    /// The contact's last name.
    pub last_name: Option<String>,
    /// The contact's email address.
    pub email: Option<String>,
    /// The contact's phone number.
    pub phone_number: Option<String>,
}

impl From<domain::Contact> for Contact {
    fn from(c: domain::Contact) -> Self {
        Contact {
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone_number: c.phone_number,
        }
    }
}

/// Who acted in a history entry: one of the roles, or the service itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum ActorRole {
    /// A partner's administrator.
    #[graphql(name = "PARTNER_ADMIN")]
    PartnerAdmin,
    /// A partner's user.
    #[graphql(name = "PARTNER_USER")]
    PartnerUser,
    /// The customer's signer.
    #[graphql(name = "CUSTOMER_SIGNER")]
    CustomerSigner,
    /// A Partner Led Sales Reviewer (compliance).
    #[graphql(name = "PLSR")]
    Plsr,
    /// Channel sales.
    #[graphql(name = "CHANNEL_SALES")]
    ChannelSales,
    /// Finance.
    #[graphql(name = "FINANCE")]
    Finance,
    /// Operations.
    #[graphql(name = "OPERATIONS")]
    Operations,
    /// A programme administrator.
    #[graphql(name = "PROGRAM_ADMIN")]
    ProgramAdmin,
    /// The service itself: the expiry sweep, the ledger (AUTH-3).
    #[graphql(name = "SYSTEM")]
    System,
}

impl ActorRole {
    /// The role recorded in a history entry (`SYSTEM`, or a role's name).
    pub fn recorded(text: &str) -> Option<ActorRole> {
        if text == crate::domain::actor::SYSTEM {
            return Some(ActorRole::System);
        }
        Some(match text.parse::<Role>().ok()? {
            Role::PartnerAdmin => ActorRole::PartnerAdmin,
            Role::PartnerUser => ActorRole::PartnerUser,
            Role::CustomerSigner => ActorRole::CustomerSigner,
            Role::Plsr => ActorRole::Plsr,
            Role::ChannelSales => ActorRole::ChannelSales,
            Role::Finance => ActorRole::Finance,
            Role::Operations => ActorRole::Operations,
            Role::ProgramAdmin => ActorRole::ProgramAdmin,
        })
    }
}

/// One entry of an object's append-only history.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ChangeEvent {
    /// When the change was made (RFC 3339, UTC).
    pub at: DateTime,
    /// The token subject of whoever made the change.
    pub actor_subject: String,
    /// The name of whoever made the change, from their token; `null` when it had none.
    pub actor_name: Option<String>,
    /// The role the change was made in (the first of the token's roles), or
    /// `SYSTEM` when the service acted by itself (AUTH-3).
    pub actor_role: ActorRole,
    /// What was done, as a code such as `CUSTOMER_UPDATED` or `PARTNER_AGREEMENT_SIGNED`.
    pub action: String,
    /// What changed, as a JSON object.
    pub detail: crate::graphql::scalars::Json,
}

impl TryFrom<ChangeRow> for ChangeEvent {
    type Error = crate::error::Error;

    /// A change log entry; one naming a role the service does not have is a
    /// fault of the database, not the caller's.
    fn try_from(r: ChangeRow) -> Result<Self, Self::Error> {
        Ok(ChangeEvent {
            at: DateTime(r.at),
            actor_role: ActorRole::recorded(&r.actor_role).ok_or_else(|| {
                crate::error::Error::Internal(format!(
                    "a change log entry names an unknown role: {:?}",
                    r.actor_role
                ))
            })?,
            actor_subject: r.actor_subject,
            actor_name: r.actor_name,
            action: r.action,
            detail: crate::graphql::scalars::Json(
                serde_json::from_str(&r.detail).unwrap_or_default(),
            ),
        })
    }
}

/// History is for programme roles and for the organisation itself.
pub(super) async fn history(
    ctx: &Context<'_>,
    entity: crate::domain::ids::ObjectId,
    own: impl Fn(&Actor) -> bool + Clone + Send + 'static,
    args: (Option<String>, Option<i32>, Option<String>, Option<i32>),
) -> async_graphql::Result<Option<Conn<ChangeEvent>>> {
    let (after, first, before, last) = args;
    read(ctx, move |tx, actor| {
        if !(actor.is_program() || own(actor)) {
            return Ok(None);
        }
        let args = page_args(first, after, last, before, CursorKey::Sequence)?;
        let page = audit::history(tx, &entity, &args)?.try_map(|r| {
            let key = format!("{:020}", r.seq);
            ChangeEvent::try_from(r).map(|event| (key, event))
        })?;
        Ok(Some(connection(
            page,
            |(key, _)| key.clone(),
            |(_, event)| event,
        )))
    })
    .await
}
