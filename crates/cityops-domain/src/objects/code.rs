//! 赋码 (object code): the permanent code of a management object, printed on its QR label.
//!
//! Format: 16 ASCII digits `DDDDDD KK SSSSSSS C`
//!
//! - `DDDDDD`: the 6-digit GB/T 2260 division code of the city or district that issued the code
//!   (e.g. `441302` 惠城区). It records who coded the object; it is not re-derived when
//!   boundaries move (the object's current regions are kept beside the code).
//! - `KK`: the [`ObjectKind::code`] of the kind the object had when it was coded.
//! - `SSSSSSS`: a sequence number, 0000001–9999999, unique per division and kind.
//! - `C`: a check digit over the first 15 digits by the Damm algorithm (a totally
//!   anti-symmetric quasigroup of order 10). It catches every single mistyped digit and every
//!   swap of two adjacent digits (both proved exhaustively by the tests on the table), and keeps
//!   the code all-digit (unlike ISO 7064 MOD 11-2's `X`, and unlike MOD 11,10 or Luhn, which miss
//!   some adjacent swaps), so it is easy to read out and to type on a phone keypad.
//!
//! A code never changes, even when the object's kind or name does. Printed labels group it as
//! `441302-01-0000123-C`; [`ObjectCode::parse`] accepts the groups (`-` or spaces) and keeps
//! the plain 16 digits.
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ObjectError, ObjectKind};

/// 赋码 (object code): 16 digits, see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectCode(String);

/// The Damm quasigroup: a Latin square with zeros on the diagonal and
/// `T[T[x][a]][b] != T[T[x][b]][a]` for all `x` and `a != b`.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// 校验码 (check digit) of a string of ASCII digits by the Damm algorithm; `None` when it holds
/// anything else or is empty. Appending it makes the Damm check of the whole string 0.
pub fn check_digit(digits: &str) -> Option<u8> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.bytes().fold(0u8, |interim, b| {
        DAMM[usize::from(interim)][usize::from(b - b'0')]
    }))
}

impl ObjectCode {
    /// Number of digits.
    pub const LEN: usize = 16;
    /// The largest sequence number.
    pub const MAX_SEQUENCE: u32 = 9_999_999;

    /// Issues the code of sequence `sequence` for `kind` in `division` (6 digits, not starting
    /// with `00`).
    pub fn new(division: &str, kind: ObjectKind, sequence: u32) -> Result<Self, ObjectError> {
        let bad = |why: &str| ObjectError::InvalidCode {
            code: format!("{division}/{}/{sequence}", kind.code()),
            why: why.to_string(),
        };
        if !valid_division(division) {
            return Err(bad(
                "the division must be a 6-digit code not starting with 00",
            ));
        }
        if !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(bad("the sequence must lie in 1–9999999"));
        }
        let body = format!("{division}{:02}{sequence:07}", kind.code());
        let check = check_digit(&body).ok_or_else(|| bad("not digits"))?;
        Ok(Self(format!("{body}{check}")))
    }

    /// Parses and checks a code; `-` and spaces between digit groups are ignored.
    pub fn parse(text: &str) -> Result<Self, ObjectError> {
        let bad = |why: String| ObjectError::InvalidCode {
            code: text.to_string(),
            why,
        };
        let code: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .collect();
        if let Some(c) = code.chars().find(|c| !c.is_ascii_digit()) {
            return Err(bad(format!("{c:?} is not a digit")));
        }
        if code.len() != Self::LEN {
            return Err(bad(format!(
                "expected {} digits, found {}",
                Self::LEN,
                code.len()
            )));
        }
        if !valid_division(&code[..6]) {
            return Err(bad("the division code must not start with 00".into()));
        }
        let kind = code[6..8]
            .parse::<u8>()
            .ok()
            .and_then(ObjectKind::from_code);
        if kind.is_none() {
            return Err(bad(format!("unknown object kind code {}", &code[6..8])));
        }
        if &code[8..15] == "0000000" {
            return Err(bad("the sequence must not be 0".into()));
        }
        let expected = check_digit(&code[..15]);
        if expected != Some(code.as_bytes()[15] - b'0') {
            return Err(bad("the check digit does not match (mistyped?)".into()));
        }
        Ok(Self(code))
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuing division (6 digits).
    pub fn division(&self) -> &str {
        &self.0[..6]
    }

    /// The kind the object had when it was coded.
    pub fn kind(&self) -> ObjectKind {
        self.0[6..8]
            .parse::<u8>()
            .ok()
            .and_then(ObjectKind::from_code)
            .unwrap_or(ObjectKind::StreetShop)
    }

    /// The sequence number.
    pub fn sequence(&self) -> u32 {
        self.0[8..15].parse().unwrap_or(0)
    }

    /// The code as printed on labels: `441302-01-0000123-7`.
    pub fn grouped(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            &self.0[..6],
            &self.0[6..8],
            &self.0[8..15],
            &self.0[15..]
        )
    }
}

fn valid_division(d: &str) -> bool {
    d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with("00")
}

impl fmt::Display for ObjectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ObjectCode {
    type Error = ObjectError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ObjectCode::parse(&value)
    }
}

impl From<ObjectCode> for String {
    fn from(value: ObjectCode) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn check_digit_by_hand() {
        // The textbook example 572: T[0][5] = 9, T[9][7] = 7, T[7][2] = 4.
        assert_eq!(check_digit("572"), Some(4));
        assert_eq!(check_digit("5724").map(|c| c == 0), Some(true));
        assert_eq!(check_digit(""), None);
        assert_eq!(check_digit("12a"), None);
    }

    #[test]
    fn the_table_catches_every_single_error_and_adjacent_swap() {
        for (i, row) in DAMM.iter().enumerate() {
            assert_eq!(row[i], 0, "zero diagonal");
            let mut seen = [false; 10];
            for &v in row {
                seen[usize::from(v)] = true;
            }
            assert!(seen.iter().all(|s| *s), "row {i} is a permutation");
            let mut col = [false; 10];
            for r in &DAMM {
                col[usize::from(r[i])] = true;
            }
            assert!(col.iter().all(|s| *s), "column {i} is a permutation");
        }
        // Weak total anti-symmetry: a swapped adjacent pair always changes the interim, and a
        // Latin square carries a difference through every later digit.
        for x in 0..10 {
            for a in 0..10 {
                for b in 0..10 {
                    if a != b {
                        let ab = DAMM[usize::from(DAMM[x][a])][b];
                        let ba = DAMM[usize::from(DAMM[x][b])][a];
                        assert_ne!(ab, ba, "x={x} a={a} b={b}");
                    }
                }
            }
        }
    }

    #[test]
    fn issue_parse_and_parts() {
        let code = ObjectCode::new("441302", ObjectKind::StreetShop, 123).expect("code");
        assert_eq!(code.as_str().len(), 16);
        assert!(code.as_str().starts_with("441302010000123"));
        assert_eq!(code.division(), "441302");
        assert_eq!(code.kind(), ObjectKind::StreetShop);
        assert_eq!(code.sequence(), 123);
        assert_eq!(ObjectCode::parse(code.as_str()), Ok(code.clone()));
        assert_eq!(ObjectCode::parse(&code.grouped()), Ok(code.clone()));
        assert_eq!(
            ObjectCode::parse(&format!(" {} ", code.grouped().replace('-', " "))),
            Ok(code.clone())
        );
        let json = serde_json::to_string(&code).expect("json");
        assert_eq!(json, format!("\"{code}\""));
        assert_eq!(serde_json::from_str::<ObjectCode>(&json).ok(), Some(code));
    }

    #[test]
    fn bad_codes_are_refused_with_a_reason() {
        assert!(ObjectCode::new("44130", ObjectKind::School, 1).is_err());
        assert!(ObjectCode::new("001302", ObjectKind::School, 1).is_err());
        assert!(ObjectCode::new("441302", ObjectKind::School, 0).is_err());
        assert!(ObjectCode::new("441302", ObjectKind::School, 10_000_000).is_err());
        let good = ObjectCode::new("441302", ObjectKind::School, 42).expect("code");
        let body = &good.as_str()[..15];
        let wrong_check = format!("{body}{}", (good.as_str().as_bytes()[15] - b'0' + 1) % 10);
        for (text, why) in [
            ("44130205000004", "expected 16 digits"),
            ("44130205000004x1", "not a digit"),
            ("0013020500000421", "must not start with 00"),
            ("4413029900000421", "unknown object kind"),
            ("4413020500000000", "sequence must not be 0"),
            (wrong_check.as_str(), "check digit"),
        ] {
            let err = ObjectCode::parse(text).expect_err(text);
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
        assert!(serde_json::from_str::<ObjectCode>("\"4413020500000000\"").is_err());
    }

    #[test]
    fn every_adjacent_swap_is_caught_on_sample_codes() {
        for seq in [1, 12, 345, 6_789, 1_234_567, 9_999_999] {
            for &kind in ObjectKind::ALL {
                let code = ObjectCode::new("441302", kind, seq).expect("code");
                let digits: Vec<u8> = code.as_str().bytes().collect();
                for i in 0..digits.len() - 1 {
                    if digits[i] == digits[i + 1] {
                        continue;
                    }
                    let mut swapped = digits.clone();
                    swapped.swap(i, i + 1);
                    let text = String::from_utf8(swapped).expect("ascii");
                    let body_ok = check_digit(&text[..15]) == Some(text.as_bytes()[15] - b'0');
                    assert!(!body_ok, "swap at {i} of {code} not caught");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn every_single_digit_error_is_caught(
            seq in 1u32..=ObjectCode::MAX_SEQUENCE,
            kind in 0usize..ObjectKind::ALL.len(),
            pos in 0usize..16,
            delta in 1u8..10,
        ) {
            let code = ObjectCode::new("441302", ObjectKind::ALL[kind], seq).expect("code");
            let mut digits: Vec<u8> = code.as_str().bytes().collect();
            digits[pos] = b'0' + (digits[pos] - b'0' + delta) % 10;
            let text = String::from_utf8(digits).expect("ascii");
            prop_assert_ne!(check_digit(&text[..15]), Some(text.as_bytes()[15] - b'0'));
            prop_assert!(ObjectCode::parse(&text).is_err());
        }
    }
}
