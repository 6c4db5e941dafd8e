//! Open311 (公众诉求开放接口): the client applications that may post requests, each with an API
//! key kept only as its SHA-256; what Open311 kept of each request it took (its token, the
//! photo links and the answers to the service's questions); and the one read `GET requests`
//! needs — a page of the published cases with their department's name, their events and that
//! record, in a fixed number of statements whatever the page's size.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Case, CaseEvent, CaseStatus, CategoryKind, Page, PageRequest, Result};

/// A client application (接入应用) as it is registered: the key is already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpen311Client {
    pub name: String,
    /// Who to call about it (a person, a mail address).
    pub contact: String,
    /// SHA-256 (hex) of the API key; the key itself is shown once and never kept.
    pub key_hash: String,
    /// The administrator who issued the key.
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A registered client application (no key, no key hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open311Client {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// When its key was revoked (吊销); a revoked key is refused at once.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its key was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What Open311 keeps of a request it filed as a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpen311Request {
    pub case_id: i64,
    pub client_id: i64,
    /// The request's token (`tokens/{token}`): random, unique.
    pub token: String,
    pub created_at: DateTime<Utc>,
    /// The photo links the client sent (never fetched).
    pub media_urls: Vec<String>,
    /// The answers to the service's questions, as a JSON object `{code: [values]}`.
    pub attributes: String,
}

/// The Open311 record of a case reported through Open311.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open311Meta {
    pub client_id: i64,
    pub token: String,
    pub media_urls: Vec<String>,
    /// JSON object `{code: [values]}`.
    pub attributes: String,
}

/// Which cases `GET requests` answers: always only cases of the published `services` (a case
/// of another category, or without one, is never published); then either the listed `codes`
/// (a `service_request_id` list overrides every other filter) or the cases requested within
/// `[from, to]` of the given statuses. Newest first (ties by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Query {
    /// The categories that may be answered; empty answers nothing.
    pub services: Vec<(CategoryKind, String)>,
    /// Case codes; when not empty, only these (within `services`).
    pub codes: Vec<String>,
    /// Any of these statuses (empty = all).
    pub statuses: Vec<CaseStatus>,
    /// Requested at or after.
    pub from: Option<DateTime<Utc>>,
    /// Requested at or before.
    pub to: Option<DateTime<Utc>>,
}

/// A published case with what its Open311 answer is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Record {
    pub case: Case,
    /// The name of the department handling it (or last, once closed).
    pub department_name: Option<String>,
    /// Its events in order (the web crate shows only their public part).
    pub events: Vec<CaseEvent>,
    /// Its Open311 record when it was reported through Open311.
    pub meta: Option<Open311Meta>,
}

/// Which events `GET servicerequestupdates` answers: events of the listed `actions` within
/// `[from, to]` (both included, like the requests' window; clients tell repeated updates apart by
/// their `update_id`), of cases of the published `services`, in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311UpdateQuery {
    pub services: Vec<(CategoryKind, String)>,
    /// The event actions that count as updates (the public steps); empty answers nothing.
    pub actions: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// One update: an event and the code of its case.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Update {
    pub event: CaseEvent,
    pub case_code: String,
}

/// Open311's client applications, request records and reads.
#[async_trait]
pub trait Open311Repo: Send + Sync {
    /// Registers a client application. `Conflict` when the key hash is kept already, `Invalid`
    /// for an unknown `created_by`.
    async fn create_open311_client(&self, client: &NewOpen311Client) -> Result<Open311Client>;

    /// The client applications, newest first (ties by id).
    async fn list_open311_clients(&self, page: PageRequest) -> Result<Page<Open311Client>>;

    /// One client application.
    async fn get_open311_client(&self, id: i64) -> Result<Option<Open311Client>>;

    /// Revokes a client's key at `at` (a revoked one keeps its first revocation time); the
    /// client after it, `None` for an unknown id. Takes effect at once for every process: keys
    /// are looked up in the store on every use.
    async fn revoke_open311_client(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<Open311Client>>;

    /// The unrevoked client whose key hashes to `key_hash`, its `last_used_at` set to `now` in
    /// the same statement; `None` for an unknown or revoked key.
    async fn open311_client_by_key(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Open311Client>>;

    /// Keeps the Open311 record of a case. `Conflict` for a token kept already or a case that has
    /// one, `Invalid` for an unknown case or client.
    async fn add_open311_request(&self, request: &NewOpen311Request) -> Result<()>;

    /// The code of the case of a request token.
    async fn open311_token_case(&self, token: &str) -> Result<Option<String>>;

    /// A page of published cases with their department's name, events and Open311 record.
    async fn open311_requests(
        &self,
        query: &Open311Query,
        page: PageRequest,
    ) -> Result<Page<Open311Record>>;

    /// A page of updates (events) of published cases within a window.
    async fn open311_updates(
        &self,
        query: &Open311UpdateQuery,
        page: PageRequest,
    ) -> Result<Page<Open311Update>>;
}
