//! Shape checks for what people type: tenant ids, domains, countries, emails.

/// Longest free text we accept in a name or address field.
pub const MAX_TEXT: usize = 256;
/// The most entries a list input may have (workloads, designations, regions).
pub const MAX_LIST: usize = 50;

/// A tenant id is a GUID, compared in lower case.
pub fn tenant_id(text: &str) -> Option<String> {
    let t = text.trim();
    let shaped = t.len() == 36
        && t.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    shaped.then(|| t.to_ascii_lowercase())
}

/// A DNS domain such as `contoso.onmicrosoft.com`.
pub fn domain(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let labels: Vec<&str> = t.split('.').collect();
    let ok = t.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(t)
}

/// An ISO 3166-1 alpha-2 country code, upper case.
pub fn country(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_uppercase();
    (t.len() == 2 && t.bytes().all(|b| b.is_ascii_uppercase())).then_some(t)
}

/// An email address: one `@`, a local part, and a domain.
pub fn email(text: &str) -> Option<String> {
    let t = text.trim();
    let (local, host) = t.rsplit_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && !local.contains('@')
        && domain(host).is_some();
    ok.then(|| format!("{local}@{}", host.to_ascii_lowercase()))
}

/// Free text: trimmed, not empty, not longer than [`MAX_TEXT`], no control characters.
pub fn text(value: &str) -> Option<String> {
    let t = value.trim();
    let ok = !t.is_empty() && t.chars().count() <= MAX_TEXT && !t.chars().any(char::is_control);
    ok.then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            tenant_id("6F1C2A9E-0000-4000-8000-00000000000A").as_deref(),
            Some("6f1c2a9e-0000-4000-8000-00000000000a")
        );
        assert!(tenant_id("not-a-guid").is_none());
        assert_eq!(domain("Contoso.com").as_deref(), Some("contoso.com"));
        assert!(domain("localhost").is_none());
        assert!(domain("-a.com").is_none());
        assert_eq!(country("us").as_deref(), Some("US"));
        assert!(country("USA").is_none());
        assert_eq!(email("Ann@Contoso.com").as_deref(), Some("Ann@contoso.com"));
        assert!(email("ann@").is_none());
        assert!(email("ann contoso.com").is_none());
        assert!(text("   ").is_none());
        assert!(text(&"x".repeat(MAX_TEXT + 1)).is_none());
        assert!(text("a\u{0}b").is_none());
    }
}
