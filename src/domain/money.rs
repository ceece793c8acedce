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
    // Written from the mantissa (cents, after `normalize`): every amount of
    // every answer passes through here.
    let value = normalize(value);
    if value.scale() != 2 {
        return value.to_string(); // too large to carry cents
    }
    let cents = value.mantissa();
    let units = (cents / 100).unsigned_abs();
    let rest = (cents % 100).unsigned_abs() as u8;
    let mut out = String::with_capacity(24);
    if cents < 0 {
        out.push('-');
    }
    out.push_str(&units.to_string());
    out.push('.');
    out.push(char::from(b'0' + rest / 10));
    out.push(char::from(b'0' + rest % 10));
    out
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

    proptest::proptest! {
        #[test]
        fn the_text_is_the_decimal_s_own(mantissa: i128, scale in 0u32..=28) {
            let mantissa = mantissa % 79_228_162_514_264_337_593_543_950_335;
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            proptest::prop_assert_eq!(to_text(value), normalize(value).to_string());
        }
    }

    #[test]
    fn the_largest_amounts_keep_their_text() {
        for value in [
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(-5, 2),
            Decimal::new(5, 3),
        ] {
            assert_eq!(to_text(value), normalize(value).to_string());
        }
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
