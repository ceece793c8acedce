//! The caller, as `viewer` answers it.

use async_graphql::{Context, Object};

use super::{Customer, Partner};
use crate::authz;
use crate::domain::Role;
use crate::domain::actor::{Actor, Organization};
use crate::graphql::read;

/// The caller.
pub struct Viewer(pub Actor);

/// The caller, as its token names it: subject, roles, and the partner or
/// customer it acts for.
#[Object(serial)]
impl Viewer {
    /// The token's `sub`.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The caller's name: the token's `name` claim, else its email address; `null` when it has neither.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// The caller's email address: the token's `email` claim, else its `preferred_username`; `null` when it has neither.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The caller's tenant, the token's `tid`: its partner's, its customer's or the programme's.
    async fn tenant_id(&self) -> &str {
        &self.0.tenant_id
    }
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::domain::Role::ALL.len(), child_complexity)"
    )]
    /// The roles the token grants.
    async fn roles(&self) -> Vec<Role> {
        self.0.roles.clone()
    }
    /// The partner the caller acts for, if a partner role.
    async fn partner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Partner>> {
        let Some(id) = self.0.partner_id().cloned() else {
            return Ok(None);
        };
        read(ctx, move |tx, actor| {
            Ok(authz::find_partner(tx, actor, &id)?.map(Partner::from))
        })
        .await
    }
    /// The customer the caller acts for, if a customer signer.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.0.customer_id().cloned() else {
            return Ok(None);
        };
        read(ctx, move |tx, actor| {
            Ok(authz::find_customer(tx, actor, &id)?.map(Customer::from))
        })
        .await
    }
    /// `true` for programme roles (PLSR, channel sales, finance, operations, programme admin).
    async fn is_program(&self) -> bool {
        matches!(self.0.organization, Organization::Program)
    }
}
