//! Open311 GeoReport v2 (公众诉求开放接口): what the web crate's `/open311/v2/…` handlers call.
//!
//! - **Client applications and keys** (接入应用与 API key): an administrator issues a key per
//!   application ([`Open311Service::issue_key`]); the key is shown once, the store keeps its
//!   SHA-256. Every POST looks the hash up in the store ([`Open311Service::authenticate`], one
//!   indexed statement that also stamps `last_used_at`), so a revocation holds at once in every
//!   process — there is no cache to outlive it.
//! - **Requests** ([`Open311Service::submit`]): a citizen report filed through
//!   [`CaseService::report_counted`] — located, duplicate-checked, routed — with source
//!   `citizen`, under one inactive system account ([`OPEN311_REPORTER`]); the reporter's name,
//!   phone and mail address become the case's contact (masked for most staff, never in a GET);
//!   the answers to the service's questions and the photo links are written into the
//!   description for the staff and kept, with a random token, in the Open311 record. Counted per
//!   client application ([`ReportLimits::open311_per_key_per_minute`]) here, and per client
//!   address on the citizens' quota by the caller ([`CaseService::check_public_address`]).
//! - **Services** ([`Open311Service::services`]): the configured categories the catalogue holds,
//!   named from it (and in English where configured), with their filing standard's notice;
//!   rebuilt when the catalogue is reloaded.
//! - **Reads**: one store read per page ([`cityops_store::Open311Repo::open311_requests`]),
//!   only of the published services.
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use cityops_domain::case::{CaseAction, CaseSource};
use cityops_domain::open311::{
    self, AttributeAnswer, AttributeDef, Open311Config, ServiceCode, check_answers,
    compose_description,
};
use cityops_domain::{CategoryKind, PageRequest, RegionLevel, Role, User};
use cityops_store::{
    NewOpen311Client, NewOpen311Request, Open311Client, Open311Query, Open311Record, Open311Update,
    Open311UpdateQuery, Page, RegionQuery, StoreError,
};
use sha2::{Digest, Sha256};

use crate::caches::Catalogue;
use crate::error::{Result, ServiceError};
use crate::report_limit::{ReportLimiter, ReportLimits};
use crate::service::{CaseService, ReportRequest, StoredCase};

/// The username of the account Open311 requests are filed under.
pub const OPEN311_REPORTER: &str = "open311";
/// Its display name.
const OPEN311_REPORTER_NAME: &str = "公众（Open311 接入）";
/// Random bytes of an API key (256 bits).
const KEY_BYTES: usize = 32;
/// Random bytes of a request token (128 bits).
const TOKEN_BYTES: usize = 16;

/// The SHA-256 (hex) an API key is kept and looked up by (surrounding space ignored).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// One Open311 service (服务): a published category of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub code: ServiceCode,
    /// The category's Chinese name (小类名称).
    pub name: String,
    /// Its English name, where one is configured.
    pub name_en: Option<String>,
    /// The catalogue's major class (大类名称), Open311's `group`.
    pub group: String,
    /// Comma-separated search words: names, class, kind, code.
    pub keywords: String,
    /// What the category is (kind, class and standard code).
    pub description: String,
    /// What the city does with a request ([`open311::service_notice`]).
    pub notice: Option<String>,
}

impl Service {
    /// The name in `english` or Chinese (Chinese when no English one is configured).
    pub fn name_in(&self, english: bool) -> &str {
        match (&self.name_en, english) {
            (Some(en), true) => en,
            _ => &self.name,
        }
    }
}

/// A request as a client posted it, parsed but not yet checked against the service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub service_code: String,
    /// WGS84.
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub description: String,
    pub answers: Vec<AttributeAnswer>,
    pub media_urls: Vec<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub account_id: Option<String>,
    pub device_id: Option<String>,
}

/// A request Open311 filed.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub case: StoredCase,
    /// The request's token (`tokens/{token}`).
    pub token: String,
    pub service_notice: Option<String>,
    /// The `account_id` the client sent, echoed in this answer only (never kept).
    pub account_id: Option<String>,
}

/// The services built from one catalogue.
struct BuiltServices {
    catalogue: Arc<Catalogue>,
    services: Arc<Vec<Service>>,
}

/// The Open311 service. One per process.
pub struct Open311Service {
    cases: Arc<CaseService>,
    config: Open311Config,
    codes: Vec<ServiceCode>,
    attributes: Vec<AttributeDef>,
    limiter: ReportLimiter,
    built: RwLock<Option<BuiltServices>>,
    /// The city's region code and name, read once.
    city: tokio::sync::OnceCell<Option<(String, String)>>,
}

impl std::fmt::Debug for Open311Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Open311Service")
            .field("services", &self.codes.len())
            .finish_non_exhaustive()
    }
}

impl Open311Service {
    /// The service over `cases`. Configured service codes that do not parse are left out (and
    /// logged; the binary checks them when it reads its configuration).
    pub fn new(cases: Arc<CaseService>, config: Open311Config, limits: ReportLimits) -> Self {
        let codes = config
            .services
            .iter()
            .filter_map(|s| match s.parse::<ServiceCode>() {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "an Open311 service code is left out");
                    None
                }
            })
            .fold(Vec::new(), |mut v, c| {
                if !v.contains(&c) {
                    v.push(c);
                }
                v
            });
        let limiter = ReportLimiter::new(cases.clock().clone(), limits);
        Self {
            cases,
            config,
            codes,
            attributes: open311::default_attributes(),
            limiter,
            built: RwLock::new(None),
            city: tokio::sync::OnceCell::new(),
        }
    }

    pub fn config(&self) -> &Open311Config {
        &self.config
    }

    /// The case service it files through.
    pub fn cases(&self) -> &Arc<CaseService> {
        &self.cases
    }

    /// The extra questions every service asks.
    pub fn attributes(&self) -> &[AttributeDef] {
        &self.attributes
    }

    // -----------------------------------------------------------------------------------------
    // Client applications

    fn admin_only(user: &User) -> Result<()> {
        if user.has_role(Role::Admin) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(
                "Open311 client applications are managed by administrators.".into(),
            ))
        }
    }

    /// 签发: registers a client application and answers it with its new API key — the only time
    /// the key is known (the store keeps its SHA-256).
    pub async fn issue_key(
        &self,
        admin: &User,
        name: &str,
        contact: &str,
    ) -> Result<(Open311Client, String)> {
        Self::admin_only(admin)?;
        let key = hex::encode(rand::random::<[u8; KEY_BYTES]>());
        let client = self.register(name, contact, &key, Some(admin.id)).await?;
        tracing::info!(client = client.id, by = admin.id, "Open311 API key issued");
        Ok((client, key))
    }

    /// Registers a client application with a key chosen by the caller (the demo city's published
    /// key): checks the name and contact, keeps the key's hash.
    pub async fn register(
        &self,
        name: &str,
        contact: &str,
        key: &str,
        created_by: Option<i64>,
    ) -> Result<Open311Client> {
        // Checked as given (what the API document declares), kept without surrounding space.
        if name.is_empty() {
            return Err(ServiceError::invalid(
                "name: a client application needs a name",
            ));
        }
        open311::CLIENT_NAME.check(name)?;
        open311::CLIENT_CONTACT.check(contact)?;
        let name = match name.trim() {
            "" => name,
            trimmed => trimmed,
        };
        let contact = contact.trim();
        if key.trim().is_empty() {
            return Err(ServiceError::invalid("an API key may not be empty"));
        }
        Ok(self
            .cases
            .store()
            .create_open311_client(&NewOpen311Client {
                name: name.to_string(),
                contact: contact.to_string(),
                key_hash: key_hash(key),
                created_by,
                created_at: self.cases.clock().now(),
            })
            .await?)
    }

    /// The client applications, newest first (administrators).
    pub async fn clients(&self, admin: &User, page: PageRequest) -> Result<Page<Open311Client>> {
        Self::admin_only(admin)?;
        Ok(self.cases.store().list_open311_clients(page).await?)
    }

    /// 吊销: revokes a client's key at once, in every process (keys are looked up in the store
    /// on every use). Revoking a revoked key changes nothing. `NotFound` for an unknown id.
    pub async fn revoke(&self, admin: &User, id: i64) -> Result<Open311Client> {
        Self::admin_only(admin)?;
        let client = self
            .cases
            .store()
            .revoke_open311_client(id, self.cases.clock().now())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("No Open311 client {id}.")))?;
        tracing::info!(client = id, by = admin.id, "Open311 API key revoked");
        Ok(client)
    }

    /// The unrevoked client application of an API key (looked up by its hash in the store, on
    /// every call); `None` for a missing, unknown or revoked key.
    pub async fn authenticate(&self, api_key: Option<&str>) -> Result<Option<Open311Client>> {
        let Some(key) = api_key.map(str::trim).filter(|k| !k.is_empty()) else {
            return Ok(None);
        };
        if key.len() > 512 {
            return Ok(None);
        }
        Ok(self
            .cases
            .store()
            .open311_client_by_key(&key_hash(key), self.cases.clock().now())
            .await?)
    }

    // -----------------------------------------------------------------------------------------
    // Services and jurisdictions

    /// The published services, in the configured order (built from the catalogue, again after
    /// the catalogue was reloaded).
    pub async fn services(&self) -> Result<Arc<Vec<Service>>> {
        self.cases.refresh().await;
        let catalogue = self.cases.catalogue().await?;
        if let Some(b) = self
            .built
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && Arc::ptr_eq(&b.catalogue, &catalogue)
        {
            return Ok(b.services.clone());
        }
        let mut services = Vec::with_capacity(self.codes.len());
        for code in &self.codes {
            let Some(cat) = catalogue.category(code.kind, &code.code) else {
                continue;
            };
            let standards = self
                .cases
                .store()
                .filing_standards(code.kind, &code.code)
                .await?;
            let standard = standards
                .iter()
                .find(|s| s.seq == 0)
                .or_else(|| standards.iter().min_by_key(|s| s.seq));
            let (kind_zh, kind_en) = match code.kind {
                CategoryKind::Component => ("部件", "component"),
                CategoryKind::Matter => ("事项", "matter"),
            };
            let name_en = self.config.name_en(code).map(str::to_string);
            let mut keywords = vec![
                cat.name.clone(),
                cat.class_name.clone(),
                kind_zh.to_string(),
            ];
            if let Some(en) = &name_en {
                keywords.push(en.clone());
            }
            keywords.push(code.code.clone());
            services.push(Service {
                code: code.clone(),
                name: cat.name.clone(),
                name_en,
                group: cat.class_name.clone(),
                keywords: keywords.join(", "),
                description: format!(
                    "{}（{}）— GB/T 47678.5-2026 {kind_zh} {} / {kind_en} category {}",
                    cat.name, cat.class_name, cat.code, cat.code
                ),
                notice: open311::service_notice(standard),
            });
        }
        let services = Arc::new(services);
        *self.built.write().unwrap_or_else(|e| e.into_inner()) = Some(BuiltServices {
            catalogue,
            services: services.clone(),
        });
        Ok(services)
    }

    /// A published service by its code (`None`: unknown or not published).
    pub async fn service(&self, code: &str) -> Result<Option<Service>> {
        let Ok(code) = code.parse::<ServiceCode>() else {
            return Ok(None);
        };
        Ok(self
            .services()
            .await?
            .iter()
            .find(|s| s.code == code)
            .cloned())
    }

    /// The published (kind, code) pairs, for the store's filter.
    async fn published(&self) -> Result<Vec<(CategoryKind, String)>> {
        Ok(self
            .services()
            .await?
            .iter()
            .map(|s| (s.code.kind, s.code.code.clone()))
            .collect())
    }

    /// The city's region code and name.
    async fn city(&self) -> Result<Option<(String, String)>> {
        let store = self.cases.store().clone();
        let city = self
            .city
            .get_or_try_init(|| async move {
                let page = store
                    .list_regions(
                        &RegionQuery {
                            level: Some(RegionLevel::City),
                            ..RegionQuery::default()
                        },
                        PageRequest {
                            page: 1,
                            page_size: 1,
                        },
                    )
                    .await?;
                Ok::<_, StoreError>(page.items.into_iter().next().map(|r| (r.code, r.name)))
            })
            .await?;
        Ok(city.clone())
    }

    /// Whether `jurisdiction_id` names this city: absent or empty (one jurisdiction), the
    /// city's region code or name, or a configured name (letters' case ignored).
    pub async fn is_jurisdiction(&self, jurisdiction_id: Option<&str>) -> Result<bool> {
        let Some(j) = jurisdiction_id.map(str::trim).filter(|j| !j.is_empty()) else {
            return Ok(true);
        };
        if self
            .config
            .jurisdictions
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case(j))
        {
            return Ok(true);
        }
        Ok(self
            .city()
            .await?
            .is_some_and(|(code, name)| code == j || name == j))
    }

    /// The jurisdiction the discovery document names: the first configured name, else the
    /// city's region code.
    pub async fn jurisdiction(&self) -> Result<Option<String>> {
        if let Some(j) = self.config.jurisdictions.first() {
            return Ok(Some(j.clone()));
        }
        Ok(self.city().await?.map(|(code, _)| code))
    }

    // -----------------------------------------------------------------------------------------
    // Requests

    /// 提交诉求: files a request of `client` as a citizen case (see the module documentation).
    /// `Invalid` for a missing or malformed field (the message names it), `NotFound` for a
    /// service that is not published, `RateLimited` over the client's quota, `OutsideCity` for a
    /// point outside the city.
    pub async fn submit(&self, client: &Open311Client, s: Submission) -> Result<Receipt> {
        let service = self.service(&s.service_code).await?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "service_code {:?} is not a service of this city (see services.xml)",
                s.service_code.trim()
            ))
        })?;
        self.limiter
            .check_open311_key(client.id)
            .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })?;
        let (lng, lat) = match (s.long, s.lat) {
            (Some(lng), Some(lat)) => (lng, lat),
            (None, None) => {
                return Err(ServiceError::invalid(
                    "a location is required: lat and long (WGS84). This server has no geocoder, \
                     so address_string and address_id alone cannot place a request.",
                ));
            }
            _ => return Err(ServiceError::invalid("lat and long go together")),
        };
        let answers = check_answers(&self.attributes, &s.answers).map_err(ServiceError::invalid)?;
        if s.media_urls.len() > open311::MAX_MEDIA_URLS {
            return Err(ServiceError::invalid(format!(
                "at most {} media_url per request",
                open311::MAX_MEDIA_URLS
            )));
        }
        for url in &s.media_urls {
            open311::MEDIA_URL.check(url)?;
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || url.chars().any(char::is_whitespace)
            {
                return Err(ServiceError::invalid(format!(
                    "media_url {url:?}: expected an http(s) URL"
                )));
            }
        }
        for (field, v) in [("account_id", &s.account_id), ("device_id", &s.device_id)] {
            if let Some(v) = v
                && v.chars().count() > open311::CLIENT_ID_TEXT.max_chars
            {
                return Err(ServiceError::invalid(format!(
                    "{field}: at most {} characters",
                    open311::CLIENT_ID_TEXT.max_chars
                )));
            }
        }
        if s.description.chars().count() > open311::SPEC_DESCRIPTION_MAX {
            return Err(ServiceError::invalid(format!(
                "description: at most {} characters",
                open311::SPEC_DESCRIPTION_MAX
            )));
        }
        if let Some(email) = s.email.as_deref().map(str::trim).filter(|e| !e.is_empty())
            && (!email.contains('@') || email.chars().any(char::is_whitespace))
        {
            return Err(ServiceError::invalid(format!(
                "email {email:?} is not a mail address"
            )));
        }
        let description = compose_description(
            &s.description,
            &answers,
            &self.attributes,
            &s.media_urls,
            &service.name,
        );
        let contact = contact_of(&s);
        let address = s
            .address_string
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        let req = ReportRequest {
            lng: Some(lng),
            lat: Some(lat),
            crs: None,
            description,
            category_kind: Some(service.code.kind),
            category_code: Some(service.code.code.clone()),
            address,
            contact,
            ..ReportRequest::default()
        };
        let reporter = self
            .cases
            .system_account(OPEN311_REPORTER, OPEN311_REPORTER_NAME, vec![Role::Citizen])
            .await?;
        let case = self
            .cases
            .report_counted(&reporter, CaseSource::Citizen, req)
            .await?;
        let token = hex::encode(rand::random::<[u8; TOKEN_BYTES]>());
        let attributes = serde_json::Value::Object(
            answers
                .iter()
                .map(|a| (a.code.clone(), serde_json::json!(a.values)))
                .collect(),
        );
        self.cases
            .store()
            .add_open311_request(&NewOpen311Request {
                case_id: case.case.id,
                client_id: client.id,
                token: token.clone(),
                created_at: self.cases.clock().now(),
                media_urls: s.media_urls.clone(),
                attributes: attributes.to_string(),
            })
            .await?;
        tracing::info!(case = %case.case.code, client = client.id, "Open311 request filed");
        Ok(Receipt {
            case,
            token,
            service_notice: service.notice.clone(),
            account_id: s.account_id.filter(|a| !a.trim().is_empty()),
        })
    }

    /// A page of the published requests: `codes` (a `service_request_id` list) overrides the
    /// other filters; `services` narrows to those published service codes (none: all);
    /// `statuses` keeps those of the listed case statuses; `window` by requested time.
    pub async fn requests(
        &self,
        codes: Vec<String>,
        services: &[ServiceCode],
        statuses: Vec<cityops_domain::case::CaseStatus>,
        window: (DateTime<Utc>, DateTime<Utc>),
        page: PageRequest,
    ) -> Result<Page<Open311Record>> {
        let mut published = self.published().await?;
        if !services.is_empty() {
            published.retain(|(k, c)| services.iter().any(|s| s.kind == *k && &s.code == c));
        }
        let query = Open311Query {
            services: published,
            codes,
            statuses,
            from: Some(window.0),
            to: Some(window.1),
        };
        Ok(self.cases.store().open311_requests(&query, page).await?)
    }

    /// One published request by its code.
    pub async fn request(&self, code: &str) -> Result<Option<Open311Record>> {
        let code = code.trim();
        if code.len() != 13 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let query = Open311Query {
            services: self.published().await?,
            codes: vec![code.to_string()],
            statuses: Vec::new(),
            from: None,
            to: None,
        };
        let page = self
            .cases
            .store()
            .open311_requests(
                &query,
                PageRequest {
                    page: 1,
                    page_size: 1,
                },
            )
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// The code of the case of a request token.
    pub async fn token(&self, token: &str) -> Result<Option<String>> {
        let token = token.trim();
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        Ok(self.cases.store().open311_token_case(token).await?)
    }

    /// A page of the updates (public steps) of published requests within `[from, to]`.
    pub async fn updates(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Open311Update>> {
        let query = Open311UpdateQuery {
            services: self.published().await?,
            actions: update_actions(),
            from,
            to,
        };
        Ok(self.cases.store().open311_updates(&query, page).await?)
    }
}

/// The event actions that are notes of a request's history: the report and every case action
/// (the deadline watcher's marks are not).
pub fn update_actions() -> Vec<String> {
    std::iter::once("report")
        .chain(CaseAction::ALL.iter().map(|a| a.as_str()))
        .map(str::to_string)
        .collect()
}

/// Whether an event of this action is a note of the request's history ([`update_actions`]).
pub fn is_note(action: &str) -> bool {
    action == "report" || action.parse::<CaseAction>().is_ok()
}

/// The case's contact from the request's name, phone and mail address (`None` when none).
fn contact_of(s: &Submission) -> Option<String> {
    let parts: Vec<&str> = [
        s.first_name.as_deref(),
        s.last_name.as_deref(),
        s.phone.as_deref(),
        s.email.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_as_given() {
        assert_eq!(key_hash(" abc "), key_hash("abc"));
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn notes_are_the_report_and_the_actions() {
        assert!(is_note("report"));
        assert!(is_note("close"));
        assert!(!is_note("light_yellow"));
        assert!(!is_note("overdue"));
        assert_eq!(update_actions().len(), CaseAction::ALL.len() + 1);
    }

    #[test]
    fn the_contact_joins_what_was_given() {
        let s = Submission {
            first_name: Some("小明".into()),
            last_name: Some(" ".into()),
            phone: Some("13812345678".into()),
            email: Some("xm@example.org".into()),
            ..Submission::default()
        };
        assert_eq!(
            contact_of(&s).as_deref(),
            Some("小明 13812345678 xm@example.org")
        );
        assert_eq!(contact_of(&Submission::default()), None);
    }
}
