//! The inbox (待办/消息): the notifications transitions sent to the user, to their department, or
//! to a role they hold within their region; mark read.
use axum::extract::State;
use chrono::{DateTime, Utc};
use cityops_domain::User;
use cityops_domain::case::visibility::region_prefix;
use cityops_store::{InboxOwner, Notification, ReadMark, Recipient};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, CurrentUser, PageParams};
use crate::state::AppState;

/// Most ids one mark-read request may name.
const MAX_READ_IDS: usize = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_inbox))
        .routes(routes!(mark_read))
}

/// Whose inbox a user reads: their own notifications, their department's, and those for a role
/// they hold within their region (everywhere when the user has no region scope).
pub(crate) fn inbox_owner(user: &User) -> InboxOwner {
    InboxOwner {
        user_id: user.id,
        department_id: user.scope.department_id,
        roles: user.roles.clone(),
        region_prefixes: user
            .scope
            .region_code
            .as_deref()
            .map(|r| vec![region_prefix(r)]),
    }
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RecipientView {
    /// One user.
    User { user_id: i64 },
    /// A department's inbox.
    Department { department_id: i64 },
    /// Everyone holding the role whose region covers `region_code` (everyone with the role when
    /// it is null).
    Role {
        #[schema(value_type = crate::wire::RoleName)]
        role: String,
        #[schema(value_type = Option<crate::wire::RegionCode>)]
        region_code: Option<String>,
    },
}

impl From<Recipient> for RecipientView {
    fn from(r: Recipient) -> Self {
        match r {
            Recipient::User { user_id } => RecipientView::User { user_id },
            Recipient::Department { department_id } => RecipientView::Department { department_id },
            Recipient::Role { role, region_code } => RecipientView::Role {
                role: role.as_str().to_string(),
                region_code,
            },
        }
    }
}

/// A notification (待办/消息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct NotificationView {
    pub id: i64,
    pub case_id: i64,
    #[schema(example = "2026112300001")]
    pub case_code: String,
    /// The action or event that caused it, e.g. `dispatch`, `yellow`, `overdue`.
    #[schema(example = "dispatch")]
    pub action: String,
    #[schema(example = "待签收：案件 2026112300001")]
    pub title: String,
    pub created_at: DateTime<Utc>,
    /// When the requesting user marked it read (each colleague sharing a department or role
    /// notification reads it on their own; null = unread for this user).
    pub read_at: Option<DateTime<Utc>>,
    pub recipient: RecipientView,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            case_id: n.notification.case_id,
            case_code: n.case_code,
            action: n.notification.action,
            title: n.notification.title,
            created_at: n.notification.created_at,
            read_at: n.read_at,
            recipient: n.notification.recipient.into(),
        }
    }
}

/// A page of notifications, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub(crate) struct NotificationList {
    pub items: Vec<NotificationView>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    /// How many notifications of the whole inbox this user has not read (whatever the filter).
    pub unread: u64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InboxFilter {
    /// Only unread notifications. Default false.
    unread: Option<bool>,
}

/// 我的待办/消息: the notifications for the user, their department and their roles in their
/// region, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    tag = "inbox",
    security(("bearer" = []), ("cookie" = [])),
    params(InboxFilter, PageParams),
    responses(
        (status = 200, body = NotificationList),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn list_inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(f): ApiQuery<InboxFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<NotificationList>> {
    let page = pp.request()?;
    let owner = inbox_owner(&user.0);
    let got = state
        .store
        .inbox(&owner, f.unread.unwrap_or(false), page)
        .await?;
    let unread = state.store.unread_count(&owner).await?;
    let got = got.map(NotificationView::from);
    Ok(axum::Json(NotificationList {
        items: got.items,
        total: got.total,
        page: got.page,
        page_size: got.page_size,
        unread,
    }))
}

/// What to mark read: `{"ids": [...]}` (1 to 1000 notification ids) or `{"all": true}` (the
/// whole inbox). Anything else — `{}` included — is refused: marking everything read must be
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkReadRequest {
    Ids(Vec<i64>),
    All,
}

impl MarkReadRequest {
    /// Reads the body exactly as the document declares it (one key, `ids` or `all`).
    fn parse(body: &serde_json::Value) -> Result<Self, String> {
        const SHAPE: &str = "send {\"ids\": [...]} (1 to 1000 ids) or {\"all\": true}";
        let obj = body
            .as_object()
            .ok_or_else(|| format!("expected a JSON object: {SHAPE}"))?;
        let mut keys = obj.iter();
        let (Some((key, value)), None) = (keys.next(), keys.next()) else {
            return Err(format!(
                "nothing is marked read without saying what: {SHAPE}"
            ));
        };
        match (key.as_str(), value) {
            ("all", serde_json::Value::Bool(true)) => Ok(Self::All),
            ("ids", serde_json::Value::Array(items)) => {
                if items.is_empty() || items.len() > MAX_READ_IDS {
                    return Err(format!("ids: 1 to {MAX_READ_IDS} ids; {SHAPE}"));
                }
                items
                    .iter()
                    .map(|v| {
                        // An integer, also as JSON Schema counts them (`12.0`).
                        v.as_i64()
                            .or_else(|| {
                                v.as_f64()
                                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                                    .map(|f| f as i64)
                            })
                            .ok_or_else(|| format!("ids: {v} is not a notification id"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Self::Ids)
            }
            _ => Err(format!("unexpected {key:?}: {SHAPE}")),
        }
    }
}

impl utoipa::PartialSchema for MarkReadRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type,
        };
        let ids = ObjectBuilder::new()
            .property(
                "ids",
                ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::new(Type::Integer))
                            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                                utoipa::openapi::KnownFormat::Int64,
                            ))),
                    )
                    .min_items(Some(1))
                    .max_items(Some(MAX_READ_IDS))
                    .description(Some("The notifications to mark read (others are ignored).")),
            )
            .required("ids")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        let all = ObjectBuilder::new()
            .property(
                "all",
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Boolean))
                    .enum_values(Some([true]))
                    .description(Some("Mark the whole inbox read.")),
            )
            .required("all")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        OneOfBuilder::new()
            .item(ids)
            .item(all)
            .description(Some(
                "`{\"ids\": [...]}` or `{\"all\": true}`; `{}` marks nothing and is refused.",
            ))
            .into()
    }
}

impl ToSchema for MarkReadRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("MarkReadRequest")
    }
}

/// How many notifications changed from unread to read, and how many the user has left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub(crate) struct MarkReadResponse {
    pub updated: u64,
    pub unread: u64,
}

/// 标记已读: marks the given notifications (`{"ids": [...]}`) or, only when asked with
/// `{"all": true}`, the whole inbox read — for the requesting user alone: a colleague sharing a
/// department or role notification keeps their own read state. Ids outside the user's inbox are
/// ignored, so the count says what changed. `{}` is refused (422) and marks nothing.
#[utoipa::path(
    post,
    path = "/api/v1/inbox/read",
    tag = "inbox",
    security(("bearer" = []), ("cookie" = [])),
    request_body = MarkReadRequest,
    responses(
        (status = 200, body = MarkReadResponse),
        (status = 400, description = "`bad_request`: malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 422, description = "`invalid_value`: neither ids (1 to 1000) nor `all: true` (also `{}`)", body = ErrorBody),
    )
)]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<axum::Json<MarkReadResponse>> {
    let req = MarkReadRequest::parse(&body).map_err(ApiError::invalid_value)?;
    let owner = inbox_owner(&user.0);
    let now = state.clock.now();
    let updated = match req {
        MarkReadRequest::All => state.store.mark_read(&owner, ReadMark::All, now).await?,
        MarkReadRequest::Ids(mut ids) => {
            ids.sort_unstable();
            ids.dedup();
            state
                .store
                .mark_read(&owner, ReadMark::Ids(&ids), now)
                .await?
        }
    };
    let unread = state.store.unread_count(&owner).await?;
    Ok(axum::Json(MarkReadResponse { updated, unread }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::{Role, Scope};

    fn user(region: Option<&str>, dept: Option<i64>, roles: Vec<Role>) -> User {
        User {
            id: 9,
            username: "u".into(),
            display_name: "U".into(),
            roles,
            scope: Scope {
                region_code: region.map(str::to_string),
                department_id: dept,
            },
            active: true,
            grids: Vec::new(),
        }
    }

    #[test]
    fn owner_from_user() {
        let o = inbox_owner(&user(None, Some(3), vec![Role::Dispatcher]));
        assert_eq!(
            o,
            InboxOwner {
                user_id: 9,
                department_id: Some(3),
                roles: vec![Role::Dispatcher],
                region_prefixes: None,
            }
        );
        // A city code stands for the whole city: its 4-digit prefix.
        let o = inbox_owner(&user(Some("441300"), None, vec![Role::Intake]));
        assert_eq!(o.region_prefixes, Some(vec!["4413".to_string()]));
        let o = inbox_owner(&user(Some("441302001"), None, vec![Role::Inspector]));
        assert_eq!(o.region_prefixes, Some(vec!["441302001".to_string()]));
    }

    #[test]
    fn mark_read_needs_ids_or_all() {
        use serde_json::json;
        let p = |v: serde_json::Value| MarkReadRequest::parse(&v);
        assert_eq!(p(json!({"all": true})), Ok(MarkReadRequest::All));
        assert_eq!(
            p(json!({"ids": [3, 1]})),
            Ok(MarkReadRequest::Ids(vec![3, 1]))
        );
        for bad in [
            json!({}),
            json!({"ids": []}),
            json!({"all": false}),
            json!({"ids": [1], "all": true}),
            json!({"ids": null}),
            json!({"ids": ["1"]}),
            json!({"ids": [1.5]}),
            json!({"every": true}),
            json!([1, 2]),
            json!(null),
        ] {
            assert!(p(bad.clone()).is_err(), "{bad}");
        }
        let many: Vec<i64> = (0..=MAX_READ_IDS as i64).collect();
        assert!(p(json!({ "ids": many })).is_err());
    }

    #[test]
    fn recipients_serialise_with_their_kind() {
        let v = serde_json::to_value(RecipientView::from(Recipient::Role {
            role: Role::Dispatcher,
            region_code: Some("441302".into()),
        }))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "role", "role": "dispatcher", "region_code": "441302"})
        );
        let v = serde_json::to_value(RecipientView::from(Recipient::Department {
            department_id: 4,
        }))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "department", "department_id": 4})
        );
    }
}
