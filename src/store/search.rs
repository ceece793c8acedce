//! Searching customers and partners: a table of terms that every engine can
//! index (no full-text extension: Aurora DSQL has none), and the sort key of
//! their names.
//!
//! Each customer and partner has one row in `search_terms` per word of its
//! company name (a case-insensitive prefix of any word finds it), one for its
//! domain and one for its tenant id (found by the whole text, in any case).
//! Terms are stored as a letter naming what they are (`w`ord, `d`omain,
//! `t`enant) and the hexadecimal of their lower-case UTF-8 bytes: only digits
//! and the letters `a` to `f`, so that a prefix is a range of the primary key
//! whatever the database's collation, and a word's prefix never reaches into
//! a domain's. They are written in the transaction that writes the name;
//! `aco-api check` finds any that disagree with it.

use std::fmt::Write as _;

use super::Tx;
use super::pagination::{Filter, text};
use crate::domain::ids::ObjectId;
use crate::error::{Error, Result};

/// What a term belongs to: the value of `search_terms.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customer,
    Partner,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Customer => "CUSTOMER",
            Kind::Partner => "PARTNER",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Customer => "customers",
            Kind::Partner => "partners",
        }
    }
}

/// The most words of a name that are indexed, and of a search.
const MAX_WORDS: usize = 32;
/// The most words a search may hold.
pub const MAX_SEARCH_WORDS: usize = 8;
/// The longest search text.
pub const MAX_SEARCH_LENGTH: usize = 200;
/// The characters of a word that are indexed (a longer word is found by
/// its beginning).
const MAX_WORD: usize = 48;

/// A name's sort key: lower case, spaces collapsed. `ORDER BY` on it sorts
/// names without regard to case.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The words of a text, lower case, each at most [`MAX_WORD`] characters,
/// each once, at most [`MAX_WORDS`] of them: letters and digits between
/// anything else.
pub fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        // Lower case can add combining marks ("İ" is "i" and a dot above):
        // they are left out, on both sides of a search alike.
        let word: String = word
            .to_lowercase()
            .chars()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .take(MAX_WORD)
            .collect();
        if word.is_empty() {
            continue;
        }
        if !words.contains(&word) {
            words.push(word);
        }
        if words.len() == MAX_WORDS {
            break;
        }
    }
    words
}

/// A term as stored: its letter and the hexadecimal of its text.
fn term(letter: char, text: &str) -> String {
    let mut term = String::with_capacity(1 + 2 * text.len());
    term.push(letter);
    for byte in text.as_bytes() {
        let _ = write!(term, "{byte:02x}");
    }
    term
}

/// Every term of an object with this name, domain and tenant id.
fn terms(name: &str, domain: &str, tenant: &str) -> Vec<String> {
    let mut terms: Vec<String> = words(name).iter().map(|w| term('w', w)).collect();
    terms.push(term('d', &domain.trim().to_lowercase()));
    terms.push(term('t', &tenant.trim().to_lowercase()));
    terms.sort();
    terms.dedup();
    terms
}

/// Writes the terms of an object (replacing any it had) and its name's sort
/// key, in the caller's transaction.
pub fn index(
    tx: &Tx<'_>,
    kind: Kind,
    id: &ObjectId,
    name: &str,
    domain: &str,
    tenant: &str,
) -> Result<()> {
    // The row first: on engines with row locks a concurrent writer of the
    // same object waits here, before either touches its terms.
    tx.exec(
        &format!("UPDATE {} SET name_key = ?2 WHERE id = ?1", kind.table()),
        &[&id.as_str(), &name_key(name)],
    )?;
    tx.exec(
        "DELETE FROM search_terms WHERE object_id = ?1",
        &[&id.as_str()],
    )?;
    for term in terms(name, domain, tenant) {
        tx.exec(
            "INSERT INTO search_terms (kind, term, object_id) VALUES (?1, ?2, ?3)",
            &[&kind.as_str(), &term, &id.as_str()],
        )?;
    }
    Ok(())
}

/// Indexes up to `limit` customers and partners that have no sort key yet
/// (rows from before the search, or written straight into the database);
/// how many it indexed. Run until it answers 0, each call in a transaction
/// of its own on engines that limit a transaction's size.
pub fn backfill(tx: &Tx<'_>, limit: usize) -> Result<usize> {
    let mut done = 0;
    for kind in [Kind::Customer, Kind::Partner] {
        if done >= limit {
            break;
        }
        let rows: Vec<(ObjectId, String, String, String)> = tx.rows(
            &format!(
                "SELECT id, company_name, domain, tenant_id FROM {} WHERE name_key IS NULL LIMIT {}",
                kind.table(),
                limit - done
            ),
            &[],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        for (id, name, domain, tenant) in &rows {
            index(tx, kind, id, name, domain, tenant)?;
        }
        done += rows.len();
    }
    Ok(done)
}

/// The objects of `kind` whose terms disagree with their rows (or that have
/// none), and terms of `kind` that name no object: what `aco-api check`
/// reports; empty when the index is whole. Two reads in id order, compared
/// in one pass.
pub fn disagreements(tx: &Tx<'_>, kind: Kind) -> Result<Vec<String>> {
    let rows: Vec<(String, String, String, String, Option<String>)> = tx.rows(
        &format!(
            "SELECT id, company_name, domain, tenant_id, name_key FROM {} ORDER BY id",
            kind.table()
        ),
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let stored: Vec<(String, String)> = tx.rows(
        "SELECT object_id, term FROM search_terms WHERE kind = ?1 ORDER BY object_id, term",
        &[&kind.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut wrong = Vec::new();
    let mut terms_of = stored.chunk_by(|a, b| a.0 == b.0).peekable();
    for (id, name, domain, tenant, key) in rows {
        // Terms of objects before this one name no object.
        while let Some(orphans) = terms_of.next_if(|group| group[0].0 < id) {
            wrong.push(orphans[0].0.clone());
        }
        let mine: Vec<String> = match terms_of.next_if(|group| group[0].0 == id) {
            Some(group) => group.iter().map(|(_, term)| term.clone()).collect(),
            None => Vec::new(),
        };
        if mine != terms(&name, &domain, &tenant) || key.as_deref() != Some(&name_key(&name)) {
            wrong.push(id);
        }
    }
    wrong.extend(terms_of.map(|orphans| orphans[0].0.clone()));
    Ok(wrong)
}

/// A search as the lists take it: the words whose prefixes must all be
/// prefixes of words of the name, and the whole text, which may instead be
/// the domain or the tenant id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    words: Vec<String>,
    whole: String,
}

impl Search {
    /// Checks a search text: one to [`MAX_SEARCH_WORDS`] words, at most
    /// [`MAX_SEARCH_LENGTH`] characters.
    pub fn parse(input: &str, field: &[&str]) -> Result<Search> {
        let whole = input.trim().to_lowercase();
        if whole.chars().count() > MAX_SEARCH_LENGTH {
            return Err(Error::bad_input(
                field,
                format!("a search is at most {MAX_SEARCH_LENGTH} characters"),
            ));
        }
        // Split as names are split: into words, then each in lower case.
        let words = words(input.trim());
        if words.is_empty() {
            return Err(Error::bad_input(
                field,
                "a search needs at least one letter or digit",
            ));
        }
        if words.len() > MAX_SEARCH_WORDS {
            return Err(Error::bad_input(
                field,
                format!("a search has at most {MAX_SEARCH_WORDS} words"),
            ));
        }
        Ok(Search { words, whole })
    }

    /// The `search` argument of a list, checked (`None` when not given).
    pub fn optional(search: Option<String>) -> Result<Option<Search>> {
        search.map(|s| Search::parse(&s, &["search"])).transpose()
    }

    /// The condition that an object of `kind`, its id `id_column`, matches:
    /// its id among those of the whole text's terms and the first word's
    /// prefix (one set, read in id order, so that a page in id order stops
    /// at its last row), and, for each further word, among its prefix's
    /// unless the whole text matched.
    pub fn filter(&self, kind: Kind, id_column: &str) -> Filter {
        let among = |condition: &str| {
            format!(
                "{id_column} IN (SELECT st.object_id FROM search_terms st \
                 WHERE st.kind = ? AND ({condition}))"
            )
        };
        let prefix = |word: &str| {
            let low = term('w', word);
            // Every term that starts with `low` is below it followed by `g`:
            // terms hold only `0`-`9` and `a`-`f` after their letter.
            let high = format!("{low}g");
            [low, high]
        };
        let exact = [term('d', &self.whole), term('t', &self.whole)];
        let (first, rest) = self.words.split_first().expect("a search has a word");
        let mut params = vec![text(kind.as_str())];
        params.extend(exact.clone());
        params.extend(prefix(first));
        let mut filter = Filter::new().and(
            &among("st.term = ? OR st.term = ? OR (st.term >= ? AND st.term < ?)"),
            params,
        );
        if !rest.is_empty() {
            let mut params = vec![text(kind.as_str())];
            params.extend(exact);
            let mut each = Vec::new();
            for word in rest {
                each.push(among("st.term >= ? AND st.term < ?"));
                params.push(text(kind.as_str()));
                params.extend(prefix(word));
            }
            filter = filter.and(
                &format!(
                    "{} OR ({})",
                    among("st.term = ? OR st.term = ?"),
                    each.join(" AND ")
                ),
                params,
            );
        }
        filter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_case_letters_and_digits_each_once() {
        assert_eq!(
            words("Coho Winery — Coho's 2nd SITE, Zürich"),
            ["coho", "winery", "s", "2nd", "site", "zürich"]
        );
        // "İ" in lower case is "i" and a combining dot: the dot is left out.
        assert_eq!(words("İstanbul Ltd"), ["istanbul", "ltd"]);
        assert_eq!(
            Search::parse("İSTAN", &["search"]).unwrap().words,
            ["istan"]
        );
        assert!(words(" -- ").is_empty());
        assert_eq!(words(&"x".repeat(100))[0].len(), MAX_WORD);
    }

    #[test]
    fn terms_are_hex_so_a_prefix_is_a_range_in_any_collation() {
        assert_eq!(term('w', "co"), "w636f");
        let low = term('w', "cö");
        let inside = term('w', "cöln");
        let outside = term('w', "d");
        assert!(low < inside && inside < format!("{low}g") && outside > format!("{low}g"));
        assert!(
            terms("Contoso", "Contoso.COM", "AB-CD")
                .iter()
                .all(|t| t[1..].bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }

    #[test]
    fn a_search_is_one_to_four_words_of_at_most_200_characters() {
        assert!(Search::parse("  ", &["search"]).is_err());
        assert!(Search::parse("a b c d e f g h i", &["search"]).is_err());
        assert!(Search::parse(&"a".repeat(201), &["search"]).is_err());
        let search = Search::parse(" Coho  WIN ", &["search"]).unwrap();
        assert_eq!(search.words, ["coho", "win"]);
        assert_eq!(search.whole, "coho  win");
    }

    #[test]
    fn names_sort_without_regard_to_case_or_spacing() {
        assert_eq!(name_key("  Alpine   SKI house "), "alpine ski house");
    }
}
