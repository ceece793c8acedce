//! Loading a page of requests: what its nodes ask for of their customers,
//! partners and last events (`NestedNeeds`), loaded for the whole page at once
//! (`Prefetch`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Lookahead};

use super::event::AcoRequestEvent;
use crate::authz;
use crate::domain::actor::Actor;
use crate::domain::ids::ObjectId;
use crate::error::Result;
use crate::graphql::loaded;
use crate::graphql::plain;
use crate::graphql::types::{Customer, Partner};
use crate::store::among::{self, AmongIds};
use crate::store::customers::CustomerRow;
use crate::store::partners::PartnerRow;
use crate::store::requests::AcoRequestBrief;
use crate::store::{NamedRow, Tx};
use crate::store::{customers, partners, requests as request_store};

/// What a list page of requests loads for all of its rows at once — one
/// query per kind of nested object, through the same scopes as every other
/// path — instead of one query per row (no N+1).
#[derive(Default)]
pub struct Prefetch {
    pub(super) customers: Option<Nested<CustomerRow>>,
    pub(super) partners: Option<Nested<PartnerRow>>,
    pub(super) last_events: Option<ById<AcoRequestEvent>>,
    /// The page's plain selections, shared by its requests.
    pub(super) selections: plain::PageSelections,
}

/// A page's nested objects by their id. The ids are the service's own, not
/// a client's choice, so a fast hash serves (no flooding to resist).
pub(super) type ById<R> = HashMap<ObjectId, Arc<R>, foldhash::fast::RandomState>;

/// The nested objects of one kind a page loaded, whole or in brief.
pub(super) enum Nested<R> {
    Whole(ById<R>),
    Brief(ById<NamedRow>),
}

impl Nested<CustomerRow> {
    pub(super) fn customer(&self, id: &ObjectId) -> Option<Customer> {
        match self {
            Nested::Whole(rows) => rows.get(id).cloned().map(Customer::whole),
            Nested::Brief(rows) => rows.get(id).cloned().map(Customer::brief),
        }
    }
}

impl Nested<PartnerRow> {
    pub(super) fn partner(&self, id: &ObjectId) -> Option<Partner> {
        match self {
            Nested::Whole(rows) => rows.get(id).cloned().map(Partner::whole),
            Nested::Brief(rows) => rows.get(id).cloned().map(Partner::brief),
        }
    }
}

/// How much of a nested object a selection needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Extent {
    /// Its id and name (and what starts from its id).
    Brief,
    Whole,
}

/// Which nested objects a list's nodes ask for, and how much of each.
#[derive(Clone, Copy, Default, Debug)]
pub struct NestedNeeds {
    customer: Option<Extent>,
    partner: Option<Extent>,
    last_event: bool,
}

impl NestedNeeds {
    /// Reads the selection of a field that returns one request.
    pub fn of_object(ctx: &Context<'_>) -> NestedNeeds {
        NestedNeeds::below(&[ctx.look_ahead()])
    }

    /// Reads the selection below `nodes` and `edges { node }` of a connection field.
    pub fn of(ctx: &Context<'_>) -> NestedNeeds {
        let look = ctx.look_ahead();
        NestedNeeds::below(&NestedNeeds::nodes(&look))
    }

    /// The selections of a connection's nodes.
    pub(super) fn nodes<'a>(look: &Lookahead<'a>) -> [Lookahead<'a>; 2] {
        [look.field("nodes"), look.field("edges").field("node")]
    }

    fn below(requests: &[Lookahead<'_>]) -> NestedNeeds {
        let depth = |fields: &[&str], brief: &[&str]| -> Option<Extent> {
            let looks: Vec<Lookahead<'_>> = requests
                .iter()
                .flat_map(|r| fields.iter().map(move |f| r.field(f)))
                .filter(|l| l.exists())
                .collect();
            if looks.is_empty() {
                None
            } else if loaded::only(&looks, brief) {
                Some(Extent::Brief)
            } else {
                Some(Extent::Whole)
            }
        };
        NestedNeeds {
            customer: depth(&["customer"], Customer::BRIEF_FIELDS),
            partner: depth(&["partner", "indirectProvider"], Partner::BRIEF_FIELDS),
            last_event: requests.iter().any(|r| r.field("lastEvent").exists()),
        }
    }
}

impl Prefetch {
    /// Loads what `wanted` names for `rows`, as `actor` may see it: one
    /// statement per kind, sent together.
    pub fn load(
        tx: &Tx<'_>,
        actor: &Actor,
        rows: &[&AcoRequestBrief],
        wanted: NestedNeeds,
    ) -> Result<Prefetch> {
        let customer_ids: Vec<&str> = match wanted.customer {
            Some(_) => rows.iter().map(|r| r.customer_id.as_str()).collect(),
            None => Vec::new(),
        };
        let partner_ids: Vec<&str> = match wanted.partner {
            Some(_) => rows
                .iter()
                .map(|r| r.partner_id.as_str())
                .chain(
                    rows.iter()
                        .filter_map(|r| r.indirect_provider_id.as_ref().map(|p| p.as_str())),
                )
                .collect(),
            None => Vec::new(),
        };
        let seqs: Vec<i64> = match wanted.last_event {
            true => rows.iter().filter_map(|r| r.last_history_id).collect(),
            false => Vec::new(),
        };
        let customers = wanted.customer.map(|extent| {
            let scope = authz::customer_scope(actor);
            match extent {
                Extent::Whole => Load::Whole(customers::every_among(tx, &customer_ids, &scope)),
                Extent::Brief => Load::Brief(customers::named_among(tx, &customer_ids, &scope)),
            }
        });
        let partners = wanted.partner.map(|extent| {
            let scope = authz::partner_scope(actor);
            match extent {
                Extent::Whole => Load::Whole(partners::every_among(tx, &partner_ids, &scope)),
                Extent::Brief => Load::Brief(partners::named_among(tx, &partner_ids, &scope)),
            }
        });
        let events = wanted
            .last_event
            .then(|| request_store::history_among(tx, &seqs));
        let lookups: Vec<&dyn among::Lookup> = [
            customers.as_ref().map(Load::lookup),
            partners.as_ref().map(Load::lookup),
            events.as_ref().map(|e| e as &dyn among::Lookup),
        ]
        .into_iter()
        .flatten()
        .collect();
        tx.together(&lookups)?;
        Ok(Prefetch {
            customers: customers.map(Load::nested),
            partners: partners.map(Load::nested),
            last_events: events
                .map(|found| {
                    found
                        .rows()
                        .into_iter()
                        .map(|h| {
                            Ok((
                                h.request_id.clone(),
                                Arc::new(AcoRequestEvent::try_from(h)?),
                            ))
                        })
                        .collect::<Result<_>>()
                })
                .transpose()?,
            ..Prefetch::default()
        })
    }
}

/// The lookup of one kind of nested object, whole or in brief.
enum Load<'a, R> {
    Whole(AmongIds<'a, R>),
    Brief(AmongIds<'a, NamedRow>),
}

impl<R> Load<'_, R> {
    fn lookup(&self) -> &dyn among::Lookup {
        match self {
            Load::Whole(among) => among,
            Load::Brief(among) => among,
        }
    }
}

impl<R: HasId> Load<'_, R> {
    fn nested(self) -> Nested<R> {
        match self {
            Load::Whole(among) => Nested::Whole(by_id(among.rows(), R::id)),
            Load::Brief(among) => Nested::Brief(by_id(among.rows(), |n| &n.id)),
        }
    }
}

/// A row with an object id.
trait HasId {
    fn id(&self) -> &ObjectId;
}

impl HasId for CustomerRow {
    fn id(&self) -> &ObjectId {
        &self.id
    }
}

impl HasId for PartnerRow {
    fn id(&self) -> &ObjectId {
        &self.id
    }
}

/// Rows by their id, each shared by the requests that nest it.
fn by_id<R>(rows: Vec<R>, id: impl Fn(&R) -> &ObjectId) -> ById<R> {
    rows.into_iter()
        .map(|row| (id(&row).clone(), Arc::new(row)))
        .collect()
}
