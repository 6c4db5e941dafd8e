//! Personal information (个人信息脱敏): who sees a reporter's name and phone in full, and how they
//! are masked for everyone else.
//!
//! The rule: the roles that must call a citizen back — intake operators (受理员), shift
//! supervisors (值班长) and dispatchers (派遣员) — see the contact in full, and every such view
//! is written to the access log; the reporter sees their own contact; every other role
//! (inspectors, department staff, leaders, third-party reviewers, administrators …) sees it
//! masked: phones as `138****0000`, names as `张*` / `张*明`. Administrators run the platform
//! rather than the cases, so they get no more than least privilege gives them: masked. (The
//! reporter's own view — a citizen's report, or the call an intake operator typed in — is not
//! logged: it discloses nothing new.)
//!
//! A contact is one free-text field (`王先生 13800000000`, `张三/138-0000-0000`): [`mask_contact`]
//! masks every phone-like digit run in it and every name, keeping labels (电话, 尾号 …) and
//! forms of address (先生, 女士 …) that identify nobody. Masking never lengthens or shortens
//! the text (one `*` per hidden character) and masking a masked text changes nothing.
use crate::org::{Role, User};

/// How much of a case's contact a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactDisclosure {
    /// In full, because the role must call back; the view is logged.
    Full,
    /// In full: the user reported the case (their own data, not logged).
    Own,
    /// Masked.
    Masked,
}

/// The roles that see reporters' contacts in full.
pub const CONTACT_ROLES: [Role; 3] = [Role::Intake, Role::Supervisor, Role::Dispatcher];

impl ContactDisclosure {
    /// What `user` may see of the contact of a case reported by `reporter_id`.
    pub fn for_user(user: &User, reporter_id: Option<i64>) -> Self {
        if reporter_id == Some(user.id) {
            // A citizen's own report, or the hotline call an intake operator typed in.
            ContactDisclosure::Own
        } else if user.roles.iter().any(|r| CONTACT_ROLES.contains(r)) {
            ContactDisclosure::Full
        } else {
            ContactDisclosure::Masked
        }
    }

    /// The contact as this disclosure shows it.
    pub fn show(self, contact: &str) -> String {
        match self {
            ContactDisclosure::Full | ContactDisclosure::Own => contact.to_string(),
            ContactDisclosure::Masked => mask_contact(contact),
        }
    }

    /// Whether showing a contact this way must be written to the access log.
    pub fn logged(self) -> bool {
        self == ContactDisclosure::Full
    }
}

const MASK: char = '*';

/// A name with its middle hidden: one character stays (`张`), two keep the first (`张*`),
/// longer ones keep the first and the last (`张*明`, `欧**娜`).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 | 1 => name.to_string(),
        2 => format!("{}{MASK}", chars[0]),
        n => {
            let mut s = String::with_capacity(name.len());
            s.push(chars[0]);
            s.extend(std::iter::repeat_n(MASK, n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// A phone number with its middle hidden: of 11 or more digits the first 3 and the last 4 stay
/// (`138****0000`), of 7 to 10 the last 4 (`***5678`); shorter numbers (a tail number, a house
/// number) are no phone and stay. Separators (`-`, spaces, `+`) stay where they are.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(|c| is_digit(*c)).count();
    let (keep_head, keep_tail) = match digits {
        0..=6 => return phone.to_string(),
        7..=10 => (0, 4),
        _ => (3, 4),
    };
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if !is_digit(c) {
                return c;
            }
            seen += 1;
            if seen <= keep_head || seen > digits - keep_tail {
                c
            } else {
                MASK
            }
        })
        .collect()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Separators that may sit between the digits of one phone number.
fn is_phone_separator(c: char) -> bool {
    matches!(c, '-' | ' ' | '.' | '－' | '\u{3000}')
}

/// Letters and CJK characters: the stuff names are made of.
fn is_name_char(c: char) -> bool {
    c.is_alphabetic() && !is_digit(c)
}

/// Words in a contact that identify nobody: labels and forms of address. Matched longest first,
/// Latin ones without regard to case.
const KEEP: [&str; 37] = [
    "联系电话",
    "联系方式",
    "手机号码",
    "电话号码",
    "联系人",
    "手机号",
    "电话",
    "手机",
    "座机",
    "号码",
    "尾号",
    "姓名",
    "市民",
    "群众",
    "先生",
    "女士",
    "小姐",
    "师傅",
    "阿姨",
    "老师",
    "同志",
    "大爷",
    "大妈",
    "同学",
    "老板",
    "经理",
    "tel",
    "phone",
    "mobile",
    "name",
    "contact",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "sir",
];

/// Masks the names in a run of letters, keeping the words of [`KEEP`].
fn mask_words(run: &[char], out: &mut String) {
    let mut name = String::new();
    let mut i = 0;
    while i < run.len() {
        let kept = KEEP.iter().find(|k| {
            let n = k.chars().count();
            i + n <= run.len()
                && run[i..i + n]
                    .iter()
                    .zip(k.chars())
                    .all(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
                // A Latin keyword must be a whole word (`Ms` in `Msomi` is a name).
                && (!k.is_ascii()
                    || ((i == 0 || !run[i - 1].is_ascii_alphabetic())
                        && (i + n == run.len() || !run[i + n].is_ascii_alphabetic())))
        });
        match kept {
            Some(k) => {
                out.push_str(&mask_name(&std::mem::take(&mut name)));
                let n = k.chars().count();
                out.extend(&run[i..i + n]);
                i += n;
            }
            None => {
                name.push(run[i]);
                i += 1;
            }
        }
    }
    out.push_str(&mask_name(&name));
}

/// The end of the number that starts at `i` (digits, and single separators followed by a digit;
/// a leading `+`), if one does.
fn number_at(chars: &[char], i: usize) -> Option<usize> {
    let c = *chars.get(i)?;
    if !(is_digit(c) || (c == '+' && chars.get(i + 1).is_some_and(|n| is_digit(*n)))) {
        return None;
    }
    let mut i = i + 1;
    while i < chars.len() {
        if is_digit(chars[i]) {
            i += 1;
        } else if is_phone_separator(chars[i]) && chars.get(i + 1).is_some_and(|n| is_digit(*n)) {
            i += 2;
        } else {
            break;
        }
    }
    Some(i)
}

/// Masks the phone numbers in a free text a reporter wrote (a description published through
/// Open311): every phone-like number as [`mask_phone`] masks it, everything else unchanged
/// (`请联系 13812345678` → `请联系 138****5678`; short numbers — house numbers, counts — stay).
pub fn mask_phone_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        match number_at(&chars, i) {
            Some(end) => {
                out.push_str(&mask_phone(&chars[i..end].iter().collect::<String>()));
                i = end;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// Masks a free-text contact: every phone-like number ([`mask_phone`]: digits, possibly split by
/// single spaces or dashes) and every name ([`mask_name`] per word), keeping punctuation, labels
/// and forms of address. `王先生 13800000000` → `王先生 138****0000`; `张三明/138-0000-0000` →
/// `张*明/138-****-0000`.
pub fn mask_contact(contact: &str) -> String {
    let chars: Vec<char> = contact.chars().collect();
    let mut out = String::with_capacity(contact.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(end) = number_at(&chars, i) {
            out.push_str(&mask_phone(&chars[i..end].iter().collect::<String>()));
            i = end;
        } else if is_name_char(c) {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            mask_words(&chars[start..i], &mut out);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Scope;

    #[test]
    fn names() {
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("张"), "张");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("Smith"), "S***h");
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13800000000"), "138****0000");
        assert_eq!(mask_phone("138-1234-5678"), "138-****-5678");
        assert_eq!(mask_phone("+86 138 1234 5678"), "+86 1** **** 5678");
        assert_eq!(mask_phone("0752-2345678"), "075*-***5678");
        assert_eq!(mask_phone("2345678"), "***5678");
        assert_eq!(mask_phone("１３８１２３４５６７８"), "１３８****５６７８");
        assert_eq!(mask_phone("12345"), "12345", "a hotline number is no phone");
    }

    #[test]
    fn phone_numbers_in_a_text() {
        assert_eq!(
            mask_phone_numbers("王先生说井盖丢了，请联系 13812345678，府城路12号"),
            "王先生说井盖丢了，请联系 138****5678，府城路12号"
        );
        assert_eq!(mask_phone_numbers("无号码"), "无号码");
    }

    #[test]
    fn contacts() {
        for (given, masked) in [
            ("王先生 13800000000", "王先生 138****0000"),
            ("张三 13812345678", "张* 138****5678"),
            ("张三明13812345678", "张*明138****5678"),
            ("张三明/138-1234-5678", "张*明/138-****-5678"),
            (
                "联系人：李四，电话：0752-2345678",
                "联系人：李*，电话：075*-***5678",
            ),
            ("吴先生/女士 尾号9229", "吴先生/女士 尾号9229"),
            ("Mr Wang, tel 13800000000", "Mr W**g, tel 138****0000"),
            ("13800000000 欧阳娜娜", "138****0000 欧**娜"),
            ("", ""),
        ] {
            assert_eq!(mask_contact(given), masked, "{given}");
            assert_eq!(mask_contact(masked), masked, "idempotent: {masked}");
            assert_eq!(given.chars().count(), masked.chars().count());
        }
    }

    fn user(id: i64, roles: Vec<Role>) -> User {
        User {
            id,
            username: "u".into(),
            display_name: "u".into(),
            roles,
            scope: Scope::everything(),
            active: true,
            grids: vec![],
        }
    }

    #[test]
    fn who_sees_what() {
        for r in CONTACT_ROLES {
            assert_eq!(
                ContactDisclosure::for_user(&user(1, vec![r]), Some(2)),
                ContactDisclosure::Full
            );
        }
        for r in Role::ALL.into_iter().filter(|r| !CONTACT_ROLES.contains(r)) {
            let d = ContactDisclosure::for_user(&user(1, vec![r]), Some(2));
            assert_eq!(d, ContactDisclosure::Masked, "{r}");
            assert_eq!(d.show("张三 13800000000"), "张* 138****0000");
            assert!(!d.logged());
        }
        let own = ContactDisclosure::for_user(&user(2, vec![Role::Citizen]), Some(2));
        assert_eq!(own, ContactDisclosure::Own);
        assert_eq!(
            ContactDisclosure::for_user(&user(2, vec![Role::Intake]), Some(2)),
            ContactDisclosure::Own,
            "the operator who typed the call in"
        );
        assert_eq!(own.show("张三 13800000000"), "张三 13800000000");
        assert!(!own.logged());
        assert!(ContactDisclosure::Full.logged());
    }
}
