//! 码上办管理清单 (checklists) as data: categories and items, each item with the kinds of
//! object it applies to, its legal basis, the evidence a failing result needs and its default
//! rectification period.
//!
//! Huizhou publishes "8类34项" (8 categories, 34 items) and names five categories: 市容整洁、
//! 环境卫生、餐饮油烟、燃气安全、市政绿化. The demo set `data/checklists/huizhou_demo.json`
//! completes it with three more categories (门前三包、户外广告与招牌、消防与安全通道) and 34 item
//! texts of its own: **the completion is illustrative**, not Huizhou's official list (the file's
//! `note` says so too). Legal bases give an article number only where it was checked; the others
//! name the regulation and the subject and are marked 条号示意.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ObjectError, ObjectKind};
use crate::{LimitUnit, TimeLimit};

/// The demo checklist set (JSON), embedded at compile time.
pub const DEMO_CHECKLISTS_JSON: &str =
    include_str!("../../../../data/checklists/huizhou_demo.json");
/// Categories in the demo set (8类).
pub const DEMO_CATEGORIES: usize = 8;
/// Items in the demo set (34项).
pub const DEMO_ITEMS: usize = 34;

/// Longest item text, in characters.
const MAX_ITEM_TEXT: usize = 200;
/// Longest default period: a year of working days, in any unit.
const MAX_PERIOD_WORK_HOURS: u32 = 250 * 8;

/// 取证要求 (evidence): what a failing result of the item must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Evidence {
    /// 须拍照: a failing result needs at least one photo.
    #[serde(rename = "photo")]
    PhotoRequired,
    /// 无需取证: a note is enough.
    #[serde(rename = "none")]
    NotRequired,
}

/// 清单类别 (checklist category), e.g. `04` 燃气安全.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistCategory {
    /// Two digits.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// 检查项 (checklist item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Four digits: the category code + a two-digit sequence, e.g. `0403`.
    pub code: String,
    /// The category code.
    pub category: String,
    /// What is checked (检查内容).
    pub text: String,
    /// The kinds of object it applies to.
    pub kinds: Vec<ObjectKind>,
    /// 法律依据 (legal basis), as text.
    pub legal_basis: String,
    pub evidence: Evidence,
    /// 默认整改期限: the default rectification period, in 工作日 or 工作时.
    pub period: TimeLimit,
}

impl ChecklistItem {
    /// Whether the item applies to objects of `kind`.
    pub fn applies_to(&self, kind: ObjectKind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// The file's shape: `kinds` may be `["all"]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    note: String,
    categories: Vec<ChecklistCategory>,
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    code: String,
    category: String,
    text: String,
    kinds: Vec<String>,
    legal_basis: String,
    evidence: Evidence,
    period: TimeLimit,
}

/// 管理清单 (the checklist set): validated categories and items, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklists {
    note: String,
    categories: Vec<ChecklistCategory>,
    items: Vec<ChecklistItem>,
    #[serde(skip)]
    by_code: BTreeMap<String, usize>,
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

impl Checklists {
    /// Parses and validates a checklist file: categories with unique two-digit codes and names;
    /// items with unique four-digit codes beginning with their (known) category's code, a text
    /// of 1–200 characters, a legal basis, known kinds without repeats (`"all"` alone for every
    /// kind), a period of 1 工作时 to a year in 工作日 or 工作时; every category has an item and
    /// every kind of object has a checklist. Errors name the category or item.
    pub fn parse(json: &str) -> Result<Self, ObjectError> {
        let err = |m: String| ObjectError::Checklist(m);
        let raw: RawFile = serde_json::from_str(json).map_err(|e| err(e.to_string()))?;
        let mut categories = BTreeSet::new();
        for c in &raw.categories {
            if !digits(&c.code, 2) {
                return Err(err(format!(
                    "category {:?}: the code must be 2 digits",
                    c.code
                )));
            }
            if c.name_zh.trim().is_empty() || c.name_en.trim().is_empty() {
                return Err(err(format!("category {}: a name is empty", c.code)));
            }
            if !categories.insert(c.code.as_str()) {
                return Err(err(format!("category {} is given twice", c.code)));
            }
        }
        let mut items = Vec::with_capacity(raw.items.len());
        let mut by_code = BTreeMap::new();
        for r in raw.items {
            let item = Self::parse_item(r, &categories)?;
            if by_code.insert(item.code.clone(), items.len()).is_some() {
                return Err(err(format!("item {} is given twice", item.code)));
            }
            items.push(item);
        }
        if let Some(c) = raw
            .categories
            .iter()
            .find(|c| !items.iter().any(|i| i.category == c.code))
        {
            return Err(err(format!(
                "category {} {} has no item",
                c.code, c.name_zh
            )));
        }
        if let Some(k) = ObjectKind::ALL
            .iter()
            .find(|k| !items.iter().any(|i| i.applies_to(**k)))
        {
            return Err(err(format!("object kind {k} has no checklist item")));
        }
        Ok(Self {
            note: raw.note,
            categories: raw.categories,
            items,
            by_code,
        })
    }

    fn parse_item(r: RawItem, categories: &BTreeSet<&str>) -> Result<ChecklistItem, ObjectError> {
        let err = |m: String| ObjectError::Checklist(format!("item {:?}: {m}", r.code));
        if !digits(&r.code, 4) || !r.code.starts_with(&r.category) {
            return Err(err(format!(
                "the code must be 4 digits beginning with its category {:?}",
                r.category
            )));
        }
        if !categories.contains(r.category.as_str()) {
            return Err(err(format!("unknown category {:?}", r.category)));
        }
        let chars = r.text.chars().count();
        if r.text.trim().is_empty() || chars > MAX_ITEM_TEXT {
            return Err(err(format!(
                "the text must have 1 to {MAX_ITEM_TEXT} characters, found {chars}"
            )));
        }
        if r.legal_basis.trim().is_empty() {
            return Err(err("the legal basis is empty".into()));
        }
        let kinds = if r.kinds == ["all"] {
            ObjectKind::ALL.to_vec()
        } else {
            let mut kinds = Vec::with_capacity(r.kinds.len());
            for k in &r.kinds {
                let kind = k
                    .parse::<ObjectKind>()
                    .map_err(|_| err(format!("unknown object kind {k:?}")))?;
                if kinds.contains(&kind) {
                    return Err(err(format!("object kind {k} is given twice")));
                }
                kinds.push(kind);
            }
            kinds
        };
        if kinds.is_empty() {
            return Err(err("it applies to no kind of object".into()));
        }
        let hours = match r.period.unit {
            LimitUnit::WorkHour => Some(r.period.value),
            LimitUnit::WorkDay => r.period.value.checked_mul(8),
            LimitUnit::UrgentHour | LimitUnit::NaturalDay => {
                return Err(err(format!(
                    "the period must be counted in work_day or work_hour, not {}",
                    r.period.unit.as_str()
                )));
            }
        };
        if !hours.is_some_and(|h| (1..=MAX_PERIOD_WORK_HOURS).contains(&h)) {
            return Err(err(format!(
                "the period {} must lie between 1 work hour and 250 work days",
                r.period
            )));
        }
        Ok(ChecklistItem {
            code: r.code,
            category: r.category,
            text: r.text,
            kinds,
            legal_basis: r.legal_basis,
            evidence: r.evidence,
            period: r.period,
        })
    }

    /// The demo set (8 categories, 34 items; illustrative beyond what Huizhou published),
    /// validated, with its counts checked.
    pub fn demo() -> Result<Self, ObjectError> {
        let set = Self::parse(DEMO_CHECKLISTS_JSON)?;
        if set.categories.len() != DEMO_CATEGORIES || set.items.len() != DEMO_ITEMS {
            return Err(ObjectError::Checklist(format!(
                "the demo set must have {DEMO_CATEGORIES} categories and {DEMO_ITEMS} items, found {} and {}",
                set.categories.len(),
                set.items.len()
            )));
        }
        Ok(set)
    }

    /// The file's note (what is official, what is illustrative).
    pub fn note(&self) -> &str {
        &self.note
    }

    /// The categories, in file order.
    pub fn categories(&self) -> &[ChecklistCategory] {
        &self.categories
    }

    /// Every item, in file order.
    pub fn items(&self) -> &[ChecklistItem] {
        &self.items
    }

    /// The category of a code.
    pub fn category(&self, code: &str) -> Option<&ChecklistCategory> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The item of a code.
    pub fn item(&self, code: &str) -> Option<&ChecklistItem> {
        self.by_code.get(code).map(|&i| &self.items[i])
    }

    /// 对象清单: the items that apply to objects of `kind`, in file order.
    pub fn checklist_for(&self, kind: ObjectKind) -> Vec<&ChecklistItem> {
        self.items.iter().filter(|i| i.applies_to(kind)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_set_has_8_categories_and_34_items() {
        let set = Checklists::demo().expect("demo set");
        assert_eq!(set.categories().len(), 8);
        assert_eq!(set.items().len(), 34);
        assert!(set.note().contains("ILLUSTRATIVE"));
        let names: Vec<_> = set
            .categories()
            .iter()
            .map(|c| c.name_zh.as_str())
            .collect();
        for seed in ["市容整洁", "环境卫生", "餐饮油烟", "燃气安全", "市政绿化"]
        {
            assert!(names.contains(&seed), "{seed}");
        }
        for k in ObjectKind::ALL {
            assert!(!set.checklist_for(*k).is_empty(), "{k}");
        }
        // A restaurant gets the cooking-fume and gas items, a construction site none of them.
        let codes = |k| -> Vec<&str> {
            set.checklist_for(k)
                .iter()
                .map(|i| i.code.as_str())
                .collect()
        };
        assert!(codes(ObjectKind::Restaurant).contains(&"0301"));
        assert!(codes(ObjectKind::Restaurant).contains(&"0403"));
        assert!(!codes(ObjectKind::ConstructionSite).contains(&"0301"));
        assert!(codes(ObjectKind::ConstructionSite).contains(&"0105"));
        assert!(!codes(ObjectKind::Restaurant).contains(&"0105"));
        let gas = set.item("0404").expect("item");
        assert_eq!(
            gas.period,
            TimeLimit {
                value: 2,
                unit: LimitUnit::WorkHour
            }
        );
        assert_eq!(gas.evidence, Evidence::PhotoRequired);
        assert_eq!(
            set.item("0604").map(|i| i.evidence),
            Some(Evidence::NotRequired)
        );
        assert_eq!(
            set.category("04").map(|c| c.name_zh.as_str()),
            Some("燃气安全")
        );
        assert!(set.item("9999").is_none());
    }

    fn file(categories: &str, items: &str) -> String {
        format!(r#"{{"note": "test", "categories": [{categories}], "items": [{items}]}}"#)
    }

    const CAT: &str = r#"{"code": "01", "name_zh": "市容整洁", "name_en": "Appearance"}"#;

    fn item(code: &str, category: &str, kinds: &str, period: &str) -> String {
        format!(
            r#"{{"code": "{code}", "category": "{category}", "text": "无乱堆物", "kinds": {kinds},
                "legal_basis": "示意", "evidence": "photo", "period": {period}}}"#
        )
    }

    const ALL: &str = r#"["all"]"#;
    const DAY: &str = r#"{"value": 1, "unit": "work_day"}"#;

    #[test]
    fn a_minimal_file_parses() {
        let set = Checklists::parse(&file(CAT, &item("0101", "01", ALL, DAY))).expect("parses");
        assert_eq!(set.items().len(), 1);
        assert_eq!(set.items()[0].kinds.len(), ObjectKind::ALL.len());
    }

    #[test]
    fn validation_names_the_culprit() {
        let two = format!(
            "{},{}",
            item("0101", "01", ALL, DAY),
            item("0101", "01", ALL, DAY)
        );
        let cat2 = format!(r#"{CAT}, {{"code": "02", "name_zh": "环境卫生", "name_en": "S"}}"#);
        for (text, want) in [
            (file(CAT, &two), "item 0101 is given twice"),
            (
                file(&format!("{CAT},{CAT}"), &item("0101", "01", ALL, DAY)),
                "category 01 is given twice",
            ),
            (
                file(&cat2, &item("0101", "01", ALL, DAY)),
                "category 02 环境卫生 has no item",
            ),
            (
                file(CAT, &item("0201", "01", ALL, DAY)),
                "beginning with its category",
            ),
            (file(CAT, &item("0201", "02", ALL, DAY)), "unknown category"),
            (
                file(CAT, &item("0101", "01", r#"["shop"]"#, DAY)),
                "unknown object kind \"shop\"",
            ),
            (
                file(CAT, &item("0101", "01", r#"["school","school"]"#, DAY)),
                "given twice",
            ),
            (file(CAT, &item("0101", "01", "[]", DAY)), "no kind"),
            (
                file(CAT, &item("0101", "01", r#"["school"]"#, DAY)),
                "street_shop has no checklist item",
            ),
            (
                file(
                    CAT,
                    &item("0101", "01", ALL, r#"{"value": 0, "unit": "work_day"}"#),
                ),
                "between 1 work hour",
            ),
            (
                file(
                    CAT,
                    &item("0101", "01", ALL, r#"{"value": 2, "unit": "natural_day"}"#),
                ),
                "work_day or work_hour",
            ),
            (
                file(r#"{"code": "1", "name_zh": "x", "name_en": "x"}"#, ""),
                "2 digits",
            ),
            (
                r#"{"note": "", "categories": [], "items": [], "extra": 1}"#.to_string(),
                "unknown field",
            ),
        ] {
            let e = Checklists::parse(&text).expect_err(want);
            assert!(e.to_string().contains(want), "{want}: {e}");
        }
    }
}
