//! 码上办 QR labels (二维码标牌) of management objects: one object's printable label
//! (`GET /api/v1/objects/{code}/label.svg`) and an A4 sheet of nine
//! (`GET /api/v1/objects/labels.svg?kind=&street=&q=&page=`), drawn by [`crate::labels`].
//!
//! Who may print a label is who may see the object ([`cityops_app::ObjectService::get`] and
//! `list`: staff within their region or department, a responsible party their own objects); the
//! label itself shows only what the public card shows (code, kind, name) and the URL of the
//! public scan page.
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cityops_domain::PageRequest;
use cityops_domain::objects::ObjectCode;
use cityops_store::ObjectFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, CurrentUser};
use crate::labels::{self, LabelData, PER_SHEET};
use crate::state::AppState;

/// The label routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(label_sheet))
        .routes(routes!(object_label))
}

const SVG_TYPE: &str = "image/svg+xml";

/// The object of a path code: 400 when it is not 16 digits, 404 when no object of that code is
/// visible (a check digit that does not match is the same 404).
async fn visible_object(
    state: &AppState,
    user: &cityops_domain::User,
    code: &str,
) -> ApiResult<cityops_store::StoredObject> {
    if code.len() != ObjectCode::LEN || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "An object code has 16 digits (e.g. 4413020100001234).",
        ));
    }
    let code =
        ObjectCode::parse(code).map_err(|_| ApiError::not_found(format!("No object {code}.")))?;
    Ok(state.objects.get(user, &code).await?)
}

fn svg_response(svg: String, file_name: &str) -> Response {
    let mut resp = Body::from(svg).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SVG_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // An SVG opened on its own may not run anything.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// 二维码标牌: the printable QR label (64 × 90 mm) of one object — 码上办, the city's platform,
/// the QR code of the object's public scan page (`{origin}/m/o/{code}`: the configured
/// `public_origin`, else this request's host), the code in its printed groups (drawn as paths,
/// font-independent), the object's name and kind.
#[utoipa::path(
    get,
    path = "/api/v1/objects/{code}/label.svg",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "The object's code (16 digits)", pattern = "^[0-9]{16}$")),
    responses(
        (status = 200, description = "The label as SVG (64 × 90 mm)", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`bad_request`: not a 16-digit code", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: management objects are for staff and their responsible parties", body = ErrorBody),
        (status = 404, description = "`not_found`: no such object within your region (a code whose check digit does not match is the same answer)", body = ErrorBody),
    )
)]
pub(crate) async fn object_label(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let stored = visible_object(&state, &user, &code).await?;
    let data = labels::label_data(&state, &headers, &stored.object);
    let svg = labels::label_svg(&data).map_err(ApiError::internal)?;
    Ok(svg_response(
        svg,
        &format!("label-{}.svg", stored.object.code),
    ))
}

/// The filters of a sheet of labels.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SheetParams {
    /// Only objects of this kind.
    #[param(value_type = Option<crate::wire::ObjectKindName>)]
    kind: Option<String>,
    /// Only objects of this street (9-digit code).
    #[param(value_type = Option<String>, pattern = "^[0-9]{9}$", example = "441302001")]
    street: Option<String>,
    /// Code, name or address contains (literal).
    #[param(value_type = Option<String>, max_length = 100)]
    q: Option<String>,
    /// Which sheet, from 1 (nine labels a sheet, in code order). Default 1.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000, example = 1)]
    page: Option<u32>,
}

impl SheetParams {
    fn filter(&self) -> Result<(ObjectFilter, u32), ApiError> {
        // The list's own parsing: an empty or unknown kind, an empty or malformed street is 400.
        let kind = super::objects::parse_kind(self.kind.as_deref(), "kind")?;
        let street = super::objects::street_param(self.street.clone())?;
        let q = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string);
        if q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ApiError::invalid_query("q: at most 100 characters"));
        }
        let page = self.page.unwrap_or(1);
        if !(1..=100_000).contains(&page) {
            return Err(ApiError::invalid_query("page: from 1 to 100000"));
        }
        Ok((
            ObjectFilter {
                kind,
                street,
                q,
                responsible_user_id: None,
            },
            page,
        ))
    }
}

/// 标牌打印: an A4 sheet (210 × 297 mm) of nine labels of the objects you may see, filtered by
/// kind, street and text, in code order; `page` picks the sheet. A sheet past the last object
/// is empty. The number of matching objects is sent as `X-Total-Count`.
#[utoipa::path(
    get,
    path = "/api/v1/objects/labels.svg",
    tag = "objects",
    security(("bearer" = []), ("cookie" = [])),
    params(SheetParams),
    responses(
        (status = 200, description = "The sheet as SVG (A4, 3 × 3 labels)", content_type = "image/svg+xml", body = String),
        (status = 400, description = "`invalid_query`: an unknown kind, a malformed street code, a page out of range", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: management objects are for staff and their responsible parties", body = ErrorBody),
    )
)]
pub(crate) async fn label_sheet(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<SheetParams>,
) -> ApiResult<Response> {
    let (filter, page) = params.filter()?;
    let objects = state
        .objects
        .list(
            &user,
            filter,
            PageRequest {
                page,
                page_size: PER_SHEET as u32,
            },
        )
        .await?;
    let data: Vec<LabelData> = objects
        .items
        .iter()
        .map(|o| labels::label_data(&state, &headers, &o.object))
        .collect();
    let svg = labels::sheet_svg(&data).map_err(ApiError::internal)?;
    let mut resp = svg_response(svg, &format!("labels-{page}.svg"));
    if let Ok(v) = HeaderValue::from_str(&objects.total.to_string()) {
        resp.headers_mut().insert("x-total-count", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::objects::ObjectKind;

    #[test]
    fn sheet_filters() {
        let p = SheetParams {
            kind: Some("school".into()),
            street: Some("441302001".into()),
            q: Some(" 肠粉 ".into()),
            page: None,
        };
        let (f, page) = p.filter().unwrap();
        assert_eq!(
            (f.kind, f.street.as_deref(), f.q.as_deref(), page),
            (Some(ObjectKind::School), Some("441302001"), Some("肠粉"), 1)
        );
        for bad in [
            SheetParams {
                kind: Some("shop".into()),
                ..Default::default()
            },
            SheetParams {
                street: Some("4413".into()),
                ..Default::default()
            },
            SheetParams {
                street: Some(String::new()),
                ..Default::default()
            },
            SheetParams {
                page: Some(0),
                ..Default::default()
            },
        ] {
            assert!(bad.filter().is_err());
        }
    }
}
