//! Opaque, typed object ids: `<prefix>_<uuid v7 in hex>`.
//!
//! The prefix tells `node(id:)` which kind of object to look for; the UUID v7
//! body sorts by creation time, which is the order of every list.

use std::fmt;
use uuid::Uuid;

/// The kinds of object that have a global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Partner,
    Customer,
    ResellerRelationship,
    CustomerAgreement,
    AcoRequest,
    AcoAgreement,
    CreditGrant,
    BenefitCredit,
    WebhookSubscription,
    /// `msg_…`, as Standard Webhooks names a message: a delivery's `webhook-id`.
    WebhookDelivery,
}

impl IdKind {
    const ALL: [IdKind; 10] = [
        IdKind::Partner,
        IdKind::Customer,
        IdKind::ResellerRelationship,
        IdKind::CustomerAgreement,
        IdKind::AcoRequest,
        IdKind::AcoAgreement,
        IdKind::CreditGrant,
        IdKind::BenefitCredit,
        IdKind::WebhookSubscription,
        IdKind::WebhookDelivery,
    ];

    fn prefix(self) -> &'static str {
        match self {
            IdKind::Partner => "prt",
            IdKind::Customer => "cus",
            IdKind::ResellerRelationship => "rel",
            IdKind::CustomerAgreement => "mca",
            IdKind::AcoRequest => "req",
            IdKind::AcoAgreement => "agr",
            IdKind::CreditGrant => "grt",
            IdKind::BenefitCredit => "bcr",
            IdKind::WebhookSubscription => "whk",
            IdKind::WebhookDelivery => "msg",
        }
    }

    /// The GraphQL type name of this kind of object.
    pub fn type_name(self) -> &'static str {
        match self {
            IdKind::Partner => "Partner",
            IdKind::Customer => "Customer",
            IdKind::ResellerRelationship => "ResellerRelationship",
            IdKind::CustomerAgreement => "CustomerAgreement",
            IdKind::AcoRequest => "AcoRequest",
            IdKind::AcoAgreement => "AcoAgreement",
            IdKind::CreditGrant => "CreditGrant",
            IdKind::BenefitCredit => "BenefitCredit",
            IdKind::WebhookSubscription => "WebhookSubscription",
            IdKind::WebhookDelivery => "WebhookDelivery",
        }
    }
}

/// A validated object id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(String);

/// An id that is not one of ours.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("not a valid id")]
    Malformed,
    #[error("expected a {expected} id, got a {actual} id")]
    WrongKind {
        expected: &'static str,
        actual: &'static str,
    },
}

impl ObjectId {
    /// A new id of the given kind, ordered after every id made before it.
    pub fn generate(kind: IdKind) -> Self {
        ObjectId(format!("{}_{}", kind.prefix(), Uuid::now_v7().simple()))
    }

    /// Parses any of our ids.
    pub fn parse(text: &str) -> Result<(IdKind, ObjectId), IdError> {
        let (prefix, body) = text.split_once('_').ok_or(IdError::Malformed)?;
        let kind = IdKind::ALL
            .into_iter()
            .find(|k| k.prefix() == prefix)
            .ok_or(IdError::Malformed)?;
        let valid_body = body.len() == 32
            && body
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid_body {
            return Err(IdError::Malformed);
        }
        Ok((kind, ObjectId(text.to_owned())))
    }

    /// Parses an id that must be of one kind.
    pub fn parse_kind(text: &str, expected: IdKind) -> Result<ObjectId, IdError> {
        let (kind, id) = Self::parse(text)?;
        if kind != expected {
            return Err(IdError::WrongKind {
                expected: expected.type_name(),
                actual: kind.type_name(),
            });
        }
        Ok(id)
    }

    /// Wraps an id read back from the database, where it was validated on the way in.
    pub fn from_trusted(text: String) -> Self {
        ObjectId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let a = ObjectId::generate(IdKind::Customer);
        let b = ObjectId::generate(IdKind::Customer);
        assert!(a < b);
        assert_eq!(
            ObjectId::parse(a.as_str()).unwrap(),
            (IdKind::Customer, a.clone())
        );
        assert_eq!(
            ObjectId::parse_kind(a.as_str(), IdKind::Partner),
            Err(IdError::WrongKind {
                expected: "Partner",
                actual: "Customer"
            })
        );
    }

    #[test]
    fn foreign_text_is_malformed() {
        for bad in [
            "",
            "cus",
            "cus_",
            "xyz_0123",
            "cus_0190ZZZZ",
            "cus_0190'; DROP TABLE x",
        ] {
            assert_eq!(ObjectId::parse(bad), Err(IdError::Malformed), "{bad}");
        }
    }
}
