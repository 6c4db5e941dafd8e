//! Limits as data (限长): the longest text a client may send in each free-text field, defined once.
//! The server enforces them (the case machine for reports and actions, the web edge for the
//! rest) and the OpenAPI document declares them as `maxLength` from the same constants.
//!
//! Lengths are counted in characters — Unicode scalar values (`str::chars`), as JSON Schema's
//! `maxLength` counts them — never in bytes: 2,000 characters of Chinese are 6,000 bytes.

/// The longest text one field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    /// The field's wire name, as errors name it.
    pub field: &'static str,
    /// At most this many characters.
    pub max_chars: usize,
}

/// A text longer than its field allows (answered as 422 `too_long`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is too long: {got} characters, at most {max} are allowed")]
pub struct TooLong {
    pub field: &'static str,
    pub max: usize,
    /// Characters given (counting stops a little past the limit).
    pub got: usize,
}

impl TextLimit {
    /// `Err` when `value` has more than [`TextLimit::max_chars`] characters. Counting stops
    /// one past the limit, so a megabyte of text costs no more than a short one.
    pub fn check(&self, value: &str) -> Result<(), TooLong> {
        // A char is at most 4 bytes: a text of at most max_chars bytes is always short enough.
        if value.len() <= self.max_chars {
            return Ok(());
        }
        let got = value.chars().take(self.max_chars + 1).count();
        if got > self.max_chars {
            Err(TooLong {
                field: self.field,
                max: self.max_chars,
                got: value.chars().count(),
            })
        } else {
            Ok(())
        }
    }

    /// [`TextLimit::check`] for an optional field.
    pub fn check_opt(&self, value: Option<&str>) -> Result<(), TooLong> {
        value.map_or(Ok(()), |v| self.check(v))
    }
}

const fn limit(field: &'static str, max_chars: usize) -> TextLimit {
    TextLimit { field, max_chars }
}

/// A report's description (问题描述).
pub const DESCRIPTION: TextLimit = limit("description", 2_000);
/// A reported address (地址描述).
pub const ADDRESS: TextLimit = limit("address", 200);
/// A person's name (姓名): reporters, display names.
pub const PERSON_NAME: TextLimit = limit("name", 100);
/// A phone number as typed (digits, `+`, spaces, dashes).
pub const PHONE: TextLimit = limit("phone", 20);
/// A reporter's contact (联系方式): a name and a phone in one field — [`PERSON_NAME`] and
/// [`PHONE`] with room for separators and a label (`王先生 电话 138…`).
pub const CONTACT: TextLimit = limit("contact", 128);
/// The comment of a case action (处理意见), and of a third-party review (评价意见).
pub const COMMENT: TextLimit = limit("comment", 1_000);
/// The reason of a case action (退回/驳回/延期/挂账原因).
pub const REASON: TextLimit = limit("reason", 1_000);
/// A login name.
pub const USERNAME: TextLimit = limit("username", 64);
/// A user's display name (显示名).
pub const DISPLAY_NAME: TextLimit = limit("display_name", 100);
/// A department's name (部门名称).
pub const DEPARTMENT_NAME: TextLimit = limit("department name", 100);
/// A department's code (`441302-municipal`).
pub const DEPARTMENT_CODE: TextLimit = limit("department_code", 64);
/// A region's name (区划名称).
pub const REGION_NAME: TextLimit = limit("region name", 100);
/// A component's name (部件名称).
pub const COMPONENT_NAME: TextLimit = limit("component name", 100);
/// A holiday-schedule entry's name (节假日名称).
pub const HOLIDAY_NAME: TextLimit = limit("name", crate::calendar::MAX_DAY_NAME_CHARS);
/// The text search of the case list (`q=`).
pub const SEARCH_QUERY: TextLimit = limit("q", 200);

/// Every limit, for documentation and tests.
pub const ALL: [TextLimit; 15] = [
    DESCRIPTION,
    ADDRESS,
    PERSON_NAME,
    PHONE,
    CONTACT,
    COMMENT,
    REASON,
    USERNAME,
    DISPLAY_NAME,
    DEPARTMENT_NAME,
    DEPARTMENT_CODE,
    REGION_NAME,
    COMPONENT_NAME,
    HOLIDAY_NAME,
    SEARCH_QUERY,
];

/// The free-text fields of a report: description, address and contact.
pub fn check_report(
    description: &str,
    address: Option<&str>,
    contact: Option<&str>,
) -> Result<(), TooLong> {
    DESCRIPTION.check(description)?;
    ADDRESS.check_opt(address)?;
    CONTACT.check_opt(contact)
}

/// The free-text fields of a case action: comment and reason.
pub fn check_action(comment: Option<&str>, reason: Option<&str>) -> Result<(), TooLong> {
    COMMENT.check_opt(comment)?;
    REASON.check_opt(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_not_bytes() {
        let zh = "井".repeat(2_000);
        assert_eq!(zh.len(), 6_000);
        assert_eq!(DESCRIPTION.check(&zh), Ok(()));
        let e = DESCRIPTION.check(&format!("{zh}盖")).unwrap_err();
        assert_eq!((e.field, e.max, e.got), ("description", 2_000, 2_001));
        assert_eq!(
            e.to_string(),
            "description is too long: 2001 characters, at most 2000 are allowed"
        );
        // Emoji outside the BMP are one character each (a scalar value), as JSON Schema counts.
        assert_eq!(PHONE.check(&"😀".repeat(20)), Ok(()));
        assert!(PHONE.check(&"😀".repeat(21)).is_err());
        assert_eq!(ADDRESS.check_opt(None), Ok(()));
    }

    #[test]
    fn a_megabyte_is_refused_with_its_length() {
        let big = "a".repeat(1_000_000);
        let e = check_report(&big, None, None).unwrap_err();
        assert_eq!(e.got, 1_000_000);
        assert_eq!(
            check_report("ok", Some(&"路".repeat(201)), None)
                .unwrap_err()
                .field,
            "address"
        );
        assert_eq!(
            check_action(None, Some(&"x".repeat(1_001)))
                .unwrap_err()
                .field,
            "reason"
        );
        assert_eq!(check_action(Some("好"), Some("好")), Ok(()));
    }

    #[test]
    fn the_contact_holds_a_name_and_a_phone() {
        const { assert!(CONTACT.max_chars >= PERSON_NAME.max_chars + PHONE.max_chars) };
        let fields: std::collections::BTreeSet<_> =
            ALL.iter().map(|l| (l.field, l.max_chars)).collect();
        assert_eq!(fields.len(), ALL.len());
    }
}
