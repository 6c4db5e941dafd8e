//! 码上办 checks: the responsible party's self-check (自查) and the inspector's or enforcement
//! officer's inspection (巡查), item by item against the object's checklist, and the check of
//! where the label was scanned.
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Checklists, Evidence, LocalFrame, ManagedObject, ObjectCode, ObjectError, ObjectKind};
use crate::case::types::named_enum;
use crate::limits::COMMENT;
use crate::{DomainError, LngLat, Role, User};

/// Most photos one result may carry.
pub const MAX_PHOTOS_PER_RESULT: usize = 9;

named_enum!(
    /// 检查类型 (kind of check).
    CheckKind, "check kind" {
        /// 自查: by the object's responsible party.
        SelfCheck => "self_check", "自查";
        /// 巡查: by an inspector (监督员) or an enforcement officer (执法队员).
        Inspection => "inspection", "巡查";
    }
);

/// 检查结果 (result of one checklist item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub item_code: String,
    /// 合格 (true) or 不合格 (false).
    pub passed: bool,
    pub note: Option<String>,
    /// Evidence photos (attachment ids, uploaded first).
    pub photo_ids: Vec<i64>,
}

/// 自查/巡查记录 (a check of one object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub kind: CheckKind,
    pub object_code: ObjectCode,
    /// The user who checked.
    pub by_user: i64,
    pub at: DateTime<Utc>,
    /// Where the label was scanned (WGS84), when the phone told.
    pub position: Option<LngLat>,
    /// Results of the items checked: all or some of the object's checklist.
    pub results: Vec<CheckResult>,
}

/// What is wrong with a check; [`Check::validate`] lists every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum CheckIssue {
    /// The check names another object.
    #[error("the check is for object {found}, not {expected}")]
    WrongObject { expected: String, found: String },
    /// No item was checked.
    #[error("the check has no result")]
    NoResults,
    /// 未知检查项.
    #[error("unknown item {item}")]
    UnknownItem { item: String },
    /// The item exists but is not on this kind's checklist.
    #[error("item {item} does not apply to {kind}")]
    NotApplicable { item: String, kind: ObjectKind },
    /// The same item twice.
    #[error("item {item} is given twice")]
    Duplicate { item: String },
    /// A failing result of an item that needs a photo has none.
    #[error("item {item} failed without the photo it requires")]
    PhotoMissing { item: String },
    /// More than [`MAX_PHOTOS_PER_RESULT`] photos.
    #[error("item {item} has more than {MAX_PHOTOS_PER_RESULT} photos")]
    TooManyPhotos { item: String },
    /// The note is longer than a comment may be.
    #[error("the note of item {item} is too long")]
    NoteTooLong { item: String },
    /// The scan position is no coordinate.
    #[error("the position is not a valid coordinate")]
    InvalidPosition,
}

impl Check {
    /// The result of an item, if checked.
    pub fn result(&self, item_code: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.item_code == item_code)
    }

    /// The failing results.
    pub fn failing(&self) -> impl Iterator<Item = &CheckResult> {
        self.results.iter().filter(|r| !r.passed)
    }

    /// Checks the record against the object and its checklist: the object's code; at least one
    /// result; every item known, on the checklist of the object's kind and given once; every
    /// failing item that needs a photo has one; at most [`MAX_PHOTOS_PER_RESULT`] photos and a
    /// note no longer than a comment; a valid position. Lists every issue found.
    pub fn validate(
        &self,
        object: &ManagedObject,
        checklists: &Checklists,
    ) -> Result<(), ObjectError> {
        let mut issues = Vec::new();
        if self.object_code != object.code {
            issues.push(CheckIssue::WrongObject {
                expected: object.code.to_string(),
                found: self.object_code.to_string(),
            });
        }
        if self.results.is_empty() {
            issues.push(CheckIssue::NoResults);
        }
        if self
            .position
            .is_some_and(|p| LngLat::new(p.lng, p.lat).is_err())
        {
            issues.push(CheckIssue::InvalidPosition);
        }
        let mut seen = BTreeSet::new();
        for r in &self.results {
            let item = || r.item_code.clone();
            if !seen.insert(r.item_code.as_str()) {
                issues.push(CheckIssue::Duplicate { item: item() });
                continue;
            }
            match checklists.item(&r.item_code) {
                None => issues.push(CheckIssue::UnknownItem { item: item() }),
                Some(i) if !i.applies_to(object.kind) => issues.push(CheckIssue::NotApplicable {
                    item: item(),
                    kind: object.kind,
                }),
                Some(i) => {
                    if !r.passed && i.evidence == Evidence::PhotoRequired && r.photo_ids.is_empty()
                    {
                        issues.push(CheckIssue::PhotoMissing { item: item() });
                    }
                }
            }
            if r.photo_ids.len() > MAX_PHOTOS_PER_RESULT {
                issues.push(CheckIssue::TooManyPhotos { item: item() });
            }
            if COMMENT.check_opt(r.note.as_deref()).is_err() {
                issues.push(CheckIssue::NoteTooLong { item: item() });
            }
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ObjectError::InvalidCheck(issues))
        }
    }

    /// Where the label was scanned against the object, when a position was given.
    pub fn position_check(
        &self,
        object: &ManagedObject,
        config: &PositionConfig,
    ) -> Option<PositionCheck> {
        self.position
            .map(|scan| check_position(object, scan, config))
    }
}

/// Whether `user` may record a check of `kind` on `object`: a self-check only by the object's
/// own responsible party (an active account with the role `responsible_party`); an inspection
/// by an active inspector or enforcement officer whose region scope covers the object (an
/// object located nowhere only by users scoped to the whole deployment).
pub fn may_check(kind: CheckKind, user: &User, object: &ManagedObject) -> bool {
    if !user.active {
        return false;
    }
    match kind {
        CheckKind::SelfCheck => {
            user.has_role(Role::ResponsibleParty) && object.responsible.user_id == Some(user.id)
        }
        CheckKind::Inspection => {
            (user.has_role(Role::Inspector) || user.has_role(Role::Enforcement))
                && match object.regions.finest() {
                    Some(code) => user.scope.covers_region(code.as_str()),
                    None => user.scope.region_code.is_none(),
                }
        }
    }
}

/// 扫码位置核验 settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PositionConfig {
    /// A scan farther than this from the object and its zone is flagged (default 200 m).
    pub max_distance_m: f64,
}

impl Default for PositionConfig {
    fn default() -> Self {
        Self {
            max_distance_m: 200.0,
        }
    }
}

/// 扫码位置核验 (scan-position check).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PositionCheck {
    /// Metres from the scan to the object: the nearer of its point and its zone (0 inside).
    pub distance_m: f64,
    /// 位置异常: farther than the configured distance.
    pub far: bool,
}

/// How far `scan` is from the object — the nearer of its point and its drawn zone (0 inside
/// the zone) — and whether that is beyond `config.max_distance_m`.
pub fn check_position(
    object: &ManagedObject,
    scan: LngLat,
    config: &PositionConfig,
) -> PositionCheck {
    let frame = LocalFrame::at(scan);
    let (x, y) = frame.to_xy(object.point);
    let to_point = x.hypot(y);
    let distance_m = object
        .zone
        .as_ref()
        .map_or(to_point, |z| z.distance_m(scan).min(to_point));
    PositionCheck {
        distance_m,
        far: distance_m > config.max_distance_m,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Scope;
    use crate::objects::object::tests::shop;
    use crate::objects::{FrontageConfig, frontage_zone};
    use chrono::TimeZone;

    pub(crate) fn result(item: &str, passed: bool, photos: &[i64]) -> CheckResult {
        CheckResult {
            item_code: item.into(),
            passed,
            note: None,
            photo_ids: photos.to_vec(),
        }
    }

    pub(crate) fn check(kind: CheckKind, at: DateTime<Utc>, results: Vec<CheckResult>) -> Check {
        Check {
            kind,
            object_code: shop().code,
            by_user: 501,
            at,
            position: None,
            results,
        }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 4, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn a_good_check_passes_validation() {
        let set = Checklists::demo().expect("demo");
        let c = check(
            CheckKind::SelfCheck,
            noon(),
            vec![
                result("0101", true, &[]),
                result("0301", false, &[11]),
                result("0604", false, &[]),
            ],
        );
        assert_eq!(c.validate(&shop(), &set), Ok(()));
        assert_eq!(c.failing().count(), 2);
        assert!(c.result("0301").is_some_and(|r| !r.passed));
    }

    #[test]
    fn every_issue_is_listed() {
        let set = Checklists::demo().expect("demo");
        let mut c = check(
            CheckKind::Inspection,
            noon(),
            vec![
                result("0101", true, &[]),
                result("0101", false, &[1]),
                result("9901", true, &[]),
                result("0105", true, &[]),
                result("0301", false, &[]),
                result("0201", true, &(1..=10).collect::<Vec<_>>()),
            ],
        );
        c.results[0].note = Some("长".repeat(1_001));
        c.object_code = ObjectCode::new("441302", ObjectKind::School, 9).expect("code");
        c.position = Some(LngLat {
            lng: 200.0,
            lat: 0.0,
        });
        let Err(ObjectError::InvalidCheck(issues)) = c.validate(&shop(), &set) else {
            panic!("expected issues");
        };
        let item = |s: &str| s.to_string();
        assert_eq!(
            issues,
            vec![
                CheckIssue::WrongObject {
                    expected: shop().code.to_string(),
                    found: c.object_code.to_string()
                },
                CheckIssue::InvalidPosition,
                CheckIssue::NoteTooLong { item: item("0101") },
                CheckIssue::Duplicate { item: item("0101") },
                CheckIssue::UnknownItem { item: item("9901") },
                CheckIssue::NotApplicable {
                    item: item("0105"),
                    kind: ObjectKind::Restaurant
                },
                CheckIssue::PhotoMissing { item: item("0301") },
                CheckIssue::TooManyPhotos { item: item("0201") },
            ]
        );
        let empty = check(CheckKind::SelfCheck, noon(), vec![]);
        let e = empty.validate(&shop(), &set).expect_err("empty");
        assert_eq!(e.to_string(), "invalid check: the check has no result");
    }

    #[test]
    fn who_may_check() {
        let user = |id: i64, roles: Vec<Role>, region: Option<&str>| User {
            id,
            username: format!("u{id}"),
            display_name: "x".into(),
            roles,
            scope: Scope {
                region_code: region.map(str::to_string),
                department_id: None,
            },
            active: true,
            grids: vec![],
        };
        let o = shop();
        let party = user(501, vec![Role::ResponsibleParty], None);
        assert!(may_check(CheckKind::SelfCheck, &party, &o));
        assert!(!may_check(CheckKind::Inspection, &party, &o));
        let other_party = user(502, vec![Role::ResponsibleParty], None);
        assert!(!may_check(CheckKind::SelfCheck, &other_party, &o));
        let inspector = user(9, vec![Role::Inspector], Some("441302001"));
        assert!(may_check(CheckKind::Inspection, &inspector, &o));
        assert!(!may_check(CheckKind::SelfCheck, &inspector, &o));
        let elsewhere = user(10, vec![Role::Enforcement], Some("441303"));
        assert!(!may_check(CheckKind::Inspection, &elsewhere, &o));
        let officer = user(11, vec![Role::Enforcement], Some("441300"));
        assert!(may_check(CheckKind::Inspection, &officer, &o));
        let mut inactive = inspector.clone();
        inactive.active = false;
        assert!(!may_check(CheckKind::Inspection, &inactive, &o));
        let mut nowhere = o.clone();
        nowhere.regions = Default::default();
        assert!(!may_check(CheckKind::Inspection, &inspector, &nowhere));
        assert!(may_check(
            CheckKind::Inspection,
            &user(12, vec![Role::Inspector], None),
            &nowhere
        ));
    }

    #[test]
    fn a_scan_far_from_the_object_is_flagged() {
        let o = shop();
        let frame = LocalFrame::at(o.point);
        let cfg = PositionConfig::default();
        let near = check_position(&o, frame.to_lnglat((30.0, 40.0)), &cfg);
        assert!((near.distance_m - 50.0).abs() < 1e-3);
        assert!(!near.far);
        let far = check_position(&o, frame.to_lnglat((0.0, 250.0)), &cfg);
        assert!((far.distance_m - 250.0).abs() < 1e-3);
        assert!(far.far);
        // At the threshold is not far, just beyond is.
        assert!(!check_position(&o, frame.to_lnglat((199.99, 0.0)), &cfg).far);
        assert!(check_position(&o, frame.to_lnglat((200.01, 0.0)), &cfg).far);
        // With a zone: the distance is to the nearer of point and zone.
        let street = [
            frame.to_lnglat((-100.0, -10.0)),
            frame.to_lnglat((100.0, -10.0)),
        ];
        let mut zoned = o.clone();
        zoned.zone = Some(
            frontage_zone(o.point, &street, &FrontageConfig::default())
                .expect("zone")
                .zone,
        );
        let inside = check_position(&zoned, frame.to_lnglat((5.0, -5.0)), &cfg);
        assert_eq!(inside.distance_m, 0.0);
        let beside = check_position(&zoned, frame.to_lnglat((214.9, -5.0)), &cfg);
        assert!((beside.distance_m - 199.9).abs() < 1e-3, "{beside:?}");
        assert!(!beside.far);
        let mut c = check(CheckKind::Inspection, noon(), vec![]);
        assert_eq!(c.position_check(&o, &cfg), None);
        c.position = Some(frame.to_lnglat((0.0, 300.0)));
        assert!(c.position_check(&o, &cfg).is_some_and(|p| p.far));
    }
}
