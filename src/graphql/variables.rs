//! The check of a request's variables against the types its operation
//! declares — the part of the engine's full validation that depends on the
//! request rather than on the document. A document that passed the full
//! validation once runs without it when its variables pass this check (see
//! `http::execute`); when they do not, the full validation runs and says why.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Value as ConstValue, Variables};

use super::gate;

/// The input types of the schema: scalars, enums and input objects.
pub struct InputTypes(Registry);

impl InputTypes {
    pub fn of_schema() -> InputTypes {
        InputTypes(super::registry().0)
    }

    /// Whether every variable the operation declares has a value the full
    /// validation would accept. `false` where in doubt: an undeclared type,
    /// an operation that cannot be picked, a required variable left out.
    pub fn accept(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> bool {
        let Some(operation) = gate::operation(document, operation_name) else {
            return false;
        };
        operation
            .node
            .variable_definitions
            .iter()
            .all(|definition| {
                let definition = &definition.node;
                let ty = definition.var_type.node.to_string();
                match variables.get(&definition.name.node) {
                    Some(value) => self.valid(&ty, value),
                    None => definition.default_value.is_some() || definition.var_type.node.nullable,
                }
            })
    }

    /// The engine's rule for an input value, as its full validation applies it.
    fn valid(&self, ty: &str, value: &ConstValue) -> bool {
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => {
                !matches!(value, ConstValue::Null) && self.valid(inner, value)
            }
            MetaTypeName::List(item) => match value {
                ConstValue::List(items) => items.iter().all(|v| self.valid(item, v)),
                ConstValue::Null => true,
                _ => self.valid(item, value),
            },
            MetaTypeName::Named(_) if matches!(value, ConstValue::Null) => true,
            MetaTypeName::Named(name) => match self.0.types.get(name) {
                Some(MetaType::Scalar { is_valid, .. }) => {
                    is_valid.as_ref().is_none_or(|f| f(value))
                }
                Some(MetaType::Enum { enum_values, .. }) => match value {
                    ConstValue::Enum(v) => enum_values.contains_key(v.as_str()),
                    ConstValue::String(v) => enum_values.contains_key(v.as_str()),
                    _ => false,
                },
                Some(MetaType::InputObject {
                    input_fields,
                    oneof,
                    ..
                }) => match value {
                    ConstValue::Object(fields) => {
                        let known = fields.keys().all(|k| input_fields.contains_key(k.as_str()));
                        let one = !*oneof
                            || (fields.len() == 1
                                && !fields.values().any(|v| matches!(v, ConstValue::Null)));
                        known
                            && one
                            && input_fields.values().all(|field| {
                                match fields.get(field.name.as_str()) {
                                    Some(v) => self.valid(&field.ty, v),
                                    None => {
                                        !MetaTypeName::create(&field.ty).is_non_null()
                                            || field.default_value.is_some()
                                    }
                                }
                            })
                    }
                    _ => false,
                },
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accepts(query: &str, variables: serde_json::Value) -> bool {
        let document = async_graphql::parser::parse_query(query).unwrap();
        InputTypes::of_schema().accept(&document, None, &Variables::from_json(variables))
    }

    #[test]
    fn values_of_the_declared_types_pass() {
        let list = "query($filter: AcoRequestFilter, $after: String) { acoRequests(first: 20, after: $after, filter: $filter) { totalCount } }";
        assert!(accepts(list, json!({ "filter": {} })));
        assert!(accepts(
            list,
            json!({ "filter": { "status": ["ACTIVE", "EXHAUSTED"], "overdue": true }, "after": null })
        ));
        assert!(accepts(
            list,
            json!({ "filter": { "status": "SUBMITTED" } })
        ));
        assert!(accepts(list, json!({})));
        let update = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { userErrors { code } } }";
        assert!(accepts(
            update,
            json!({ "input": { "id": "prt_1", "companyName": "Contoso" } })
        ));
    }

    #[test]
    fn anything_doubtful_is_left_to_the_full_validation() {
        let list = "query($filter: AcoRequestFilter) { acoRequests(first: 20, filter: $filter) { totalCount } }";
        for bad in [
            json!({ "filter": { "unknown": 1 } }),
            json!({ "filter": { "status": ["NOT_A_STATE"] } }),
            json!({ "filter": { "status": [null] } }),
            json!({ "filter": { "overdue": "yes" } }),
            json!({ "filter": "not an object" }),
            json!({ "filter": [{}] }),
        ] {
            assert!(!accepts(list, bad.clone()), "{bad}");
        }
        let update = "mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { userErrors { code } } }";
        for bad in [
            json!({}),
            json!({ "input": null }),
            json!({ "input": { "companyName": "No id" } }),
            json!({ "input": { "id": "prt_1", "companyName": 42 } }),
            json!({ "input": { "id": "prt_1", "defaultAddress": { "city": "Oslo", "planet": "Earth" } } }),
        ] {
            assert!(!accepts(update, bad.clone()), "{bad}");
        }
        let two = "query A { health } query B { health }";
        assert!(!accepts(two, json!({})));
    }

    /// Values of every kind for a type: the scalar pool for a scalar, each
    /// value and strangers for an enum, and for an input object a whole one
    /// with each field left out, replaced or joined by a stranger.
    fn candidates(types: &InputTypes, ty: &str, depth: usize) -> Vec<ConstValue> {
        let json = |v: serde_json::Value| ConstValue::from_json(v).unwrap();
        match MetaTypeName::create(ty) {
            MetaTypeName::NonNull(inner) => candidates(types, inner, depth),
            MetaTypeName::List(item) => {
                let items = candidates(types, item, depth);
                let mut values = vec![ConstValue::List(vec![]), ConstValue::Null];
                for item in items.iter().take(12) {
                    values.push(ConstValue::List(vec![item.clone()]));
                    values.push(item.clone());
                }
                values
            }
            MetaTypeName::Named(name) => {
                let mut values = vec![ConstValue::Null, json(json!({})), json(json!([]))];
                match &types.0.types[name] {
                    MetaType::Scalar { .. } => values.extend(
                        [
                            json!(""),
                            json!("x"),
                            json!("prt_1"),
                            json!("req_0000000000000000"),
                            json!("00000000-0000-4000-8000-000000000001"),
                            json!("2027-03"),
                            json!("2027-13"),
                            json!("2027-03-01"),
                            json!("2027-02-30"),
                            json!("2027-03-01T10:00:00Z"),
                            json!("2027-03-01 10:00"),
                            json!("12.50"),
                            json!("-1"),
                            json!("1e3"),
                            json!("12.5.0"),
                            json!("someone@example.com"),
                            json!(0),
                            json!(-1),
                            json!(20),
                            json!(1_i64 << 40),
                            json!(1.5),
                            json!(true),
                            json!(["x"]),
                        ]
                        .map(json),
                    ),
                    MetaType::Enum { enum_values, .. } => {
                        values.extend(enum_values.keys().map(|v| json(json!(v))));
                        values.extend([json(json!("NOT_A_VALUE")), json(json!(1))]);
                    }
                    MetaType::InputObject { input_fields, .. } => {
                        let field = |f: &async_graphql::registry::MetaInputValue| {
                            let all = if depth < 3 {
                                candidates(types, &f.ty, depth + 1)
                            } else {
                                vec![]
                            };
                            let good = all.iter().find(|v| types.valid(&f.ty, v)).cloned();
                            (f.name.clone(), good, all)
                        };
                        let fields: Vec<_> = input_fields.values().map(field).collect();
                        let whole: async_graphql::indexmap::IndexMap<_, _> = fields
                            .iter()
                            .filter_map(|(name, good, _)| {
                                Some((async_graphql::Name::new(name), good.clone()?))
                            })
                            .collect();
                        values.push(ConstValue::Object(whole.clone()));
                        values.push(ConstValue::List(vec![ConstValue::Object(whole.clone())]));
                        let mut stranger = whole.clone();
                        stranger.insert(async_graphql::Name::new("noSuchField"), json(json!(1)));
                        values.push(ConstValue::Object(stranger));
                        for (name, _, all) in &fields {
                            let mut without = whole.clone();
                            without.shift_remove(name.as_str());
                            values.push(ConstValue::Object(without));
                            for value in all.iter().take(if depth == 0 { 40 } else { 8 }) {
                                let mut with = whole.clone();
                                with.insert(async_graphql::Name::new(name), value.clone());
                                values.push(ConstValue::Object(with));
                            }
                        }
                    }
                    _ => {}
                }
                values
            }
        }
    }

    /// For every argument type of every root field, read from the schema, and
    /// values of every kind: a request the check lets onto the fast path is
    /// answered exactly as the full validation answers it, and each type has
    /// values that take the fast path. A new input type or field is covered
    /// without a change here.
    #[tokio::test]
    async fn the_fast_path_answers_every_input_value_as_the_full_validation_does() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::AppConfig::for_dev(dir.path().join("aco.db"));
        let db = crate::store::Db::open(&config.store).unwrap();
        let data = crate::graphql::AppData {
            db,
            config: std::sync::Arc::new(config),
        };
        let schema =
            crate::graphql::build_schema(data.clone(), async_graphql::ValidationMode::Strict);
        let fast_schema = crate::graphql::build_schema(data, async_graphql::ValidationMode::Fast);
        let types = InputTypes::of_schema();
        let (registry, roots) = crate::graphql::registry();
        let mut seen = std::collections::HashSet::new();
        let (mut checked, mut types_checked) = (0, 0);
        for (operation, root) in &roots[..2] {
            let Some(MetaType::Object { fields, .. }) = registry.types.get(root) else {
                continue;
            };
            for field in fields.values() {
                let returns = MetaTypeName::concrete_typename(&field.ty);
                let selection = match registry.types[returns] {
                    MetaType::Scalar { .. } | MetaType::Enum { .. } => "",
                    _ => "{ __typename }",
                };
                for argument in field.args.values() {
                    if !seen.insert(argument.ty.clone()) {
                        continue;
                    }
                    types_checked += 1;
                    // The field's other required arguments get values both accept.
                    let mut declared = vec![format!("$v: {}", argument.ty)];
                    let mut passed = vec![format!("{}: $v", argument.name)];
                    let mut others = Variables::default();
                    for (i, other) in field.args.values().enumerate() {
                        let required = MetaTypeName::create(&other.ty).is_non_null()
                            && other.default_value.is_none();
                        if other.name == argument.name || !required {
                            continue;
                        }
                        let good = candidates(&types, &other.ty, 0)
                            .into_iter()
                            .find(|v| types.valid(&other.ty, v))
                            .unwrap_or(ConstValue::Null);
                        declared.push(format!("$o{i}: {}", other.ty));
                        passed.push(format!("{}: $o{i}", other.name));
                        others.insert(async_graphql::Name::new(format!("o{i}")), good);
                    }
                    let query = format!(
                        "{operation} Check({}) {{ {}({}) @skip(if: true) {selection} }}",
                        declared.join(", "),
                        field.name,
                        passed.join(", ")
                    );
                    let document = async_graphql::parser::parse_query(&query).unwrap();
                    let mut values: Vec<Option<ConstValue>> = vec![None];
                    values.extend(candidates(&types, &argument.ty, 0).into_iter().map(Some));
                    let mut agreed_valid = false;
                    for value in values {
                        let mut variables = others.clone();
                        if let Some(value) = &value {
                            variables.insert(async_graphql::Name::new("v"), value.clone());
                        }
                        let fast = types.accept(&document, None, &variables);
                        let request = || {
                            async_graphql::Request::new(query.clone()).variables(variables.clone())
                        };
                        let full = schema.execute(request()).await;
                        let answer =
                            |r: &async_graphql::Response| serde_json::to_string(r).unwrap();
                        // What the check lets through, the fast path answers
                        // as the full validation would.
                        if fast {
                            assert_eq!(
                                answer(&fast_schema.execute(request()).await),
                                answer(&full),
                                "{query} with $v = {value:?}"
                            );
                        }
                        // Where the check is in doubt it refuses, and the full
                        // path answers: slower, never different.
                        agreed_valid |= fast && full.errors.is_empty();
                        checked += 1;
                    }
                    assert!(
                        agreed_valid,
                        "{query}: no value of {} takes the fast path",
                        argument.ty
                    );
                }
            }
        }
        assert!(types_checked > 20, "{types_checked} argument types");
        assert!(checked > 1000, "{checked} values");
    }
}
