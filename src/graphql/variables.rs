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
}
