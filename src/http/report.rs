//! `GET /reports/credit-balance.csv`: the credit balance report as CSV, for
//! finance tools.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::caller::{authenticate, unauthenticated};
use super::{AppState, error_response, request_id};
use crate::auth::AuthError;
use crate::error::LogSafe;
use crate::store::Engine;

#[derive(serde::Deserialize)]
pub(super) struct ReportQuery {
    month: Option<String>,
}

/// `GET /reports/credit-balance.csv?month=YYYY-MM`: the credit balance report
/// for finance tools, with the same bearer token and visibility as the API.
pub(super) async fn credit_balance_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ReportQuery>,
) -> Response {
    let actor = match authenticate(&state, &headers).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return unauthenticated(AuthError::MalformedHeader),
        Err(e) => return unauthenticated(e),
    };
    let Some(month) = query
        .month
        .as_deref()
        .and_then(|m| m.parse::<crate::domain::time::Month>().ok())
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "give the invoice month as ?month=YYYY-MM",
        );
    };
    let deadline = std::time::Instant::now() + state.config.request_timeout;
    // The CSV is written inside the read, so that a large report is written
    // where a long read runs: off the async workers.
    let body = match state
        .db
        .read_until(Some(deadline), move |tx| {
            let lines = crate::service::credits::balance_report(tx, &actor, month)?;
            balance_report_csv(&lines).map_err(crate::error::Error::Internal)
        })
        .await
    {
        Ok(body) => body,
        Err(crate::error::Error::Timeout) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                &format!(
                    "the report took longer than {} s (request id {})",
                    state.config.request_timeout.as_secs(),
                    request_id(&headers)
                ),
            );
        }
        Err(e) => {
            let id = request_id(&headers);
            tracing::error!(request_id = %id, error = %LogSafe(&e.to_string()), "credit balance report failed");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                &format!("internal error (request id {id})"),
            );
        }
    };
    (
        StatusCode::OK,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!(
                    "attachment; filename=\"credit-balance-{month}.csv\""
                ))
                .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// The report's lines as CSV, with Partner Center's columns; the header row
/// is written even when there are no lines.
fn balance_report_csv(
    lines: &[crate::service::credits::BalanceReportLine],
) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "PartnerId",
        "CustomerId",
        "InvoiceMonth",
        "CreditName",
        "CreditAmount",
        "Status",
        "BalanceAmount",
        "CurrencyCode",
        "AgreementId",
        "EffectiveDate",
        "ExpiryDate",
    ];
    if lines.is_empty() {
        writer.write_record(header).map_err(|e| e.to_string())?;
    } else {
        for line in lines {
            writer.serialize(line).map_err(|e| e.to_string())?;
        }
    }
    writer.into_inner().map_err(|e| e.to_string())
}
