//! Money: `rust_decimal::Decimal`, USD, two decimal places on output.

use rust_decimal::{Decimal, RoundingStrategy};

/// Parses money from its wire and storage form: plain decimal text such as
/// `"1500.00"`, at most two decimal places, no exponent, no sign other than `-`.
pub fn parse_money(text: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    if t.is_empty() || t != text {
        return Err(MoneyError::Malformed);
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (frac.is_empty() != digits.contains('.'));
    if !well_formed {
        return Err(MoneyError::Malformed);
    }
    if frac.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    if int.len() > 15 {
        return Err(MoneyError::TooLarge);
    }
    let value: Decimal = t.parse().map_err(|_| MoneyError::Malformed)?;
    Ok(normalize(value))
}

/// The canonical form: two decimal places, `-0` folded into `0`.
pub fn normalize(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    if v.is_zero() {
        v = Decimal::ZERO;
    }
    v.rescale(2);
    v
}

/// The canonical text, as stored in SQLite and sent on the wire.
pub fn to_text(value: Decimal) -> String {
    normalize(value).to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal amount: expected text such as \"1500.00\"")]
    Malformed,
    #[error("at most two decimal places (cents)")]
    TooPrecise,
    #[error("amount is too large")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(to_text(parse_money("1500").unwrap()), "1500.00");
        assert_eq!(to_text(parse_money("12345.6").unwrap()), "12345.60");
        assert_eq!(to_text(parse_money("-0").unwrap()), "0.00");
        assert_eq!(to_text(parse_money("0.05").unwrap()), "0.05");
    }

    #[test]
    fn refuses_what_is_not_plain_money() {
        for (text, err) in [
            ("1e3", MoneyError::Malformed),
            ("NaN", MoneyError::Malformed),
            ("", MoneyError::Malformed),
            (" 1", MoneyError::Malformed),
            ("1.", MoneyError::Malformed),
            (".5", MoneyError::Malformed),
            ("+1", MoneyError::Malformed),
            ("1,000", MoneyError::Malformed),
            ("0.001", MoneyError::TooPrecise),
            ("99999999999999999999999999999", MoneyError::TooLarge),
        ] {
            assert_eq!(parse_money(text), Err(err), "{text}");
        }
    }
}
