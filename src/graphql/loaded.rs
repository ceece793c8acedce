//! Objects a list page loads in brief.
//!
//! A page of requests reads, for its rows and for the customers and partners
//! nested in them, only the columns its selection needs when every field
//! selected below them is one a brief row answers (a list shows a request's
//! state and the names of its customer and partner, not every column of
//! three tables). Such an object keeps the rest of its row unloaded: a field
//! that needs it reads the whole row by id, once, through the same
//! authorization as every other path, so a selection the check did not
//! foresee costs a read, never a wrong answer.

use std::sync::Arc;

use async_graphql::{Context, Lookahead};
use tokio::sync::OnceCell;

use super::read;
use crate::domain::actor::Actor;
use crate::domain::ids::ObjectId;
use crate::error::Result;
use crate::store::{NamedRow, Tx};

/// Whether every field selected below each of `looks` is one of `brief`,
/// through aliases, fragment spreads and inline fragments (a field under
/// `@skip` or `@include` counts as selected).
pub fn only(looks: &[Lookahead<'_>], brief: &[&str]) -> bool {
    looks
        .iter()
        .flat_map(|look| look.selection_fields())
        .all(|field| field.selection_set().all(|f| brief.contains(&f.name())))
}

/// The whole row of an object that may have been loaded in brief.
pub struct LazyRow<R>(OnceCell<Arc<R>>);

impl<R: Send + Sync + 'static> LazyRow<R> {
    /// A row already loaded.
    pub fn loaded(row: Arc<R>) -> Self {
        LazyRow(OnceCell::new_with(Some(row)))
    }

    /// A row to read when a field first needs it.
    pub fn later() -> Self {
        LazyRow(OnceCell::new())
    }

    /// The row, read with `load` (as the caller, in a read transaction) if
    /// it is not loaded yet.
    pub async fn get<F>(&self, ctx: &Context<'_>, load: F) -> async_graphql::Result<&R>
    where
        F: FnOnce(&Tx<'_>, &Actor) -> Result<R> + Clone + Send + 'static,
    {
        let row = self
            .0
            .get_or_try_init(|| async { read(ctx, load).await.map(Arc::new) })
            .await?;
        Ok(row)
    }

    /// The row if it is loaded.
    pub fn get_now(&self) -> Option<&R> {
        self.0.get().map(|row| &**row)
    }
}

/// A row a list page may load in brief: its id and name, and how to read it
/// whole as a caller may see it.
pub trait BriefRow: Send + Sync + Sized + 'static {
    fn id(&self) -> &ObjectId;
    fn name(&self) -> &str;
    fn read(tx: &Tx<'_>, actor: &Actor, id: &ObjectId) -> Result<Self>;
}

/// An object's whole row, or its id and name with the rest read when needed.
pub enum Loaded<R> {
    Whole(Arc<R>),
    Brief(Arc<NamedRow>, LazyRow<R>),
}

impl<R: BriefRow> Loaded<R> {
    pub fn brief(named: Arc<NamedRow>) -> Self {
        Loaded::Brief(named, LazyRow::later())
    }

    pub fn id(&self) -> &ObjectId {
        match self {
            Loaded::Whole(row) => row.id(),
            Loaded::Brief(named, _) => &named.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Loaded::Whole(row) => row.name(),
            Loaded::Brief(named, _) => &named.name,
        }
    }

    /// Its id and name, as the engine answers them (see [`PlainFields`](super::plain::PlainFields)).
    pub fn plain(&self, field: &str) -> Option<async_graphql::Value> {
        Some(match field {
            "id" => async_graphql::Value::String(self.id().to_string()),
            "companyName" => async_graphql::Value::String(self.name().to_owned()),
            _ => return None,
        })
    }

    /// The whole row, read by id as the caller may see it if it was loaded in brief.
    pub async fn row(&self, ctx: &Context<'_>) -> async_graphql::Result<&R> {
        match self {
            Loaded::Whole(row) => Ok(row),
            Loaded::Brief(named, whole) => {
                let id = named.id.clone();
                whole
                    .get(ctx, move |tx, actor| R::read(tx, actor, &id))
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AppConfig;
    use crate::domain::Role;
    use crate::domain::actor::Organization;
    use crate::graphql::types::Customer;
    use crate::graphql::{AppData, RequestContext};
    use crate::store::Engine;
    use crate::store::{Db, customers};
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};

    /// A root that hands out one customer in brief, as a list page does.
    struct Query(Arc<NamedRow>);

    #[Object]
    impl Query {
        async fn customer(&self) -> Customer {
            Customer::brief(self.0.clone())
        }
    }

    fn partner_user((id, partner_type): (ObjectId, crate::domain::PartnerType)) -> Actor {
        Actor {
            subject: "user@partner.example".into(),
            name: None,
            email: None,
            tenant_id: "00000000-0000-4000-8000-000000000099".into(),
            roles: vec![Role::PartnerUser],
            organization: Organization::Partner { id, partner_type },
        }
    }

    #[tokio::test]
    async fn a_brief_object_reads_the_rest_of_its_row_as_the_caller_may_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig::for_dev(dir.path().join("aco.db"));
        let db = Db::open(&config.store).unwrap();
        crate::demo::seed(&db, &config).await.unwrap();
        // A customer, its transacting partner (related to it), and the demo's
        // direct bill partner, which is not.
        let demo_customer = crate::demo::CUSTOMERS
            .iter()
            .find(|c| c.partner != "contoso" && !c.provider_relationship)
            .expect("a demo customer of a reseller");
        let tenant_of = |key: &str| {
            crate::demo::PARTNERS
                .iter()
                .find(|p| p.key == key)
                .map(|p| p.tenant_id)
                .expect("a demo partner")
        };
        let (related_tenant, stranger_tenant) =
            (tenant_of(demo_customer.partner), tenant_of("contoso"));
        let (customer, related, stranger) = db
            .read(move |tx| {
                let customer =
                    customers::by_tenant(tx, demo_customer.tenant_id)?.expect("the customer");
                let partner = |tenant: &str| -> crate::error::Result<_> {
                    let row = crate::store::partners::by_tenant(tx, tenant)?.expect("the partner");
                    Ok((row.id, row.partner_type))
                };
                Ok((
                    customer,
                    partner(related_tenant)?,
                    partner(stranger_tenant)?,
                ))
            })
            .await
            .unwrap();
        let named = Arc::new(NamedRow {
            id: customer.id.clone(),
            name: customer.company_name.clone(),
        });
        let schema = Schema::build(Query(named), EmptyMutation, EmptySubscription)
            .data(AppData {
                db: db.clone(),
                config: Arc::new(config.clone()),
            })
            .finish();
        let ask = |actor: Actor| {
            schema.execute(
                Request::new("{ customer { id companyName tenantId domain version } }").data(
                    RequestContext {
                        actor: Some(actor),
                        request_id: "test".into(),
                        now: chrono::Utc::now(),
                        deadline: None,
                    },
                ),
            )
        };

        // The related partner gets the fields the brief did not load from the row.
        let answer = ask(partner_user(related)).await;
        assert!(answer.errors.is_empty(), "{:?}", answer.errors);
        assert_eq!(
            answer.data.into_json().unwrap(),
            serde_json::json!({ "customer": {
                "id": customer.id.as_str(),
                "companyName": customer.company_name,
                "tenantId": customer.tenant_id,
                "domain": customer.domain,
                "version": customer.version,
            } })
        );
        // Another partner is refused the row as on every other path: NOT_FOUND.
        let answer = ask(partner_user(stranger)).await;
        let codes: Vec<String> = answer
            .errors
            .iter()
            .filter_map(|e| e.extensions.as_ref()?.get("code").map(|c| c.to_string()))
            .collect();
        assert!(!codes.is_empty(), "{:?}", answer.errors);
        assert!(codes.iter().all(|c| c.contains("NOT_FOUND")), "{codes:?}");
    }
}
