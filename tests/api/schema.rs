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
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(found.join(" "), values, "{name}");
    }
}
