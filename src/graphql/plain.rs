//! Objects whose selected fields are plain values, answered without the
//! engine's work per field.
//!
//! The engine resolves every field of every object as a future of its own and
//! gathers the answers in a map grown one field at a time: for objects made of
//! stored figures (a reconciliation's months, a list page's requests with the
//! names of their customers and partners) that is most of the cost of the
//! answer. A [`PlainList`] or [`PlainObject`] answers itself when its selection
//! is plain — fields without arguments or directives, objects below them with
//! plain selections, and `__typename` — and every field in it is one
//! [`PlainFields::plain`] answers from what is loaded; anything else
//! (fragments, other directives, a field that needs a read) goes to the
//! engine, so that a selection it does not take costs speed, never a
//! different answer. (`@skip` and `@include` never reach here: the engine
//! takes them out of the document before anything resolves.)
//!
//! `tests/api/plain.rs` asks every field the schema lists both ways and
//! compares the answers.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

use super::RequestContext;

/// A field of a plain selection: its response key, its name, and the plain
/// selection below it (empty for a scalar or an enum).
pub struct SelectedField {
    key: Name,
    field: Name,
    below: Vec<SelectedField>,
}

/// The plain selections of one page's objects, worked out once for the page
/// instead of once per object: a page's nodes share their selection set (one
/// per alias of `nodes` or `edges`). Kept by the selection set's address in
/// the request's document, which lives as long as the request; a page lives
/// no longer than its request.
#[derive(Default)]
pub struct PageSelections(Mutex<Vec<(usize, Keys)>>);

/// The keys of a selection set, `None` if it is not plain.
type Keys = Option<Arc<[SelectedField]>>;

impl PageSelections {
    /// The keys of `set` if it is plain, worked out on its first object.
    fn keys(&self, set: &Positioned<SelectionSet>) -> Keys {
        let at = std::ptr::from_ref(set) as usize;
        let Ok(mut known) = self.0.lock() else {
            return plain_keys(&set.node).map(Arc::from);
        };
        if let Some((_, keys)) = known.iter().find(|(a, _)| *a == at) {
            return keys.clone();
        }
        let keys: Keys = plain_keys(&set.node).map(Arc::from);
        known.push((at, keys.clone()));
        keys
    }
}

/// What a plain answer may need besides the object: the request's context.
pub struct PlainContext<'a> {
    pub request: &'a RequestContext,
}

/// An object whose fields without arguments can be answered from what it holds.
pub trait PlainFields: OutputType {
    /// The answer to the field of this GraphQL name, as the engine would give
    /// it, with `below` the plain selection of an object field; `None` if the
    /// field is not one this object answers without the engine.
    fn plain(&self, on: &PlainContext<'_>, field: &str, below: &[SelectedField]) -> Option<Value>;

    /// Where the objects of this one's page share their plain selections
    /// (none: each works its own out).
    fn selections(&self) -> Option<&PageSelections> {
        None
    }
}

/// The keys of a plain selection, or `None` if it is not plain.
fn plain_keys(set: &SelectionSet) -> Option<Vec<SelectedField>> {
    let mut keys: Vec<SelectedField> = Vec::with_capacity(set.items.len());
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let f: &Field = &field.node;
        if !f.arguments.is_empty() || !f.directives.is_empty() {
            return None;
        }
        let key = &f.alias.as_ref().unwrap_or(&f.name).node;
        if let Some(seen) = keys.iter().find(|k| k.key == *key) {
            // The engine merges a key selected twice; a scalar field twice is
            // one answer, anything else is left to the engine.
            if seen.field == f.name.node
                && seen.below.is_empty()
                && f.selection_set.node.items.is_empty()
            {
                continue;
            }
            return None;
        }
        keys.push(SelectedField {
            key: key.clone(),
            field: f.name.node.clone(),
            below: plain_keys(&f.selection_set.node)?,
        });
    }
    Some(keys)
}

/// The answer to a plain selection of `item`, if every field in it is plain.
pub fn object<T: PlainFields>(
    on: &PlainContext<'_>,
    item: &T,
    keys: &[SelectedField],
) -> Option<Value> {
    let mut answer = IndexMap::with_capacity(keys.len());
    for SelectedField { key, field, below } in keys {
        let value = if field.as_str() == "__typename" {
            Value::String(item.introspection_type_name().into_owned())
        } else {
            item.plain(on, field, below)?
        };
        answer.insert(key.clone(), value);
    }
    Some(Value::Object(answer))
}

/// The answer to a nullable object field.
pub fn nullable<T: PlainFields>(
    on: &PlainContext<'_>,
    item: Option<&T>,
    keys: &[SelectedField],
) -> Option<Value> {
    match item {
        Some(item) => object(on, item, keys),
        None => Some(Value::Null),
    }
}

/// `answer` to the selection of `ctx`, if it is plain (its keys worked out
/// once in `selections` if given, else here).
fn plain_answer(
    ctx: &ContextSelectionSet<'_>,
    selections: Option<&PageSelections>,
    answer: impl FnOnce(&PlainContext<'_>, &[SelectedField]) -> Option<Value>,
) -> Option<Value> {
    let on = PlainContext {
        request: ctx.data_opt::<RequestContext>()?,
    };
    match selections {
        Some(selections) => answer(&on, &selections.keys(ctx.item)?),
        None => answer(&on, &plain_keys(&ctx.item.node)?),
    }
}

/// A list field's objects, answered by [`PlainFields::plain`] when the selection allows.
pub struct PlainList<T>(pub Vec<T>);

impl<T: PlainFields> OutputType for PlainList<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let items = |on: &PlainContext<'_>, keys: &[SelectedField]| {
            let items: Option<Vec<Value>> = self.0.iter().map(|i| object(on, i, keys)).collect();
            items.map(Value::List)
        };
        match plain_answer(ctx, None, items) {
            Some(answer) => Ok(answer),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// An object answered by [`PlainFields::plain`] when the selection allows (a
/// connection's node).
pub struct PlainObject<T>(pub T);

impl<T: PlainFields> OutputType for PlainObject<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match plain_answer(ctx, self.0.selections(), |on, keys| {
            object(on, &self.0, keys)
        }) {
            Some(answer) => Ok(answer),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Month;
    use crate::graphql::credits::ReconciliationMonth;
    use crate::graphql::scalars::{self, Decimal};

    fn request() -> RequestContext {
        RequestContext {
            actor: None,
            request_id: "test".into(),
            now: chrono::Utc::now(),
            deadline: None,
        }
    }

    /// Every field the schema gives a type, answered plainly (a field left
    /// out would still be answered right, by the engine, but slowly).
    fn answers_every_field<T: PlainFields>(item: &T) {
        let mut registry = Registry::default();
        T::create_type_info(&mut registry);
        let fields = registry.types[&*T::type_name()]
            .fields()
            .expect("an object type");
        assert!(!fields.is_empty());
        let request = request();
        let on = PlainContext { request: &request };
        for name in fields.keys() {
            assert!(
                item.plain(&on, name, &[]).is_some(),
                "{}.{name}",
                T::type_name()
            );
        }
        assert!(item.plain(&on, "noSuchField", &[]).is_none());
    }

    #[test]
    fn a_reconciliation_month_answers_every_field_of_its_type_plainly() {
        let money = |s: &str| Decimal(s.parse().unwrap());
        let month = ReconciliationMonth {
            month: scalars::Month("2027-03".parse::<Month>().unwrap()),
            partner_id: async_graphql::ID("prt_1".into()),
            partner: None,
            recorded: true,
            acr: money("90.00"),
            third_party_charges: money("1.50"),
            opening_balance: money("340.00"),
            applied: money("90.00"),
            above_aco: None,
            pec: Some(money("0.00")),
            invoice_amount: Some(money("1.50")),
            closing_balance: money("250.00"),
            aco_applies: true,
            covers_all_grants: true,
        };
        answers_every_field(&month);
        let request = request();
        let on = PlainContext { request: &request };
        assert_eq!(month.plain(&on, "aboveAco", &[]), Some(Value::Null));
        assert_eq!(
            month.plain(&on, "acr", &[]),
            Some(Value::String("90.00".into()))
        );
        assert_eq!(
            month.plain(&on, "month", &[]),
            Some(Value::String("2027-03".into()))
        );
    }

    #[test]
    fn a_history_entry_answers_every_field_of_its_type_plainly() {
        answers_every_field(&crate::graphql::aco::AcoRequestEvent {
            at: scalars::DateTime(chrono::Utc::now()),
            actor_subject: "plsr@example.com".into(),
            actor_name: None,
            actor_role: crate::graphql::types::ActorRole::Plsr,
            action: crate::graphql::aco::AcoRequestAction::Approve,
            from_status: None,
            to_status: crate::domain::AcoRequestStatus::Submitted,
            comment: Some("ok".into()),
            recorded_at: None,
        });
    }
}
