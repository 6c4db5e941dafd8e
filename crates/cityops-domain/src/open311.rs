//! Open311 GeoReport v2 (公众诉求开放接口): the pure part of speaking it — which of our categories
//! are offered as Open311 services and how they are named ([`ServiceCode`], [`Open311Config`]),
//! how our case states read as `open`/`closed` ([`RequestStatus`]) and our events as notes
//! ([`NoteType`]), the extra questions a service asks ([`AttributeDef`], answered as
//! [`AttributeAnswer`]s and written into the case's description), the search window of
//! `GET requests` ([`window`]) and the W3C datetimes with the city's offset.
//!
//! The wire formats (XML and JSON), the API keys and the HTTP statuses are the web crate's; the
//! application layer files the case (`cityops_app::open311`).
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::case::CaseStatus;
use crate::catalogue::{CategoryKind, FilingStandard};
use crate::limits::TextLimit;

/// The specification every endpoint of the discovery document names.
pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// The longest span between `start_date` and `end_date` of `GET requests`, and the default window.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// The most requests one answer holds (the default and the largest `page_size`).
pub const MAX_REQUESTS: u32 = 1000;
/// The longest description the specification lets a client send; this platform keeps at most
/// [`crate::limits::DESCRIPTION`] characters (2,000) and refuses longer ones.
pub const SPEC_DESCRIPTION_MAX: usize = 4000;
/// A `media_url` (a link to a photo the client already published; never fetched).
pub const MEDIA_URL: TextLimit = TextLimit {
    field: "media_url",
    max_chars: 2048,
};
/// The most `media_url`s one request may carry.
pub const MAX_MEDIA_URLS: usize = 9;
/// The answer to a free-text attribute (e.g. `landmark`).
pub const ATTRIBUTE_TEXT: TextLimit = TextLimit {
    field: "attribute",
    max_chars: 200,
};
/// An `account_id` or `device_id` as a client sends it.
pub const CLIENT_ID_TEXT: TextLimit = TextLimit {
    field: "account_id",
    max_chars: 128,
};
/// The name and the contact of an Open311 client application (接入应用).
pub const CLIENT_NAME: TextLimit = TextLimit {
    field: "name",
    max_chars: 100,
};
/// See [`CLIENT_NAME`].
pub const CLIENT_CONTACT: TextLimit = TextLimit {
    field: "contact",
    max_chars: 200,
};

/// The code of an Open311 service (服务代码): one category of the catalogue, its kind as a
/// letter before the 5-digit code — `C01001` a component (部件) category, `M06010` a matter (事项)
/// category — because the same 5 digits exist in both kinds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode {
    pub kind: CategoryKind,
    pub code: String,
}

impl ServiceCode {
    pub fn new(kind: CategoryKind, code: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
        }
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            CategoryKind::Component => 'C',
            CategoryKind::Matter => 'M',
        };
        write!(f, "{k}{}", self.code)
    }
}

impl FromStr for ServiceCode {
    type Err = String;
    /// `C` or `M` (either case) and 5 digits.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("service_code {s:?}: expected C or M and 5 digits (e.g. M06010)");
        let mut chars = s.chars();
        let kind = match chars.next() {
            Some('C' | 'c') => CategoryKind::Component,
            Some('M' | 'm') => CategoryKind::Matter,
            _ => return Err(bad()),
        };
        let code = chars.as_str();
        crate::catalogue::parse_category_code(code).map_err(|_| bad())?;
        Ok(Self::new(kind, code))
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ServiceCode> for String {
    fn from(c: ServiceCode) -> String {
        c.to_string()
    }
}

/// The citizen-facing categories offered by default, with an English name each: what people
/// report on the street (manhole covers, lights, traffic signs, toilets, bins, trees; garbage,
/// broken roads, noise, fumes, illegal ads, street vending, parking …), not the internal ones
/// (monitoring stations, pipelines, transformer boxes …).
pub const DEFAULT_SERVICES: &[(&str, &str)] = &[
    ("C01023", "Manhole cover (unknown owner)"),
    ("C01004", "Storm drain grate"),
    ("C01037", "Street light"),
    ("C01046", "Outdoor fitness equipment"),
    ("C02004", "Bus stop facilities"),
    ("C02010", "Traffic sign or road marking"),
    ("C02014", "Traffic light"),
    ("C02017", "Traffic railing"),
    ("C02034", "Accessibility facilities"),
    ("C03001", "Public toilet"),
    ("C03005", "Litter bin"),
    ("C04002", "Street tree"),
    ("C04007", "Street bench"),
    ("M06001", "Illegal construction"),
    ("M06010", "Exposed garbage"),
    ("M06011", "Accumulated garbage or muck"),
    ("M06012", "Dirty road"),
    ("M06013", "Damaged road"),
    ("M06017", "Dirty green space"),
    ("M06027", "Cooking fumes"),
    ("M06028", "Noise nuisance"),
    ("M06029", "Open-air barbecue"),
    ("M06030", "Sewage dumping"),
    ("M06034", "Abandoned vehicle"),
    ("M06036", "Piled-up clutter"),
    ("M06037", "Animal carcass"),
    ("M06042", "Overflowing garbage station"),
    ("M06051", "Damaged tactile paving"),
    ("M07001", "Illegal small advertisements"),
    ("M08001", "Construction noise"),
    ("M08004", "Construction site dust"),
    ("M09005", "Trading outside the shop"),
    ("M09006", "Street vending on the road"),
    ("M09009", "Illegally parked motor vehicle"),
    ("M09010", "Illegally parked bicycles"),
    ("M09011", "Shared bikes out of order"),
    ("M09012", "Blocked fire lane"),
    ("M10002", "Fallen overhead cable"),
];

/// What Open311 offers and how it answers (the binary's `[open311]`). `Default` gives the
/// documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Open311Config {
    /// The service codes offered ([`ServiceCode`]); codes the catalogue does not hold are left
    /// out. Default: [`DEFAULT_SERVICES`].
    pub services: Vec<String>,
    /// English service names by service code (shown with `locale=en`); the default services have
    /// theirs, others keep the Chinese name.
    pub names_en: BTreeMap<String, String>,
    /// Names `jurisdiction_id` may take besides the city's region code and name (e.g. the
    /// city's web domain, `huizhou.gov.cn`).
    pub jurisdictions: Vec<String>,
    /// The discovery document's `contact`.
    pub contact: String,
    /// The discovery document's `key_service`: how a developer gets an API key.
    pub key_service: String,
    /// `false` (default): a POST answers the `service_request_id` at once (services are of type
    /// `realtime`). `true`: it answers a `token` instead (type `batch`), which `tokens/{token}`
    /// resolves — for clients built for servers that queue requests.
    pub answer_tokens: bool,
}

impl Default for Open311Config {
    fn default() -> Self {
        Self {
            services: DEFAULT_SERVICES
                .iter()
                .map(|(c, _)| c.to_string())
                .collect(),
            names_en: DEFAULT_SERVICES
                .iter()
                .map(|(c, n)| (c.to_string(), n.to_string()))
                .collect(),
            jurisdictions: Vec::new(),
            contact: "城市运行管理服务中心 (city operation management centre)".into(),
            key_service: "API keys are issued by the platform's administrators \
                          (console: Open311 接入应用 /open311/clients)."
                .into(),
            answer_tokens: false,
        }
    }
}

impl Open311Config {
    /// The configured service codes that parse, in the configured order, each once; the others
    /// are returned as errors (the binary refuses to start with one).
    pub fn service_codes(&self) -> Result<Vec<ServiceCode>, String> {
        let mut out: Vec<ServiceCode> = Vec::with_capacity(self.services.len());
        for s in &self.services {
            let code: ServiceCode = s.parse()?;
            if !out.contains(&code) {
                out.push(code);
            }
        }
        Ok(out)
    }

    /// The English name of a service, if one is configured.
    pub fn name_en(&self, code: &ServiceCode) -> Option<&str> {
        self.names_en.get(&code.to_string()).map(String::as_str)
    }
}

/// The status of a request in Open311's two words (状态映射): everything before closing is `open`
/// (reported, verifying, filed, dispatched, handling, handled, checking, suspended); a closed
/// case (结案) and a cancelled one (作废, 不予立案, 合并) are `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Open,
    Closed,
}

impl RequestStatus {
    pub fn of(status: CaseStatus) -> Self {
        if status.is_open() {
            RequestStatus::Open
        } else {
            RequestStatus::Closed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Closed => "closed",
        }
    }

    /// The case statuses that read as this status.
    pub fn case_statuses(self) -> Vec<CaseStatus> {
        CaseStatus::ALL
            .iter()
            .copied()
            .filter(|s| RequestStatus::of(*s) == self)
            .collect()
    }
}

impl FromStr for RequestStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(RequestStatus::Open),
            "closed" => Ok(RequestStatus::Closed),
            other => Err(format!("status {other:?}: expected open or closed")),
        }
    }
}

/// The kind of a note of a request's history (`extensions=true`, as Chicago and Boston answer
/// it): the report opened it, closing or cancelling closed it, every other public step is
/// activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteType {
    Opened,
    Activity,
    Closed,
}

impl NoteType {
    /// The type of the note of an event (`action`, and the case status after it).
    pub fn of(action: &str, to_status: CaseStatus) -> Self {
        if action == "report" {
            NoteType::Opened
        } else if !to_status.is_open() && action != "rate" {
            NoteType::Closed
        } else {
            NoteType::Activity
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoteType::Opened => "opened",
            NoteType::Activity => "activity",
            NoteType::Closed => "closed",
        }
    }
}

/// The datatype of an attribute, as the specification names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
}

/// One value of a list attribute: the key a client sends and its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeValue {
    pub key: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

/// An extra question of a service (附加问题: the service definition's `attribute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDef {
    pub code: &'static str,
    pub datatype: Datatype,
    pub required: bool,
    /// Position in the form (from 1).
    pub order: u32,
    pub description_zh: &'static str,
    pub description_en: &'static str,
    /// How to answer, for the datatypes that need it.
    pub datatype_description: Option<&'static str>,
    /// The choices of a list.
    pub values: Vec<AttributeValue>,
}

/// The extra questions every service asks: how serious the problem is (`severity`, one of
/// three) and a landmark near it (`landmark`, free text). Both optional; the answers are
/// written into the case's description for the staff (they do not change its urgency: that is
/// the filing's decision).
pub fn default_attributes() -> Vec<AttributeDef> {
    vec![
        AttributeDef {
            code: "severity",
            datatype: Datatype::Singlevaluelist,
            required: false,
            order: 1,
            description_zh: "问题严重程度",
            description_en: "How serious is the problem?",
            datatype_description: None,
            values: vec![
                AttributeValue {
                    key: "minor",
                    name_zh: "轻微",
                    name_en: "Minor",
                },
                AttributeValue {
                    key: "moderate",
                    name_zh: "较重",
                    name_en: "Moderate",
                },
                AttributeValue {
                    key: "severe",
                    name_zh: "严重（影响通行或安全）",
                    name_en: "Severe (blocks the way or is dangerous)",
                },
            ],
        },
        AttributeDef {
            code: "landmark",
            datatype: Datatype::Text,
            required: false,
            order: 2,
            description_zh: "附近的标志物（如店名、门牌号）",
            description_en: "A landmark nearby (a shop, a house number)",
            datatype_description: Some("≤ 200 characters"),
            values: Vec::new(),
        },
    ]
}

/// An answer to an attribute as a request carries it (`attribute[code]=v`, or
/// `attribute[code][]=v` several times for a multi-value list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeAnswer {
    pub code: String,
    pub values: Vec<String>,
}

/// Checks the answers against the definitions: a required attribute must be answered, a list's
/// value must be one of its keys (a single-value list takes one), a text must fit
/// [`ATTRIBUTE_TEXT`], a number must be one. Answers to attributes the service does not define
/// are dropped (clients such as FixMyStreet send their own, e.g. `attribute[fixmystreet_id]`).
/// Empty answers count as absent. The kept answers come back in definition order.
pub fn check_answers(
    defs: &[AttributeDef],
    given: &[AttributeAnswer],
) -> Result<Vec<AttributeAnswer>, String> {
    let mut out = Vec::new();
    for def in defs {
        let values: Vec<String> = given
            .iter()
            .filter(|a| a.code == def.code)
            .flat_map(|a| a.values.iter())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if def.required {
                return Err(format!("attribute[{}] is required", def.code));
            }
            continue;
        }
        match def.datatype {
            Datatype::Singlevaluelist | Datatype::Multivaluelist => {
                if def.datatype == Datatype::Singlevaluelist && values.len() > 1 {
                    return Err(format!("attribute[{}] takes one value", def.code));
                }
                if let Some(v) = values
                    .iter()
                    .find(|v| !def.values.iter().any(|k| k.key == v.as_str()))
                {
                    let keys: Vec<&str> = def.values.iter().map(|k| k.key).collect();
                    return Err(format!(
                        "attribute[{}] = {v:?}: expected one of {}",
                        def.code,
                        keys.join(", ")
                    ));
                }
            }
            Datatype::Number => {
                if values.len() > 1 || values[0].parse::<f64>().is_err() {
                    return Err(format!("attribute[{}] must be one number", def.code));
                }
            }
            Datatype::String | Datatype::Text | Datatype::Datetime => {
                if values.len() > 1 {
                    return Err(format!("attribute[{}] takes one value", def.code));
                }
                ATTRIBUTE_TEXT.check(&values[0]).map_err(|e| {
                    format!(
                        "attribute[{}]: at most {} characters ({} given)",
                        def.code, e.max, e.got
                    )
                })?;
            }
        }
        out.push(AttributeAnswer {
            code: def.code.to_string(),
            values,
        });
    }
    Ok(out)
}

/// The description a case gets from an Open311 request: the client's description, then one
/// line per answered attribute (`问题严重程度：严重（影响通行或安全）`) and per photo link
/// (`照片链接：https://…`), so the staff see everything on the case; the service's name when
/// nothing was written at all.
pub fn compose_description(
    description: &str,
    answers: &[AttributeAnswer],
    defs: &[AttributeDef],
    media_urls: &[String],
    service_name: &str,
) -> String {
    let mut lines: Vec<String> = Vec::new();
    let text = description.trim();
    if !text.is_empty() {
        lines.push(text.to_string());
    }
    for a in answers {
        let Some(def) = defs.iter().find(|d| d.code == a.code) else {
            continue;
        };
        let shown: Vec<&str> = a
            .values
            .iter()
            .map(|v| {
                def.values
                    .iter()
                    .find(|k| k.key == v.as_str())
                    .map_or(v.as_str(), |k| k.name_zh)
            })
            .collect();
        lines.push(format!("{}：{}", def.description_zh, shown.join("、")));
    }
    for url in media_urls {
        lines.push(format!("照片链接：{url}"));
    }
    if lines.is_empty() {
        service_name.to_string()
    } else {
        lines.join("\n")
    }
}

/// The `service_notice` of a service (服务说明): what the city does with a request, from the
/// category's filing standard — its handling limit and closure condition.
pub fn service_notice(standard: Option<&FilingStandard>) -> Option<String> {
    let s = standard?;
    let closure = s.closure_condition.trim();
    Some(if closure.is_empty() {
        format!("立案后按标准在{}内处置。", s.limit)
    } else {
        format!("立案后按标准在{}内处置；结案条件：{closure}。", s.limit)
    })
}

/// Why a search window is refused (answered 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("end_date lies before start_date")]
    Reversed,
    #[error("start_date and end_date may be at most {MAX_WINDOW_DAYS} days apart")]
    TooLong,
}

/// The window `[from, to]` of `GET requests` (by `requested_datetime`): both dates given → as
/// given (at most [`MAX_WINDOW_DAYS`] apart); one → [`MAX_WINDOW_DAYS`] from or to it; none →
/// the last [`MAX_WINDOW_DAYS`] up to `now`.
pub fn window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), WindowError> {
    let span = Duration::days(MAX_WINDOW_DAYS);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => (now - span, now),
    };
    if to < from {
        return Err(WindowError::Reversed);
    }
    if to - from > span {
        return Err(WindowError::TooLong);
    }
    Ok((from, to))
}

/// Reads a datetime parameter: W3C/RFC 3339 with an offset (`2026-11-23T09:00:00+08:00`,
/// `…Z`), or without one (`2026-11-23T09:00:00`, also with a space) and a bare date
/// (`2026-11-23`, its start), both taken in the city's time zone. `None` when it is none of
/// these.
pub fn parse_datetime(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A datetime as Open311 writes it: W3C with the city's offset, whole seconds
/// (`2026-11-23T09:00:00+08:00`).
pub fn format_datetime(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_name_the_kind() {
        let c: ServiceCode = "M06010".parse().unwrap();
        assert_eq!(c, ServiceCode::new(CategoryKind::Matter, "06010"));
        assert_eq!(c.to_string(), "M06010");
        assert_eq!(
            "c01001".parse::<ServiceCode>().unwrap().to_string(),
            "C01001"
        );
        for bad in ["06010", "X06010", "M0601", "M060100", "M06a10", ""] {
            assert!(bad.parse::<ServiceCode>().is_err(), "{bad}");
        }
        let config = Open311Config::default();
        let codes = config.service_codes().unwrap();
        assert_eq!(codes.len(), DEFAULT_SERVICES.len());
        assert!(codes.iter().all(|c| config.name_en(c).is_some()));
    }

    #[test]
    fn states_read_as_open_or_closed() {
        use CaseStatus::*;
        for s in [
            Reported, Verifying, Filed, Dispatched, Handling, Handled, Checking, Suspended,
        ] {
            assert_eq!(RequestStatus::of(s), RequestStatus::Open, "{s}");
        }
        assert_eq!(RequestStatus::of(Closed), RequestStatus::Closed);
        assert_eq!(RequestStatus::of(Cancelled), RequestStatus::Closed);
        assert_eq!(
            RequestStatus::Closed.case_statuses(),
            vec![Closed, Cancelled]
        );
        assert_eq!(" Open ".parse::<RequestStatus>(), Ok(RequestStatus::Open));
        assert!("pending".parse::<RequestStatus>().is_err());
        assert_eq!(NoteType::of("report", Reported), NoteType::Opened);
        assert_eq!(NoteType::of("close", Closed), NoteType::Closed);
        assert_eq!(NoteType::of("merge", Cancelled), NoteType::Closed);
        assert_eq!(NoteType::of("rate", Closed), NoteType::Activity);
        assert_eq!(NoteType::of("dispatch", Dispatched), NoteType::Activity);
    }

    #[test]
    fn answers_are_checked_and_written_out() {
        let defs = default_attributes();
        let a = |code: &str, v: &[&str]| AttributeAnswer {
            code: code.into(),
            values: v.iter().map(|s| s.to_string()).collect(),
        };
        let kept = check_answers(
            &defs,
            &[
                a("landmark", &["惠州西湖东门"]),
                a("severity", &["severe"]),
                a("fixmystreet_id", &["42"]),
                a("severity", &[" "]),
            ],
        )
        .unwrap();
        assert_eq!(
            kept,
            vec![a("severity", &["severe"]), a("landmark", &["惠州西湖东门"])]
        );
        assert!(check_answers(&defs, &[a("severity", &["awful"])]).is_err());
        assert!(check_answers(&defs, &[a("severity", &["minor", "severe"])]).is_err());
        assert!(check_answers(&defs, &[a("landmark", &[&"路".repeat(201)])]).is_err());
        assert_eq!(check_answers(&defs, &[]).unwrap(), vec![]);
        let text = compose_description(
            " 井盖缺失 ",
            &kept,
            &defs,
            &["https://img.example/1.jpg".to_string()],
            "不明井盖",
        );
        assert_eq!(
            text,
            "井盖缺失\n问题严重程度：严重（影响通行或安全）\n附近的标志物（如店名、门牌号）：惠州西湖东门\n照片链接：https://img.example/1.jpg"
        );
        assert_eq!(compose_description("", &[], &defs, &[], "路灯"), "路灯");
    }

    #[test]
    fn windows_are_ninety_days_at_most() {
        let t = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let now = t(23);
        assert_eq!(window(None, None, now), Ok((now - Duration::days(90), now)));
        assert_eq!(
            window(Some(t(1)), None, now),
            Ok((t(1), t(1) + Duration::days(90)))
        );
        assert_eq!(
            window(Some(t(2)), Some(t(1)), now),
            Err(WindowError::Reversed)
        );
        assert_eq!(
            window(Some(t(1) - Duration::days(91)), Some(t(1)), now),
            Err(WindowError::TooLong)
        );
        assert!(window(Some(t(1) - Duration::days(90)), Some(t(1)), now).is_ok());
    }

    #[test]
    fn datetimes_in_the_city_offset() {
        let tz = chrono_tz::Asia::Shanghai;
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
        assert_eq!(format_datetime(t, tz), "2026-11-23T09:00:00+08:00");
        for s in [
            "2026-11-23T09:00:00+08:00",
            "2026-11-23T01:00:00Z",
            "2026-11-23T09:00:00",
            "2026-11-23 09:00:00",
        ] {
            assert_eq!(parse_datetime(s, tz), Some(t), "{s}");
        }
        assert_eq!(
            parse_datetime("2026-11-23", tz),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 16, 0, 0).unwrap())
        );
        assert_eq!(parse_datetime("yesterday", tz), None);
    }

    #[test]
    fn notices_come_from_the_filing_standard() {
        use crate::catalogue::{LimitUnit, TimeLimit};
        let s = FilingStandard {
            kind: CategoryKind::Matter,
            code: "06010".into(),
            seq: 0,
            filing_condition: "x".into(),
            limit: TimeLimit {
                value: 2,
                unit: LimitUnit::WorkHour,
            },
            limit_text: "2工作时".into(),
            closure_condition: "清理干净".into(),
            old_code: None,
            source: "t".into(),
        };
        assert_eq!(
            service_notice(Some(&s)).as_deref(),
            Some("立案后按标准在2工作时内处置；结案条件：清理干净。")
        );
        assert_eq!(service_notice(None), None);
    }
}
