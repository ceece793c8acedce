//! The plain answers (`src/graphql/plain.rs`) against the engine, field by
//! field as the schema lists them: every field without arguments of every
//! type a list answers plainly, and every such field of the objects below
//! it, asked once plainly and once inside an inline fragment, which sends
//! the same selection to the engine. (`@skip` and `@include` would not: the
//! engine takes them out before anything resolves.) A field added to the
//! schema is asked here without a change to this test.

use aco_api::domain::Role;
use serde_json::{Value, json};

use crate::demo::demo_world;
use crate::support::*;

/// A field of a type, as introspection gives it: its name, whether it takes
/// arguments, and the named type below its list and non-null wrappers.
struct FieldOf {
    name: String,
    has_arguments: bool,
    kind: String,
    type_name: String,
}

async fn fields_of(world: &World, type_name: &str) -> Vec<FieldOf> {
    const TYPE: &str = "query($name: String!) { __type(name: $name) { fields(includeDeprecated: true) { name args { name } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let data = world
        .app
        .ok(&world.admin, TYPE, json!({ "name": type_name }))
        .await;
    let fields = data["__type"]["fields"].as_array().expect("an object type");
    fields
        .iter()
        .map(|f| {
            let mut ty = &f["type"];
            while ty["name"].is_null() {
                ty = &ty["ofType"];
            }
            FieldOf {
                name: f["name"].as_str().unwrap().to_owned(),
                has_arguments: !f["args"].as_array().unwrap().is_empty(),
                kind: ty["kind"].as_str().unwrap().to_owned(),
                type_name: ty["name"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// Each selection of one field of `type_name` (and, for an object, of one
/// field below it) that a plain answer may take, in two spellings: plain,
/// and sent to the engine.
async fn selections(world: &World, type_name: &str) -> Vec<(String, String)> {
    let mut selections = vec!["__typename".to_owned()];
    for field in fields_of(world, type_name).await {
        if field.has_arguments {
            continue; // never plain
        }
        let name = &field.name;
        if field.kind == "SCALAR" || field.kind == "ENUM" {
            selections.push(name.clone());
            continue;
        }
        let mut below = vec!["__typename".to_owned()];
        for inner in fields_of(world, &field.type_name).await {
            if inner.has_arguments {
                continue;
            }
            below.push(if inner.kind == "SCALAR" || inner.kind == "ENUM" {
                inner.name
            } else {
                format!("{} {{ __typename }}", inner.name)
            });
        }
        selections.extend(below.iter().map(|inner| format!("{name} {{ {inner} }}")));
    }
    selections
        .into_iter()
        .map(|plain| {
            let engine = format!("... on {type_name} {{ {plain} }}");
            (plain, engine)
        })
        .collect()
}

/// Asks `list` (a query with `SELECTION` where the objects' selection goes)
/// with each selection in both spellings, and fails on any difference.
/// Returns how many objects the list held.
async fn agree(
    world: &World,
    token: &str,
    list: &str,
    variables: &Value,
    selections: &[(String, String)],
) -> usize {
    let mut objects = 0;
    for (plain, engine) in selections {
        let ask = |selection: &str| list.replace("SELECTION", selection);
        let plainly = world
            .app
            .gql(Some(token), &ask(plain), variables.clone())
            .await;
        let by_engine = world
            .app
            .gql(Some(token), &ask(engine), variables.clone())
            .await;
        assert!(plainly.get("errors").is_none(), "{plain}: {plainly}");
        assert_eq!(plainly, by_engine, "{list} with {plain}");
        objects = objects.max(count_objects(&plainly["data"]));
    }
    objects
}

/// The objects of the first list in an answer.
fn count_objects(data: &Value) -> usize {
    match data {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.values().map(count_objects).max().unwrap_or(0),
        _ => 0,
    }
}

#[tokio::test]
async fn every_field_a_list_answers_plainly_is_answered_as_the_engine_answers_it() {
    let world = demo_world().await;
    let requests = selections(&world, "AcoRequest").await;
    let months = selections(&world, "ReconciliationMonth").await;
    assert!(requests.len() > 60, "{} selections", requests.len());

    // A demo partner with requests, and a demo customer with months of usage.
    let data = world
        .app
        .ok(
            &world.admin,
            "{ acoRequests(first: 100) { nodes { partner { id tenantId } customer { id } } } }",
            json!({}),
        )
        .await;
    let nodes = data["acoRequests"]["nodes"].as_array().unwrap();
    let partner = &nodes[0]["partner"];
    let partner_user = world.app.token(
        partner["tenantId"].as_str().unwrap(),
        &[Role::PartnerUser],
        "user@partner.example",
    );
    let used = aco_api::demo::CUSTOMERS
        .iter()
        .find(|c| {
            c.credit
                .as_ref()
                .is_some_and(|credit| credit.usage.len() > 2)
        })
        .expect("a demo customer with usage");
    let data = world
        .app
        .ok(
            &world.admin,
            "{ customers(first: 100) { nodes { id tenantId } } }",
            json!({}),
        )
        .await;
    let customer = data["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tenantId"] == used.tenant_id)
        .expect("the demo customer with usage");
    let customer = json!({ "id": customer["id"] });

    const ALL: &str =
        "{ acoRequests(first: 25) { nodes { SELECTION } edges { node { SELECTION } } } }";
    const PARTNERS: &str =
        "query($id: ID!) { partner(id: $id) { acoRequests(first: 50) { nodes { SELECTION } } } }";
    const CUSTOMERS: &str =
        "query($id: ID!) { customer(id: $id) { acoRequests(first: 50) { nodes { SELECTION } } } }";
    const MONTHS: &str = "query($id: ID!) { customer(id: $id) { reconciliation(from: \"2025-01\", to: \"2027-01\") { SELECTION } } }";
    let none = json!({});
    let partner_id = json!({ "id": partner["id"] });
    assert!(agree(&world, &world.admin, ALL, &none, &requests).await > 10);
    assert!(agree(&world, &partner_user, ALL, &none, &requests).await > 1);
    assert!(agree(&world, &partner_user, PARTNERS, &partner_id, &requests).await > 1);
    assert!(agree(&world, &world.admin, CUSTOMERS, &customer, &requests).await > 0);
    assert!(agree(&world, &world.admin, MONTHS, &customer, &months).await > 2);
}
