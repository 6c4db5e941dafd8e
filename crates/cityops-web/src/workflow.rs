//! The case service (案件服务): what every entry point (the JSON API now, Open311 and IoT alarms
//! later) calls to report a case and to act on one. It looks up what the pure state machine
//! cannot know — where the point lies, the category and its filing standard, duplicates, the
//! responsibility matrix, the inspector of a grid, the master case of a merge — applies
//! [`case::report`] / [`case::apply`] and stores the result with its audit event.
//!
//! Scope: a case is loaded only through [`CaseVisibility::for_user`], so a case outside the
//! caller's scope is `404 not_found` for every action. All "now" comes from `state.clock`.
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use cityops_domain::case::{
    self, ActionInput, Actor, Case, CaseAction, CaseError, CaseLocation, CaseSource,
    CaseVisibility, Context, NewReport, Transition, Urgency,
};
use cityops_domain::{Category, CategoryKind, Department, FilingStandard, PageRequest, Role, User};
use cityops_geo::gcj02::gcj02_to_wgs84;
use cityops_store::StoreError;

use crate::error::{ApiError, ErrorCode};
use crate::notify::{LogChannel, Notifier, channels_for};
use crate::state::AppState;
use crate::views::{CaseLocationView, CaseView, NewCaseRequest, PendingView, TimeLimitView};

/// How old the in-memory catalogue may be before a lookup miss reloads it.
const CATALOGUE_RELOAD_AFTER: Duration = Duration::seconds(60);

/// Filing standards by (kind, code), filled as categories are filed.
type StandardsByCategory = HashMap<(CategoryKind, String), Arc<Vec<FilingStandard>>>;

/// Categories and departments kept in memory (loaded at first use, reloaded on a miss at most
/// once a minute) and the filing standards of each category (loaded at its first filing).
pub(crate) struct Catalogue {
    categories: HashMap<(CategoryKind, String), Category>,
    departments: HashMap<i64, Department>,
    department_ids: HashMap<String, i64>,
    standards: RwLock<StandardsByCategory>,
    loaded_at: DateTime<Utc>,
}

impl Catalogue {
    async fn load(state: &AppState) -> Result<Self, ApiError> {
        let mut categories = HashMap::new();
        let mut page = 1;
        loop {
            let req = PageRequest {
                page,
                page_size: cityops_domain::page::MAX_PAGE_SIZE,
            };
            let got = state.store.list_categories(None, req).await?;
            let n = got.items.len();
            for c in got.items {
                categories.insert((c.kind, c.code.clone()), c);
            }
            if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total
            {
                break;
            }
            page += 1;
        }
        let mut departments = HashMap::new();
        let mut page = 1;
        loop {
            let req = PageRequest {
                page,
                page_size: cityops_domain::page::MAX_PAGE_SIZE,
            };
            let got = state.store.list_departments(None, req).await?;
            let n = got.items.len();
            for d in got.items {
                departments.insert(d.id, d);
            }
            if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total
            {
                break;
            }
            page += 1;
        }
        let department_ids = departments
            .values()
            .map(|d| (d.code.clone(), d.id))
            .collect();
        Ok(Self {
            categories,
            departments,
            department_ids,
            standards: RwLock::new(HashMap::new()),
            loaded_at: state.clock.now(),
        })
    }

    pub(crate) fn category(&self, kind: CategoryKind, code: &str) -> Option<&Category> {
        self.categories.get(&(kind, code.to_string()))
    }

    pub(crate) fn department(&self, id: i64) -> Option<&Department> {
        self.departments.get(&id)
    }

    pub(crate) fn department_id(&self, code: &str) -> Option<i64> {
        self.department_ids.get(code).copied()
    }

    /// The kinds under which a category code exists.
    fn kinds_of(&self, code: &str) -> Vec<CategoryKind> {
        [CategoryKind::Component, CategoryKind::Matter]
            .into_iter()
            .filter(|k| self.categories.contains_key(&(*k, code.to_string())))
            .collect()
    }
}

/// What the case service keeps per application state: the catalogue and the outbound notifier.
#[derive(Default)]
pub(crate) struct PerState {
    catalogue: RwLock<Option<Arc<Catalogue>>>,
    notifier: OnceLock<Notifier>,
}

/// This state's workflow caches: they live in the state's `Shared`, so a lookup costs nothing.
fn per_state(state: &AppState) -> &PerState {
    &state.shared.workflow
}

/// The in-memory catalogue of this application state, loaded at first use.
pub(crate) async fn catalogue(state: &AppState) -> Result<Arc<Catalogue>, ApiError> {
    let slot = per_state(state);
    if let Some(c) = slot
        .catalogue
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        return Ok(c);
    }
    let loaded = Arc::new(Catalogue::load(state).await?);
    let mut guard = slot.catalogue.write().unwrap_or_else(|e| e.into_inner());
    // Another request may have loaded it meanwhile: keep the first.
    Ok(guard.get_or_insert(loaded).clone())
}

/// Reloads the catalogue after a lookup miss, unless it was loaded within the last minute.
async fn catalogue_after_miss(
    state: &AppState,
    current: Arc<Catalogue>,
) -> Result<Arc<Catalogue>, ApiError> {
    let now = state.clock.now();
    if now >= current.loaded_at && now - current.loaded_at < CATALOGUE_RELOAD_AFTER {
        return Ok(current);
    }
    let loaded = Arc::new(Catalogue::load(state).await?);
    *per_state(state)
        .catalogue
        .write()
        .unwrap_or_else(|e| e.into_inner()) = Some(loaded.clone());
    Ok(loaded)
}

/// Drops the cached catalogue of this state (after an import changed categories or departments):
/// the next use loads it again.
pub fn forget_catalogue(state: &AppState) {
    *per_state(state)
        .catalogue
        .write()
        .unwrap_or_else(|e| e.into_inner()) = None;
}

/// The outbound notifier of this state (log, and the webhook when configured), started on the
/// current runtime at first use.
pub fn notifier(state: &AppState) -> Notifier {
    per_state(state)
        .notifier
        .get_or_init(|| {
            let channels = match channels_for(state.config.webhook_url.as_deref()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "the webhook is unusable; notifications go to the log only");
                    vec![Arc::new(LogChannel) as Arc<dyn crate::notify::Channel>]
                }
            };
            // The task ends when the notifier is dropped with the state.
            Notifier::new(channels).0
        })
        .clone()
}

/// The filing standards of a category (cached after the first lookup).
async fn standards(
    state: &AppState,
    cat: &Catalogue,
    kind: CategoryKind,
    code: &str,
) -> Result<Arc<Vec<FilingStandard>>, ApiError> {
    let key = (kind, code.to_string());
    if let Some(s) = cat
        .standards
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(s.clone());
    }
    let got = Arc::new(state.store.filing_standards(kind, code).await?);
    cat.standards
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, got.clone());
    Ok(got)
}

/// Resolves a category given by code and optional kind against the catalogue: 422 when it does
/// not exist or the code names both a component and a matter category and no kind was given.
async fn resolve_category(
    state: &AppState,
    cat: Arc<Catalogue>,
    kind: Option<CategoryKind>,
    code: &str,
) -> Result<(Arc<Catalogue>, CategoryKind), ApiError> {
    let code = code.trim();
    cityops_domain::catalogue::parse_category_code(code)
        .map_err(|e| ApiError::invalid_value(e.to_string()))?;
    let pick = |cat: &Catalogue| -> Result<Option<CategoryKind>, ApiError> {
        match kind {
            Some(k) => Ok(cat.category(k, code).map(|_| k)),
            None => match cat.kinds_of(code).as_slice() {
                [] => Ok(None),
                [k] => Ok(Some(*k)),
                _ => Err(ApiError::invalid_value(format!(
                    "category {code} exists as a component (部件) and as a matter (事项) category: \
                     give category_kind"
                ))),
            },
        }
    };
    if let Some(k) = pick(&cat)? {
        return Ok((cat, k));
    }
    let cat = catalogue_after_miss(state, cat).await?;
    match pick(&cat)? {
        Some(k) => Ok((cat, k)),
        None => Err(ApiError::invalid_value(match kind {
            Some(k) => format!("unknown category {} {code}", k.as_str()),
            None => format!("unknown category {code}"),
        })),
    }
}

/// The filing condition of a filing: the one with `seq` if given (422 when the category has no
/// such condition), else seq 0 or the first; `None` when the category has no filing standard.
fn pick_standard(
    standards: &[FilingStandard],
    seq: Option<u32>,
    kind: CategoryKind,
    code: &str,
) -> Result<Option<FilingStandard>, ApiError> {
    match seq {
        Some(s) => standards
            .iter()
            .find(|f| f.seq == s)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid_value(format!(
                    "category {} {code} has no filing condition {s} (it has {})",
                    kind.as_str(),
                    standards
                        .iter()
                        .map(|f| f.seq.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        None => Ok(standards
            .iter()
            .find(|f| f.seq == 0)
            .or_else(|| standards.iter().min_by_key(|f| f.seq))
            .cloned()),
    }
}

/// The case source of a report by this user (403 when the role may not report, or may not
/// declare the given source).
pub fn report_source(user: &User, declared: Option<&str>) -> Result<CaseSource, ApiError> {
    let may = |s: CaseSource| match s {
        CaseSource::Inspector => user.has_role(Role::Inspector),
        CaseSource::Citizen => user.has_role(Role::Citizen),
        CaseSource::Hotline | CaseSource::VideoAi | CaseSource::Iot => user.has_role(Role::Intake),
        CaseSource::Leader => user.has_role(Role::Leader),
    };
    match declared.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let source: CaseSource = s
                .parse()
                .map_err(|e: cityops_domain::DomainError| ApiError::invalid_value(e.to_string()))?;
            if may(source) {
                Ok(source)
            } else {
                Err(ApiError::forbidden(format!(
                    "Your roles may not report as {} ({}).",
                    source.as_str(),
                    source.name_zh()
                )))
            }
        }
        None => [
            CaseSource::Inspector,
            CaseSource::Hotline,
            CaseSource::Leader,
            CaseSource::Citizen,
        ]
        .into_iter()
        .find(|s| may(*s))
        .ok_or_else(|| {
            ApiError::forbidden("Reporting requires the role inspector, intake, leader or citizen.")
        }),
    }
}

/// Maps a state-machine refusal onto the API's codes.
pub fn case_error(e: CaseError) -> ApiError {
    match e {
        CaseError::InvalidTransition { ref allowed, .. } => ApiError::invalid_transition(
            e.to_string(),
            allowed.iter().map(|a| a.as_str().to_string()).collect(),
        ),
        CaseError::Forbidden { .. } => ApiError::forbidden(e.to_string()),
        CaseError::Missing { .. } | CaseError::Invalid(_) => ApiError::invalid_value(e.to_string()),
    }
}

fn save_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::new(
            ErrorCode::Conflict,
            "The case was changed by someone else meanwhile; reload it and try again.",
        ),
        other => other.into(),
    }
}

/// Checks the photos of a report or action: they exist, this user uploaded them, no case has
/// them yet, and there are at most `max_photos`.
pub async fn check_attachments(state: &AppState, user: &User, ids: &[i64]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    if ids.len() > state.config.max_photos {
        return Err(ApiError::invalid_value(format!(
            "at most {} photos per report or action",
            state.config.max_photos
        )));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != ids.len() {
        return Err(ApiError::invalid_value("an attachment is listed twice"));
    }
    let found = state.store.get_attachments(&sorted).await?;
    for id in &sorted {
        let Some(a) = found.iter().find(|a| a.id == *id) else {
            return Err(ApiError::invalid_value(format!(
                "attachment {id} does not exist"
            )));
        };
        if a.attachment.uploaded_by != user.id {
            return Err(ApiError::invalid_value(format!(
                "attachment {id} was uploaded by someone else"
            )));
        }
        if a.case_id.is_some() {
            return Err(ApiError::invalid_value(format!(
                "attachment {id} already belongs to a case"
            )));
        }
    }
    Ok(())
}

/// Converts a point given in `crs` to WGS84 and checks it (422 for malformed values).
fn wgs84_point(lng: f64, lat: f64, crs: Option<&str>) -> Result<(f64, f64), ApiError> {
    let valid = lng.is_finite()
        && lat.is_finite()
        && (-180.0..=180.0).contains(&lng)
        && (-90.0..=90.0).contains(&lat);
    if !valid {
        return Err(ApiError::invalid_value(
            "lng must lie in [-180, 180] and lat in [-90, 90]",
        ));
    }
    match crs
        .map(|c| c.trim().to_ascii_lowercase())
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        None | Some("wgs84") | Some("cgcs2000") => Ok((lng, lat)),
        Some("gcj02") => Ok(gcj02_to_wgs84(lng, lat)),
        Some(other) => Err(ApiError::invalid_value(format!(
            "unknown crs {other:?}: expected wgs84 or gcj02"
        ))),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// 上报: reports a case for `user` (source from the role), locates it, checks category,
/// photos and duplicates, suggests the department, stores it; inspector reports of the
/// configured categories are filed directly, and dispatched at once where the matrix says so.
pub async fn report(
    state: &AppState,
    user: &User,
    req: NewCaseRequest,
) -> Result<CaseView, ApiError> {
    let source = report_source(user, req.source.as_deref())?;
    let now = state.clock.now();
    let mut cat = catalogue(state).await?;

    let component = match non_empty(req.component_id.clone()) {
        Some(id) => Some(
            state
                .store
                .get_component(&id)
                .await?
                .ok_or_else(|| ApiError::invalid_value(format!("unknown component {id}")))?,
        ),
        None => None,
    };
    let (lng, lat) = match (req.lng, req.lat, &component) {
        (Some(lng), Some(lat), _) => wgs84_point(lng, lat, req.crs.as_deref())?,
        (None, None, Some(c)) => (c.lng, c.lat),
        _ => {
            return Err(ApiError::invalid_value(
                "lng and lat are required (or a component_id to report at the component)",
            ));
        }
    };
    let Some(located) = state.index.locate(lng, lat) else {
        return Err(ApiError::new(
            ErrorCode::OutsideCity,
            "The reported point lies outside the city.",
        )
        .with_status(StatusCode::UNPROCESSABLE_ENTITY));
    };
    let location = CaseLocation {
        lng,
        lat,
        grid_code: located.grid_code,
        community_code: located.community_code,
        street_code: located.street_code,
        district_code: Some(located.district_code),
        address: non_empty(req.address.clone()),
    };

    let code = non_empty(req.category_code.clone()).or_else(|| {
        component
            .as_ref()
            .filter(|_| {
                req.category_kind
                    .is_none_or(|k| k == CategoryKind::Component)
            })
            .map(|c| c.category_code.clone())
    });
    let category = match code {
        Some(code) => {
            let kind = req
                .category_kind
                .or(component.as_ref().map(|_| CategoryKind::Component));
            let (c, kind) = resolve_category(state, cat, kind, &code).await?;
            cat = c;
            Some((kind, code))
        }
        None if source == CaseSource::Citizen => None,
        None => {
            return Err(ApiError::invalid_value(
                "category_code is required (only citizens may report without a category)",
            ));
        }
    };
    check_attachments(state, user, &req.attachments).await?;

    let owner = component
        .as_ref()
        .and_then(|c| c.owner_department.as_deref())
        .and_then(|code| cat.department_id(code));
    let mut duplicate_of = None;
    let mut route = None;
    if let Some((kind, code)) = &category {
        let rule = state.config.duplicate;
        let candidates = state
            .store
            .duplicate_candidates(code, rule.bbox(lng, lat), rule.since(now))
            .await?;
        duplicate_of = rule.pick(code, lng, lat, now, &candidates).map(|c| c.id);
        route = state.routing().route(*kind, code, &location, owner);
    }

    let calendar = state.calendar();
    let ctx = Context {
        now,
        calendar: &calendar,
        config: &state.config.workflow,
        handle_limit: None,
        master: None,
    };
    let input = NewReport {
        source,
        category_kind: category.as_ref().map(|(k, _)| *k),
        category_code: category.as_ref().map(|(_, c)| c.clone()),
        urgency: req.urgency.unwrap_or(Urgency::Normal),
        description: req.description.trim().to_string(),
        location,
        component_id: component.as_ref().map(|c| c.id.as_str().to_string()),
        contact: non_empty(req.contact),
        attachments: req.attachments,
        suggested_department_id: route.map(|r| r.department_id),
        duplicate_of,
    };
    let actor = Actor::user(user);
    let (new_case, event, notify) = case::report(input, &actor, &ctx).map_err(case_error)?;
    let local_date = now.with_timezone(&calendar.config().tz).date_naive();
    let mut stored = state
        .store
        .create_case(&new_case, local_date, &event, &notify)
        .await?;
    notifier(state).publish_case(&stored, &notify);

    // 直接立案: inspector reports of configured categories skip intake.
    if let Some((kind, code)) = &category
        && source == CaseSource::Inspector
        && state
            .config
            .workflow
            .direct_file_categories
            .iter()
            .any(|c| c == code)
    {
        let standards = standards(state, &cat, *kind, code).await?;
        let standard = pick_standard(&standards, None, *kind, code)?;
        let input = ActionInput {
            comment: Some("监督员上报，直接立案".into()),
            filing_seq: standard.as_ref().map(|s| s.seq),
            ..ActionInput::default()
        };
        // The report is stored: a failed automatic step leaves it for intake (and is logged).
        match system_step(
            state,
            &stored,
            CaseAction::File,
            &input,
            standard.map(|s| s.limit),
        )
        .await
        {
            Ok(filed) => {
                stored = filed;
                if let Some(r) = route.filter(|r| r.auto_dispatch) {
                    stored = auto_dispatch(state, stored, r.department_id).await;
                }
            }
            Err(e) => {
                tracing::warn!(case = stored.id, error = %e, "direct filing failed; left for intake");
            }
        }
    }
    Ok(build_view(
        state,
        user,
        &cat,
        &stored,
        Some(event.attachments.clone()),
    ))
}

/// Applies an action as the system (automatic filing/dispatch, resuming) and stores it.
async fn system_step(
    state: &AppState,
    case: &Case,
    action: CaseAction,
    input: &ActionInput,
    handle_limit: Option<cityops_domain::TimeLimit>,
) -> Result<Case, ApiError> {
    let calendar = state.calendar();
    let ctx = Context {
        now: state.clock.now(),
        calendar: &calendar,
        config: &state.config.workflow,
        handle_limit,
        master: None,
    };
    let t = case::apply(case, action, &Actor::system(), input, &ctx).map_err(case_error)?;
    save(state, t).await
}

/// 一键直达: dispatches a freshly filed case to the matrix's department. A failure leaves the
/// case filed for the dispatcher (and is logged).
async fn auto_dispatch(state: &AppState, case: Case, department_id: i64) -> Case {
    let input = ActionInput {
        department_id: Some(department_id),
        comment: Some("一键直达：按权责清单自动派遣".into()),
        ..ActionInput::default()
    };
    match system_step(state, &case, CaseAction::Dispatch, &input, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(case = case.id, error = %e, "automatic dispatch failed; left for the dispatcher");
            case
        }
    }
}

/// Stores a transition, then pushes its notifications to the outbound channels.
async fn save(state: &AppState, t: Transition) -> Result<Case, ApiError> {
    let stored = state
        .store
        .save_transition(&t.case, &t.event, &t.notify, t.follow)
        .await
        .map_err(save_error)?;
    notifier(state).publish_case(&stored, &t.notify);
    Ok(stored)
}

/// A case the user may see: 404 `not_found` when it does not exist or lies outside the scope.
pub async fn visible_case(state: &AppState, user: &User, id: i64) -> Result<Case, ApiError> {
    state
        .store
        .get_case(id, &CaseVisibility::for_user(user))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No case {id}.")))
}

/// The inspector responsible for the case's grid (else its community): the first active
/// inspector by username whose patrol area lists it.
async fn grid_inspector(state: &AppState, case: &Case) -> Result<Option<i64>, ApiError> {
    let grid = case.location.grid_code.as_deref();
    let community = case.location.community_code.as_deref();
    let mut by_community = None;
    let mut page = 1;
    loop {
        let req = PageRequest {
            page,
            page_size: cityops_domain::page::MAX_PAGE_SIZE,
        };
        let got = state
            .store
            .list_users(Some(Role::Inspector), None, req)
            .await?;
        let n = got.items.len();
        for u in got.items.iter().filter(|u| u.active) {
            if grid.is_some_and(|g| u.grids.iter().any(|x| x == g)) {
                return Ok(Some(u.id));
            }
            if by_community.is_none() && community.is_some_and(|c| u.grids.iter().any(|x| x == c)) {
                by_community = Some(u.id);
            }
        }
        if n < req.page_size as usize || u64::from(page) * u64::from(req.page_size) >= got.total {
            break;
        }
        page += 1;
    }
    Ok(by_community)
}

/// Takes an action on a visible case for `user`: fills in what the machine needs (filing
/// standard, department, inspector, master case), checks photos, applies and stores it. After
/// filing, dispatches automatically where the matrix says so (一键直达).
pub async fn act(
    state: &AppState,
    user: &User,
    case_id: i64,
    action: CaseAction,
    mut input: ActionInput,
) -> Result<CaseView, ApiError> {
    let case = visible_case(state, user, case_id).await?;
    let now = state.clock.now();
    let calendar = state.calendar();
    let cfg = &state.config.workflow;
    let actor = Actor::user(user);
    let mut cat = catalogue(state).await?;

    // Status, role and state conditions first: those answer 409/403 before any field is checked.
    if !case::allowed_actions(&case, &actor, now, cfg).contains(&action) {
        let ctx = Context {
            now,
            calendar: &calendar,
            config: cfg,
            handle_limit: None,
            master: None,
        };
        return Err(match case::apply(&case, action, &actor, &input, &ctx) {
            Err(e) => case_error(e),
            Ok(_) => {
                ApiError::invalid_transition(format!("{action} is not possible now"), Vec::new())
            }
        });
    }
    check_attachments(state, user, &input.attachments).await?;

    let mut handle_limit = None;
    let mut master = None;
    let mut route = None;
    match action {
        CaseAction::File => {
            let code = non_empty(input.category_code.clone())
                .or_else(|| case.category_code.clone())
                .ok_or_else(|| ApiError::invalid_value("file needs category_code"))?;
            let kind = input.category_kind.or_else(|| {
                (case.category_code.as_deref() == Some(code.as_str()))
                    .then_some(case.category_kind)
                    .flatten()
            });
            let (c, kind) = resolve_category(state, cat, kind, &code).await?;
            cat = c;
            let standards = standards(state, &cat, kind, &code).await?;
            let standard = pick_standard(&standards, input.filing_seq, kind, &code)?;
            input.category_kind = Some(kind);
            input.category_code = Some(code.clone());
            input.filing_seq = standard.as_ref().map(|s| s.seq);
            handle_limit = standard.map(|s| s.limit);
            let owner = match &case.component_id {
                Some(id) => state
                    .store
                    .get_component(id)
                    .await?
                    .and_then(|c| c.owner_department)
                    .and_then(|code| cat.department_id(&code)),
                None => None,
            };
            route = state.routing().route(kind, &code, &case.location, owner);
        }
        CaseAction::Dispatch => {
            if let Some(d) = input.department_id.or(case.suggested_department_id)
                && state.store.get_department(d).await?.is_none()
            {
                return Err(ApiError::invalid_value(format!("no department {d}")));
            }
        }
        CaseAction::SendVerify | CaseAction::SendCheck => match input.assignee_id {
            Some(id) => match state.store.get_user(id).await? {
                Some(u) if u.active && u.has_role(Role::Inspector) => {}
                _ => {
                    return Err(ApiError::invalid_value(format!(
                        "assignee {id} is not an active inspector"
                    )));
                }
            },
            None => {
                input.assignee_id = Some(grid_inspector(state, &case).await?.ok_or_else(|| {
                    ApiError::invalid_value(
                        "no inspector patrols this case's grid: give assignee_id",
                    )
                })?);
            }
        },
        CaseAction::Merge => {
            let id = input.master_case_id.or(case.duplicate_of).ok_or_else(|| {
                ApiError::invalid_value("merge needs master_case_id (the case to merge into)")
            })?;
            input.master_case_id = Some(id);
            master = Some(
                state
                    .store
                    .get_case(id, &CaseVisibility::for_user(user))
                    .await?
                    .ok_or_else(|| ApiError::invalid_value(format!("no master case {id}")))?,
            );
        }
        _ => {}
    }

    let ctx = Context {
        now,
        calendar: &calendar,
        config: cfg,
        handle_limit,
        master: master.as_ref(),
    };
    let mut t = case::apply(&case, action, &actor, &input, &ctx).map_err(case_error)?;
    if let Some(r) = route {
        t.case.suggested_department_id = Some(r.department_id);
        if let serde_json::Value::Object(m) = &mut t.event.data {
            m.insert("suggested_department_id".into(), r.department_id.into());
        }
    }
    let mut stored = save(state, t).await?;
    if let Some(r) = route.filter(|r| r.auto_dispatch) {
        stored = auto_dispatch(state, stored, r.department_id).await;
    }
    let attachments = state.store.case_attachments(stored.id).await?;
    let ids = attachments.iter().map(|a| a.id).collect();
    Ok(build_view(state, user, &cat, &stored, Some(ids)))
}

/// The case as `user` sees it, with its attachment ids.
pub async fn case_view(state: &AppState, user: &User, case: &Case) -> Result<CaseView, ApiError> {
    let cat = catalogue(state).await?;
    let ids = state
        .store
        .case_attachments(case.id)
        .await?
        .iter()
        .map(|a| a.id)
        .collect();
    Ok(build_view(state, user, &cat, case, Some(ids)))
}

/// Builds the view of a case for `user` (names from memory; light and allowed actions at now).
pub(crate) fn build_view(
    state: &AppState,
    user: &User,
    cat: &Catalogue,
    case: &Case,
    attachments: Option<Vec<i64>>,
) -> CaseView {
    let now = state.clock.now();
    let calendar = state.calendar();
    let actor = Actor::user(user);
    let region = |c: &Option<String>| {
        c.as_deref()
            .and_then(|c| state.region_name(c))
            .map(str::to_string)
    };
    let dept = |d: Option<i64>| d.and_then(|d| cat.department(d)).map(|d| d.name.clone());
    let loc = &case.location;
    let clock = case.clock.as_ref();
    CaseView {
        id: case.id,
        code: case.code.clone(),
        status: case.status.as_str().into(),
        status_name: case.status.name_zh().into(),
        source: case.source.as_str().into(),
        source_name: case.source.name_zh().into(),
        category_kind: case.category_kind.map(|k| k.as_str().into()),
        category_code: case.category_code.clone(),
        category_name: case
            .category_kind
            .zip(case.category_code.as_deref())
            .and_then(|(k, c)| cat.category(k, c))
            .map(|c| c.name.clone()),
        filing_seq: case.filing_seq,
        urgency: case.urgency.as_str().into(),
        description: case.description.clone(),
        location: CaseLocationView {
            lng: loc.lng,
            lat: loc.lat,
            grid_name: region(&loc.grid_code),
            grid_code: loc.grid_code.clone(),
            community_name: region(&loc.community_code),
            community_code: loc.community_code.clone(),
            street_name: region(&loc.street_code),
            street_code: loc.street_code.clone(),
            district_name: region(&loc.district_code),
            district_code: loc.district_code.clone(),
            address: loc.address.clone(),
        },
        component_id: case.component_id.clone(),
        reporter_id: case.reporter_id,
        contact: case.contact.clone(),
        assignee_id: case.assignee_id,
        department_id: case.department_id,
        department_name: dept(case.department_id),
        suggested_department_id: case.suggested_department_id,
        suggested_department_name: dept(case.suggested_department_id),
        handle_limit: case.handle_limit.map(TimeLimitView::from),
        deadline: case.deadline,
        light: case::current_light(case, now, &calendar).as_str().into(),
        stage: clock.map(|k| k.stage.as_str().into()),
        stage_started_at: clock.map(|k| k.started_at),
        stage_due: clock.and_then(|k| k.due),
        stage_unscheduled: clock.is_some_and(|k| k.unscheduled),
        overdue: case.overdue,
        supervised: case.supervised,
        postpone_count: case.postpone_count,
        rework_count: case.rework_count,
        return_count: case.return_count,
        pending: case.pending.as_ref().map(PendingView::from),
        suspended_until: case.suspended_until,
        verified: case.verified,
        check_passed: case.check_passed,
        duplicate_of: case.duplicate_of,
        merged_into: case.merged_into,
        rating: case.rating,
        close_kind: case.close_kind.map(|k| k.as_str().into()),
        created_at: case.created_at,
        updated_at: case.updated_at,
        closed_at: case.closed_at,
        version: case.version,
        allowed_actions: case::allowed_actions(case, &actor, now, &state.config.workflow)
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        attachments,
    }
}

/// Resumes one suspended case whose suspension ran out, as the system. `Ok(false)` when another
/// process already did (a version conflict).
pub(crate) async fn resume_expired(state: &AppState, case: &Case) -> Result<bool, ApiError> {
    let input = ActionInput {
        comment: Some("挂账期满，自动恢复".into()),
        ..ActionInput::default()
    };
    match system_step(state, case, CaseAction::Resume, &input, None).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == ErrorCode::Conflict => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::Scope;

    fn user(roles: Vec<Role>) -> User {
        User {
            id: 1,
            username: "u".into(),
            display_name: "u".into(),
            roles,
            scope: Scope::default(),
            active: true,
            grids: vec![],
        }
    }

    #[test]
    fn sources_follow_roles() {
        assert_eq!(
            report_source(&user(vec![Role::Inspector]), None).unwrap(),
            CaseSource::Inspector
        );
        assert_eq!(
            report_source(&user(vec![Role::Intake]), None).unwrap(),
            CaseSource::Hotline
        );
        assert_eq!(
            report_source(&user(vec![Role::Intake]), Some("iot")).unwrap(),
            CaseSource::Iot
        );
        assert_eq!(
            report_source(&user(vec![Role::Citizen]), None).unwrap(),
            CaseSource::Citizen
        );
        assert_eq!(
            report_source(&user(vec![Role::Leader]), None).unwrap(),
            CaseSource::Leader
        );
        let e = report_source(&user(vec![Role::Citizen]), Some("video_ai")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        let e = report_source(&user(vec![Role::Handler]), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        let e = report_source(&user(vec![Role::Intake]), Some("telepathy")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
    }

    #[test]
    fn points_are_checked_and_converted() {
        assert!(wgs84_point(f64::NAN, 23.0, None).is_err());
        assert!(wgs84_point(200.0, 23.0, None).is_err());
        assert!(wgs84_point(114.0, 23.0, Some("mercator")).is_err());
        assert_eq!(
            wgs84_point(114.0, 23.0, Some("WGS84")).unwrap(),
            (114.0, 23.0)
        );
        let (lng, lat) = wgs84_point(114.0, 23.0, Some("gcj02")).unwrap();
        assert!((lng - 114.0).abs() > 1e-4 && (lng - 114.0).abs() < 0.01);
        assert!((lat - 23.0).abs() < 0.01);
    }

    #[test]
    fn filing_conditions_are_picked_by_seq() {
        use cityops_domain::{LimitUnit, TimeLimit};
        let f = |seq, value| FilingStandard {
            kind: CategoryKind::Component,
            code: "01001".into(),
            seq,
            filing_condition: "x".into(),
            limit: TimeLimit {
                value,
                unit: LimitUnit::WorkHour,
            },
            limit_text: String::new(),
            closure_condition: String::new(),
            old_code: None,
            source: "t".into(),
        };
        let s = vec![f(1, 4), f(2, 8)];
        assert_eq!(
            pick_standard(&s, None, CategoryKind::Component, "01001")
                .unwrap()
                .unwrap()
                .seq,
            1
        );
        assert_eq!(
            pick_standard(&s, Some(2), CategoryKind::Component, "01001")
                .unwrap()
                .unwrap()
                .limit
                .value,
            8
        );
        assert!(pick_standard(&s, Some(7), CategoryKind::Component, "01001").is_err());
        assert!(
            pick_standard(&[], None, CategoryKind::Component, "01001")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn machine_errors_map_to_api_codes() {
        let e = case_error(CaseError::InvalidTransition {
            action: CaseAction::Sign,
            status: cityops_domain::case::CaseStatus::Filed,
            why: "x".into(),
            allowed: vec![CaseAction::Dispatch],
        });
        assert_eq!(e.code, ErrorCode::InvalidTransition);
        assert_eq!(e.allowed_actions, Some(vec!["dispatch".to_string()]));
        assert_eq!(
            case_error(CaseError::Forbidden {
                action: CaseAction::Sign
            })
            .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            case_error(CaseError::Missing {
                action: CaseAction::Reject,
                field: "reason"
            })
            .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
