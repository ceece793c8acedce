//! What each field costs against `ACO_MAX_QUERY_COMPLEXITY`: a field 1 plus
//! what it asks for of its result, a list field the most items it can return
//! times what each item asks for. Costs saturate at [`CAP`], so that no sum
//! of them wraps round to a small number.

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ValidationResult, Variables};

use super::scalars::Month;
use crate::store::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The most user errors one refusal carries: every eligibility rule at once.
pub const USER_ERRORS: usize = 20;
/// The longest path of an input field named by a user error.
pub const FIELD_PATH: usize = 4;
/// Verdicts listed in full: eligibility rules, authorization requirements.
pub const RULES: usize = 20;
/// The longest list input accepted (workloads, designations, regions).
pub const LIST_INPUT: usize = crate::domain::validate::MAX_LIST;
/// Records that accrue over an object's life but stay few: a request's
/// agreements, a customer's grants and MCA confirmations. Not a hard bound;
/// an estimate of the most a real object has.
pub const RECORDS: usize = 12;
/// Months of usage a customer has (an estimate: five years), and the
/// revisions of one month.
pub const USAGE_MONTHS: usize = 60;
pub const USAGE_REVISIONS: usize = 12;
/// Transacting partners that serve one customer (an estimate: LEDGER-2
/// keeps a ledger per partner).
pub const CUSTOMER_PARTNERS: usize = 4;
/// What one sweep can change at once (an estimate for the programme).
pub const SWEEP: usize = 100;

/// The most a single field can cost: far above any limit, and low enough
/// that the engine's sum of a document's fields cannot overflow.
pub const CAP: usize = 1 << 32;

/// A list of at most `items` items, each costing `child`.
pub fn items(items: usize, child: usize) -> usize {
    items
        .saturating_mul(child.max(1))
        .saturating_add(1)
        .min(CAP)
}

/// A connection page: the page size asked for (`first` or `last`, 20 when
/// neither) times what each item asks for.
pub fn page(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| {
            n.clamp(0, MAX_PAGE_SIZE as i32) as usize
        })
        .max(1);
    items(size, child)
}

/// A customer's reseller relationships, current and ended (an estimate:
/// [`CUSTOMER_PARTNERS`] partners, each once ended and requested again).
pub const CUSTOMER_RELATIONSHIPS: usize = 2 * CUSTOMER_PARTNERS;

/// A connection of records an object has few of (a customer's reseller
/// relationships): the page size asked for, or when none is, `estimate`
/// rather than the default page of 20 — an estimate, as [`RECORDS`] is; a
/// page never holds more than 20 unless asked.
pub fn few(first: Option<i32>, last: Option<i32>, estimate: usize, child: usize) -> usize {
    match first.or(last) {
        Some(_) => page(first, last, child),
        None => items(estimate, child),
    }
}

/// A month range, `from` to `to` inclusive: one item a month (a range
/// longer than 60 months is refused; it costs what 60 would).
pub fn months(from: &Month, to: &Month, child: usize) -> usize {
    let index = |m: &Month| i64::from(m.0.year) * 12 + i64::from(m.0.month);
    let span = (index(to) - index(from)).clamp(0, 59) as usize + 1;
    items(span, child)
}

/// `reconciliation`: its months, for one partner or each of the customer's.
pub fn reconciliation(from: &Month, to: &Month, one_partner: bool, child: usize) -> usize {
    let partners = if one_partner { 1 } else { CUSTOMER_PARTNERS };
    months(from, to, child).saturating_mul(partners).min(CAP)
}

/// `monthlyUsage`: one item a month per partner, or every revision of the
/// month asked for.
pub fn usage(one_month: bool, child: usize) -> usize {
    items(
        if one_month {
            USAGE_REVISIONS
        } else {
            USAGE_MONTHS
        }
        .saturating_mul(CUSTOMER_PARTNERS),
        child,
    )
}

/// The engine's refusal of a document over the limit, which names neither.
pub const ENGINE_REFUSAL: &str = "Query is too complex.";

/// What `document` costs with `variables`, worked out by the engine as it
/// validates (nothing runs): for a refusal that says the cost beside the
/// limit. Only refused documents come here; the schema it uses has no limit
/// and stops every request after validation.
pub async fn of(
    document: ExecutableDocument,
    operation_name: Option<String>,
    variables: Variables,
) -> Option<usize> {
    static SCHEMA: OnceLock<super::AcoSchema> = OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        super::schema_unlimited()
            .extension(Measure)
            .disable_introspection()
            .finish()
    });
    let mut request = async_graphql::Request::new("").variables(variables);
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    request.set_parsed_query(document);
    let response = schema.execute(request).await;
    response
        .errors
        .iter()
        .find_map(|e| e.message.strip_prefix(MEASURED)?.parse().ok())
}

const MEASURED: &str = "measured cost: ";

/// Stops a request once it is validated, saying what it costs.
struct Measure;

impl ExtensionFactory for Measure {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MeasureOne)
    }
}

struct MeasureOne;

#[async_trait::async_trait]
impl Extension for MeasureOne {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let validated = next.run(ctx).await?;
        Err(vec![ServerError::new(
            format!("{MEASURED}{}", validated.complexity),
            None,
        )])
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::registry::MetaType;

    use super::*;

    #[test]
    fn costs_saturate_instead_of_wrapping() {
        assert_eq!(items(3, 4), 13);
        assert_eq!(items(0, 0), 1);
        assert_eq!(items(usize::MAX, 2), CAP);
        assert_eq!(page(Some(100), None, CAP), CAP);
        assert_eq!(page(None, None, 1), DEFAULT_PAGE_SIZE + 1);
        assert_eq!(page(Some(-5), None, 1), 2);
        assert!(USER_ERRORS >= crate::domain::eligibility::RULES.len());
    }

    /// Every field that returns a list has a cost rule, so that its cost
    /// reflects how many items it can return. The `edges` and `nodes` of a
    /// connection are costed by the field that returns the connection.
    #[test]
    fn every_list_field_has_a_cost_rule() {
        let (registry, _) = crate::graphql::registry();
        let mut missing = Vec::new();
        for (type_name, ty) in &registry.types {
            if type_name.starts_with("__") {
                continue;
            }
            let MetaType::Object { fields, .. } = ty else {
                continue;
            };
            for (name, field) in fields {
                let list = field.ty.contains('[');
                let connection = field.ty.trim_end_matches('!').ends_with("Connection");
                let costed_by_parent =
                    type_name.ends_with("Connection") && (name == "edges" || name == "nodes");
                if (list || connection) && !costed_by_parent && field.compute_complexity.is_none() {
                    missing.push(format!("{type_name}.{name}: {}", field.ty));
                }
            }
        }
        missing.sort();
        assert!(
            missing.is_empty(),
            "list fields without a cost rule:\n{}",
            missing.join("\n")
        );
    }
}
