//! Finding the organisation the caller acts for: a programme role at once,
//! a partner or customer role by its tenant, looked up in a read.

use super::{AuthError, Authenticator, Claims};
use crate::domain::actor::{Actor, Organization};
use crate::domain::{Role, RoleScope, validate};
use crate::store::Tx;
use crate::store::{customers, partners};

impl Authenticator {
    /// Checks the roles and tenant; finishes at once for programme roles,
    /// which need no database lookup, and otherwise leaves the organisation
    /// to be found with [`Pending::finish`] in a read.
    pub fn resolve_without_store(&self, claims: Claims) -> Result<Resolution, AuthError> {
        let roles = claims
            .roles
            .iter()
            .map(|r| r.parse::<Role>().map_err(|_| AuthError::UnknownRole))
            .collect::<Result<Vec<_>, _>>()?;
        let scope = roles.first().ok_or(AuthError::NoRole)?.scope();
        if roles.iter().any(|r| r.scope() != scope) {
            return Err(AuthError::MixedRoles);
        }
        let tenant_id = validate::tenant_id(&claims.tid).ok_or(AuthError::BadTenant)?;
        let pending = Pending {
            claims,
            roles,
            scope,
            tenant_id,
        };
        match scope {
            RoleScope::Program if pending.tenant_id == self.program_tenant_id() => {
                Ok(Resolution::Done(pending.into_actor(Organization::Program)))
            }
            RoleScope::Program => Err(AuthError::NotProgramTenant),
            _ => Ok(Resolution::NeedsLookup(pending)),
        }
    }
}

/// How far token resolution got without the database.
pub enum Resolution {
    Done(Actor),
    /// A partner or customer role: its organisation is looked up by tenant.
    NeedsLookup(Pending),
}

/// Checked claims whose organisation is still to be found.
#[derive(Clone)]
pub struct Pending {
    claims: Claims,
    roles: Vec<Role>,
    scope: RoleScope,
    tenant_id: String,
}

impl Pending {
    /// Finds the partner or customer with the token's tenant: the actor, or
    /// why the token is refused. The store's own errors stay apart from the
    /// refusal, so that a read interrupted at its budget is run again.
    pub fn finish(self, tx: &Tx<'_>) -> crate::error::Result<Result<Actor, AuthError>> {
        let organization = match self.scope {
            RoleScope::Partner => {
                let Some(partner) = partners::by_tenant(tx, &self.tenant_id)? else {
                    return Ok(Err(AuthError::UnknownTenant("partner")));
                };
                Organization::Partner {
                    id: partner.id,
                    partner_type: partner.partner_type,
                }
            }
            RoleScope::Customer => {
                let Some(customer) = customers::by_tenant(tx, &self.tenant_id)? else {
                    return Ok(Err(AuthError::UnknownTenant("customer")));
                };
                Organization::Customer { id: customer.id }
            }
            RoleScope::Program => Organization::Program,
        };
        Ok(Ok(self.into_actor(organization)))
    }

    fn into_actor(self, organization: Organization) -> Actor {
        let email = self.claims.email.or(self.claims.preferred_username);
        Actor {
            subject: self.claims.sub,
            name: self.claims.name.or_else(|| email.clone()),
            email,
            tenant_id: self.tenant_id,
            roles: self.roles,
            organization,
        }
    }
}
