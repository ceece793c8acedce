//! `schema.graphql` is always what the server serves.

#[test]
fn schema_file_matches_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let served = aco_api::graphql::sdl();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn enums_use_the_domains_values() {
    let sdl = aco_api::graphql::sdl();
    for (name, values) in [
        (
            "PartnerType",
            "DIRECT_BILL INDIRECT_RESELLER INDIRECT_PROVIDER",
        ),
        ("CustomerSegment", "SMB ENTERPRISE"),
        (
            "OrganizationKind",
            "COMMERCIAL NON_PROFIT EDUCATION GOVERNMENT",
        ),
        ("RelationshipStatus", "PENDING ACTIVE REVOKED"),
        (
            "Role",
            "PARTNER_ADMIN PARTNER_USER CUSTOMER_SIGNER PLSR CHANNEL_SALES FINANCE OPERATIONS PROGRAM_ADMIN",
        ),
    ] {
        let start = sdl
            .find(&format!("enum {name} {{"))
            .unwrap_or_else(|| panic!("enum {name}"));
        let body = &sdl[start..start + sdl[start..].find('}').unwrap()];
        let found: Vec<&str> = body
            .lines()
            .skip(1)
            .map(str::trim)
            // The values' lines, not their descriptions.
            .filter(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
            .collect();
        assert_eq!(found.join(" "), values, "{name}");
    }
}

/// The standard introspection queries of the tools clients use — GraphiQL,
/// GraphQL Codegen and Apollo (graphql-js 16), Python `gql` (graphql-core 3)
/// — exactly as those libraries write them: each loads the whole schema.
#[tokio::test]
async fn standard_introspection_queries_load_the_whole_schema() {
    use serde_json::json;
    let app = crate::support::TestApp::new();
    for (tool, query) in [
        (
            "graphql-js 16, defaults",
            include_str!("fixtures/introspection/graphql-js-16-default.graphql"),
        ),
        (
            "graphql-js 16, every option",
            include_str!("fixtures/introspection/graphql-js-16-all-options.graphql"),
        ),
        (
            "graphql-core 3, descriptions",
            include_str!("fixtures/introspection/graphql-core-3.graphql"),
        ),
    ] {
        let body = app.gql(None, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{tool}: {body}");
        let types = body["data"]["__schema"]["types"]
            .as_array()
            .unwrap_or_else(|| panic!("{tool}: {body}"));
        for name in ["Query", "Mutation", "AcoRequest", "Decimal", "Month"] {
            assert!(
                types.iter().any(|t| t["name"] == name),
                "{tool}: {name} missing"
            );
        }
    }
}

/// Introspection is measured apart from ordinary depth: its type lists may
/// nest twice (the standard queries nest them once), as graphql-js refuses
/// past that; ordinary fields keep their depth limit, fragments expanded.
#[tokio::test]
async fn introspection_that_grows_with_each_level_is_refused() {
    use crate::support::code;
    use serde_json::json;
    let app = crate::support::TestApp::new();
    let twice = "{ __schema { types { fields { type { fields { name } } } } } }";
    let body = app.gql(None, twice, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    for thrice in [
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        "{ __type(name: \"Query\") { fields { type { ...T } } } } \
         fragment T on __Type { interfaces { possibleTypes { name } } }",
    ] {
        let body = app.gql(None, thrice, json!({})).await;
        assert_eq!(code(&body), "QUERY_TOO_DEEP", "{thrice}: {body}");
    }
    // Thirteen levels of ordinary fields, six of them behind fragments.
    let deep = "{ partners(first: 1) { nodes { customers(first: 1) { nodes { ...R } } } } } \
        fragment R on Customer { relationships(first: 1) { nodes { partner { ...C } } } } \
        fragment C on Partner { customers(first: 1) { nodes { relationships(first: 1) { nodes { customer { id } } } } } }";
    let body = app.gql(None, deep, json!({})).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("13 levels deep; at most 12")),
        "{body}"
    );
}

/// Every path a user error names (`UserError.field`) is an input field of
/// each mutation it is made for, read from the served schema: a renamed or
/// removed field fails here.
#[test]
fn user_error_fields_are_fields_of_their_mutations_inputs() {
    use async_graphql::registry::{MetaType, MetaTypeName};
    let (registry, roots) = aco_api::graphql::registry();
    let mutation_root = &roots[1].1;
    let mutations = registry.types[mutation_root.as_str()]
        .fields()
        .expect("the mutation root has fields");
    for field in aco_api::fields::ALL {
        let path = field.path();
        for mutation in field.mutations() {
            let mutation = mutations
                .get(*mutation)
                .unwrap_or_else(|| panic!("{mutation} is not a mutation"));
            let argument = mutation
                .args
                .get(path[0])
                .unwrap_or_else(|| panic!("{} has no argument {}", mutation.name, path[0]));
            let mut ty = MetaTypeName::concrete_typename(&argument.ty).to_owned();
            for segment in &path[1..] {
                let Some(MetaType::InputObject { input_fields, .. }) = registry.types.get(&ty)
                else {
                    panic!(
                        "{}: {path:?} goes through {ty}, not an input",
                        mutation.name
                    );
                };
                let next = input_fields
                    .get(*segment)
                    .unwrap_or_else(|| panic!("{}: {ty} has no field {segment}", mutation.name));
                ty = MetaTypeName::concrete_typename(&next.ty).to_owned();
            }
        }
    }
}

/// Every custom scalar names the format it follows (`@specifiedBy`), and
/// introspection says so (`specifiedByURL`).
#[tokio::test]
async fn every_custom_scalar_names_its_format() {
    let app = crate::support::TestApp::new();
    let body = app
        .gql(
            None,
            "{ __schema { types { kind name specifiedByURL } } }",
            serde_json::json!({}),
        )
        .await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let scalars: Vec<(String, Option<String>)> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|t| t["kind"] == "SCALAR" && !builtin.contains(&t["name"].as_str().unwrap()))
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["specifiedByURL"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(scalars.len(), 5, "{scalars:?}");
    for (name, url) in &scalars {
        let url = url
            .as_deref()
            .unwrap_or_else(|| panic!("{name} has no specifiedByURL"));
        if let Some(anchor) = url.strip_prefix("docs/scalars.md#") {
            let page =
                std::fs::read_to_string(format!("{}/docs/scalars.md", env!("CARGO_MANIFEST_DIR")))
                    .unwrap();
            assert!(
                page.contains(&format!("\n## {}\n", name)),
                "{name}: #{anchor}"
            );
            assert_eq!(anchor, name.to_lowercase());
        } else {
            assert!(
                url.starts_with("https://www.rfc-editor.org/rfc/"),
                "{name}: {url}"
            );
        }
    }
}

/// Every type, field, argument and enum value of the schema says what it is:
/// the description a client's generated code and the explorer show.
#[test]
fn everything_in_the_schema_has_a_description() {
    use async_graphql::registry::MetaType;
    let (registry, _) = aco_api::graphql::registry();
    // The types the schema serves (the registry also holds the parts merged into the roots).
    let sdl = aco_api::graphql::sdl();
    let served = |name: &str| {
        ["type", "input", "enum", "scalar", "interface", "union"]
            .iter()
            .any(|kind| {
                sdl.contains(&format!("\n{kind} {name} "))
                    || sdl.contains(&format!("\n{kind} {name}\n"))
            })
    };
    let described = |d: &Option<String>| d.as_deref().is_some_and(|d| !d.trim().is_empty());
    let mut missing = Vec::new();
    for (name, ty) in &registry.types {
        if name.starts_with("__")
            || ["String", "Int", "Float", "Boolean", "ID"].contains(&name.as_str())
            || !served(name)
        {
            continue;
        }
        let description = match ty {
            MetaType::Scalar { description, .. }
            | MetaType::Object { description, .. }
            | MetaType::Interface { description, .. }
            | MetaType::Union { description, .. }
            | MetaType::Enum { description, .. }
            | MetaType::InputObject { description, .. } => description,
        };
        if !described(description) {
            missing.push(format!("type {name}"));
        }
        if let Some(fields) = ty.fields() {
            for (field_name, field) in fields {
                if field_name.starts_with("__") {
                    continue;
                }
                if !described(&field.description) {
                    missing.push(format!("{name}.{field_name}"));
                }
                for (arg, value) in &field.args {
                    if !described(&value.description) {
                        missing.push(format!("{name}.{field_name}({arg})"));
                    }
                }
            }
        }
        if let MetaType::InputObject { input_fields, .. } = ty {
            for (field_name, field) in input_fields {
                if !described(&field.description) {
                    missing.push(format!("{name}.{field_name}"));
                }
            }
        }
        if let MetaType::Enum { enum_values, .. } = ty {
            for (value_name, value) in enum_values {
                if !described(&value.description) {
                    missing.push(format!("{name}.{value_name}"));
                }
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} without a description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// GitHub's convention: each mutation takes one `input` of its own type
/// (`<Name>Input`) and answers a payload of its own (`<Name>Payload`), so a
/// client's types for one mutation never change with another's; every input
/// carries a `clientMutationId` that its payload echoes back.
#[test]
fn every_mutation_has_its_own_input_and_payload() {
    use async_graphql::registry::MetaType;
    let (registry, _) = aco_api::graphql::registry();
    let Some(MetaType::Object { fields, .. }) = registry.types.get("Mutation") else {
        panic!("no Mutation type");
    };
    let mut wrong = Vec::new();
    for (name, field) in fields {
        let capitalised = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        let input = format!("{capitalised}Input");
        let payload = format!("{capitalised}Payload");
        let args: Vec<_> = field.args.keys().map(|k| k.as_str()).collect();
        let input_type = field.args.get("input").map(|a| a.ty.trim_end_matches('!'));
        if args != ["input"] || input_type != Some(input.as_str()) {
            wrong.push(format!(
                "{name} takes {args:?} of {input_type:?}, not one input: {input}"
            ));
        }
        if field.ty != format!("{payload}!") {
            wrong.push(format!("{name} answers {}, not {payload}!", field.ty));
        }
        match registry.types.get(&input) {
            Some(MetaType::InputObject { input_fields, .. })
                if input_fields
                    .get("clientMutationId")
                    .is_some_and(|f| f.ty == "String") => {}
            _ => wrong.push(format!("{input} has no clientMutationId: String")),
        }
        match registry.types.get(&payload) {
            Some(MetaType::Object { fields, .. })
                if fields
                    .get("clientMutationId")
                    .is_some_and(|f| f.ty == "String")
                    && fields
                        .get("userErrors")
                        .is_some_and(|f| f.ty == "[UserError!]!") => {}
            _ => wrong.push(format!("{payload} lacks clientMutationId or userErrors")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
