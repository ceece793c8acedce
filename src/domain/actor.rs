//! Who is acting: the authenticated caller, resolved to the organisation it acts for.

use super::ids::ObjectId;
use super::{PartnerType, Role};

/// The organisation a caller acts for, found by the token's `tid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Organization {
    /// A partner; its type always comes from the database, never from the token.
    Partner {
        id: ObjectId,
        partner_type: PartnerType,
    },
    Customer {
        id: ObjectId,
    },
    Program,
}

/// The actor role history records for what the service does by itself.
pub const SYSTEM: &str = "SYSTEM";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The token's `sub`; recorded in every history entry.
    pub subject: String,
    /// `name`, `email` or `preferred_username`, if the token carries one.
    pub name: Option<String>,
    pub email: Option<String>,
    pub tenant_id: String,
    /// Every role in the token, all of the same scope as `organization`.
    pub roles: Vec<Role>,
    pub organization: Organization,
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// The service acting by itself (sweeps, expiries, demotions, ledger
    /// settlements): no token, no role (AUTH-3).
    pub fn system() -> Actor {
        Actor {
            subject: "system".into(),
            name: Some("aco-api".into()),
            email: None,
            tenant_id: String::new(),
            roles: Vec::new(),
            organization: Organization::Program,
        }
    }

    /// The first of the token's roles; none for the service itself.
    pub fn primary_role(&self) -> Option<Role> {
        self.roles.first().copied()
    }

    /// The role recorded in every history: the first of the token's roles,
    /// or `SYSTEM` when the service acts by itself (AUTH-3).
    pub fn recorded_role(&self) -> &'static str {
        self.primary_role().map_or(SYSTEM, Role::as_str)
    }

    pub fn partner_id(&self) -> Option<&ObjectId> {
        match &self.organization {
            Organization::Partner { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn customer_id(&self) -> Option<&ObjectId> {
        match &self.organization {
            Organization::Customer { id } => Some(id),
            _ => None,
        }
    }

    pub fn is_program(&self) -> bool {
        self.organization == Organization::Program
    }
}
