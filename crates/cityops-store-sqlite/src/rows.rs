//! Value encoding of the SQLite writes (decoding is shared: `cityops_store_sql::rows`).

/// Fixed-width RFC 3339 UTC text (microseconds, `Z`): text order equals time order.
pub(crate) use cityops_store_sql::ts_text as ts;

/// Encodes a list of roles or grid codes as a JSON array of strings.
pub(crate) fn json_list<S: AsRef<str>>(items: &[S]) -> String {
    let v: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_are_fixed_width_and_ordered() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(ts(a), "2026-01-02T03:04:05.000000Z");
        assert_eq!(ts(a).len(), ts(b).len());
        assert!(ts(a) < ts(b));
    }

    #[test]
    fn json_lists_encode_strings() {
        assert_eq!(json_list(&["intake", "admin"]), r#"["intake","admin"]"#);
        let none: [&str; 0] = [];
        assert_eq!(json_list(&none), "[]");
    }
}
