//! The case text search index (`q=` of the case list): what both stores index and how a query
//! becomes index terms, written once.
//!
//! The semantics (the drift story `case_text_search_folds_latin_and_is_literal`): `q` matches a
//! case when its code, description or address contains `q` as a literal substring, Latin (ASCII)
//! letters in either case, everything else exactly. So the index holds the three texts *folded*
//! ([`fold`]: ASCII lowercase, nothing else) in a `case_text` row written with the case, and a
//! query is folded the same way; what is left is exact substring search, which the stores answer
//! from n-grams of characters:
//!
//! - SQLite: FTS5. Queries of 3 characters or more are a phrase on the `trigram` tokenizer
//!   (`case_trigram`, external content `case_text`, kept by triggers): exact. Shorter queries —
//!   `井盖` is two characters, which trigrams cannot find — look up one term of `case_grams`, a
//!   contentless FTS5 table of every character and pair of characters ([`short_grams`], written
//!   here at write time, each gram spelt as hex code points so any tokenizer keeps it whole):
//!   exact as well.
//! - PostgreSQL: a GIN index over `case_text.grams`, a stored generated column of every 1-, 2-
//!   and 3-character substring of the three texts (SQL function `case_text_grams`, the same grams
//!   as [`grams`]; stored so that no query ever computes them). Up to 3 characters a query is one
//!   key (exact); longer ones need all their trigrams ([`query_trigrams`]) and a `strpos`
//!   recheck. Not `pg_trgm`: its trigrams are words of the database's locale (a `C`-locale
//!   database extracts none from Chinese), it ignores punctuation, and it cannot use its index
//!   below 3 characters.
//!
//! The indexed text never changes after the report (the domain's property test
//! `random_action_sequences_stay_valid` checks that no action changes code, description or
//! address), so the stores write it once, when the case is created — by intake, a write group or
//! the history import — and in the migration for the cases before it.
use cityops_store::Case;

/// The folding of both the index and the query: ASCII letters to lower case, nothing else
/// (Chinese has no case; other scripts are matched exactly, as SQLite's `LIKE` did).
pub fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A case's searchable text, folded: the row of `case_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    pub case_id: i64,
    pub code: String,
    pub description: String,
    /// Empty when the report has no address.
    pub address: String,
}

impl SearchText {
    /// The folded text of a stored case (its id and code set).
    pub fn of(case: &Case) -> Self {
        Self {
            case_id: case.id,
            code: fold(&case.code),
            description: fold(&case.description),
            address: fold(case.location.address.as_deref().unwrap_or_default()),
        }
    }

    fn fields(&self) -> [&str; 3] {
        [&self.code, &self.description, &self.address]
    }
}

/// Every distinct substring of 1 to `n` characters of each field (never across fields), sorted.
pub fn grams(t: &SearchText, n: usize) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for f in t.fields() {
        let chars: Vec<char> = f.chars().collect();
        for len in 1..=n {
            for w in chars.windows(len) {
                out.insert(w.iter().collect::<String>());
            }
        }
    }
    out.into_iter().collect()
}

/// One or two characters as one term of `case_grams`: their code points in hex, joined by `x`
/// (`井盖` → `4e95x76d6`), so that any character — punctuation and spaces included — is a term
/// the tokenizer keeps whole, and a character never looks like a pair.
pub fn gram_token(gram: &str) -> String {
    gram.chars()
        .map(|c| format!("{:x}", u32::from(c)))
        .collect::<Vec<_>>()
        .join("x")
}

/// The `case_grams` document of a case: every character and pair of characters, as terms.
pub fn short_grams(t: &SearchText) -> String {
    grams(t, 2)
        .iter()
        .map(|g| gram_token(g))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An FTS5 phrase matching `folded` literally (double quotes doubled).
pub fn fts_phrase(folded: &str) -> String {
    format!("\"{}\"", folded.replace('"', "\"\""))
}

/// How many trigrams of a long query go to PostgreSQL's index (the recheck is exact anyway):
/// two — the first and the last — for words, up to [`MAX_DIGIT_TRIGRAMS`] for a number.
///
/// PostgreSQL estimates the matches of several keys as if they were independent. The trigrams of
/// a phrase are not (`12345热线` has five that always come together), so more keys make it expect
/// a handful of rows where there are thousands and pick the plan for a handful (an inspector's
/// `q=12345热线`: 106 ms with five keys, 5 ms with two). The trigrams of a number are each common
/// (every case code holds `202`), so a case code needs many of them to be selective (`q=` a whole
/// code: 250 ms with two keys, 5 ms with eleven).
pub const MAX_WORD_TRIGRAMS: usize = 2;
/// See [`MAX_WORD_TRIGRAMS`].
pub const MAX_DIGIT_TRIGRAMS: usize = 12;

/// Trigrams a text of more than 3 characters must contain: distinct, spread over the query (the
/// first and the last among them), at most [`MAX_WORD_TRIGRAMS`] or, for a number,
/// [`MAX_DIGIT_TRIGRAMS`].
pub fn query_trigrams(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let all: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    let max = if chars.iter().all(char::is_ascii_digit) {
        MAX_DIGIT_TRIGRAMS
    } else {
        MAX_WORD_TRIGRAMS
    };
    let mut picked: Vec<String> = Vec::new();
    let n = all.len();
    let take = n.min(max);
    for i in 0..take {
        // Evenly spread indices 0 … n-1.
        let ix = if take <= 1 {
            0
        } else {
            i * (n - 1) / (take - 1)
        };
        if !picked.contains(&all[ix]) {
            picked.push(all[ix].clone());
        }
    }
    picked
}

/// Above this many matches, the text index only filters a query that another index (the sort's,
/// the scope's) drives; at or below it, the index's matches drive the query. Only SQLite asks
/// (PostgreSQL's planner estimates it from the statistics of the gram index).
pub const DRIVING_MAX_HITS: u64 = 1_500;

#[cfg(test)]
mod tests {
    use super::*;

    fn text(code: &str, d: &str, a: &str) -> SearchText {
        SearchText {
            case_id: 1,
            code: code.into(),
            description: fold(d),
            address: fold(a),
        }
    }

    #[test]
    fn folds_ascii_only() {
        assert_eq!(fold("ABC 井盖 Äb"), "abc 井盖 Äb");
    }

    #[test]
    fn grams_stay_inside_fields() {
        let t = text("12", "井盖", "Ab");
        assert_eq!(
            grams(&t, 2),
            ["1", "12", "2", "a", "ab", "b", "井", "井盖", "盖"]
        );
        assert!(!grams(&t, 3).iter().any(|g| g.contains("2井")));
        assert_eq!(gram_token("井盖"), "4e95x76d6");
        assert_eq!(gram_token("%"), "25");
        assert_eq!(short_grams(&text("", "a%", "")), "25 61 61x25");
    }

    #[test]
    fn long_queries_keep_a_bounded_spread_of_trigrams() {
        assert_eq!(query_trigrams("abcd"), ["abc", "bcd"]);
        assert_eq!(query_trigrams("aaaa"), ["aaa"]);
        let long: String = ('a'..='z').collect();
        assert_eq!(query_trigrams(&long), ["abc", "xyz"]);
        assert_eq!(query_trigrams("12345热线"), ["123", "5热线"]);
        let code = query_trigrams("2026110100012");
        assert_eq!(code.len(), 11);
        assert_eq!(code.first().map(String::as_str), Some("202"));
        assert_eq!(code.last().map(String::as_str), Some("012"));
        assert_eq!(fts_phrase("a\"b"), "\"a\"\"b\"");
    }
}
