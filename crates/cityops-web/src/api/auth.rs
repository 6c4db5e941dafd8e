//! Login, logout and the current user. Sessions are opaque random tokens; the store keeps only
//! their SHA-256.
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;

use cityops_store::NewSession;

use crate::csrf;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{
    ApiJson, ClientIp, CookieJar, CurrentUser, Https, clear_session_cookie, plausible_token,
    session_cookie, session_token, token_hash,
};
use crate::password;
use crate::state::AppState;
use crate::views::{
    DepartmentView, LoginRequest, LoginResponse, MeView, PasswordChange, RegionRef, RevokedView,
    UserView,
};

/// Longest accepted username or password (characters, as the document's `maxLength`); longer
/// ones are refused (422) before hashing.
const MAX_CREDENTIAL_LEN: usize = 1024;

/// Resolves the department and region of a user's scope.
pub(crate) async fn me_view(state: &AppState, user: cityops_domain::User) -> ApiResult<MeView> {
    let department = match user.scope.department_id {
        Some(id) => state
            .store
            .get_department(id)
            .await?
            .map(DepartmentView::from),
        None => None,
    };
    let region = match &user.scope.region_code {
        Some(code) => state.store.get_region(code).await?.map(|r| RegionRef {
            code: r.code,
            name: r.name,
            level: r.level.as_str().to_string(),
        }),
        None => None,
    };
    Ok(MeView {
        user: UserView::from(user),
        department,
        region,
    })
}

/// Longest `User-Agent` kept with a session (characters).
const MAX_USER_AGENT_LEN: usize = 256;

/// 登录: exchanges a username and password for a session token and cookie.
///
/// Unknown users and wrong passwords get the same answer (401 `invalid_credentials`). Failed
/// attempts slow down further attempts of the same username from the same address, and of the
/// same address, with growing waits; good logins are not counted, so a stranger's guesses never
/// lock the user out of his own address. Every address also has a cap on attempts per minute
/// (429 `rate_limited` with `Retry-After`). A request from another site is refused (403 `csrf`).
/// The cookie ends with the browser unless `remember` is set; it is `Secure` over HTTPS.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; also sets the `cityops_session` cookie", body = LoginResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 422, description = "Missing or mistyped fields", body = ErrorBody),
        (status = 429, description = "`rate_limited`; see `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    if req.username.chars().count() > MAX_CREDENTIAL_LEN
        || req.password.chars().count() > MAX_CREDENTIAL_LEN
    {
        return Err(ApiError::invalid_value(format!(
            "username and password are limited to {MAX_CREDENTIAL_LEN} characters"
        )));
    }
    let username = req.username.trim().to_string();
    let limiter = &state.shared.login_limiter;
    if let Err(wait) = limiter.check(&ip, &username) {
        state.metrics().login("rate_limited");
        // `?`: the username is the client's text; Debug quotes and escapes it, so no input can
        // end the line or pose as another field.
        tracing::warn!(%ip, username = ?username, retry_after = wait, "login rate-limited");
        return Err(ApiError::rate_limited(wait));
    }
    let creds = if username.is_empty() {
        None
    } else {
        state.store.credentials(&username).await?
    };
    let (phc, known) = match &creds {
        Some(c) => (c.password_hash.clone(), true),
        None => (password::dummy_hash().to_string(), false),
    };
    let password = req.password;
    let verified = tokio::task::spawn_blocking(move || password::verify(&password, &phc))
        .await
        .map_err(ApiError::internal)?;
    let user = match creds {
        Some(c) if known && verified && c.user.active => c.user,
        _ => {
            limiter.failed(&ip, &username);
            state.metrics().login("invalid");
            tracing::info!(%ip, username = ?username, "login failed");
            return Err(ApiError::of(ErrorCode::InvalidCredentials));
        }
    };
    limiter.succeeded(&ip, &username);

    let token = hex::encode(rand::random::<[u8; 32]>());
    let now = state.clock.now();
    let ttl = Duration::hours(state.config.session_ttl_hours.max(1));
    let expires_at = now + ttl;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT_LEN).collect::<String>())
        .filter(|v| !v.is_empty());
    state
        .store
        .create_session(&NewSession {
            id: hex::encode(rand::random::<[u8; 16]>()),
            token_hash: token_hash(&token),
            user_id: user.id,
            created_at: now,
            expires_at,
            address: (ip != "unknown").then(|| ip.clone()),
            user_agent,
        })
        .await?;
    state.metrics().login("ok");
    state.purge_sessions_now_and_then().await;
    tracing::info!(%ip, username = ?user.username, user_id = user.id, remember = req.remember, "login");

    let max_age = req.remember.then(|| ttl.num_seconds());
    let jar = CookieJar::new().add(session_cookie(token.clone(), max_age, https));
    let body = LoginResponse {
        csrf_token: csrf::token_for(&token),
        token,
        expires_at,
        user: me_view(&state, user).await?,
    };
    let mut resp = (jar, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// 退出登录: revokes the session of the request's token or cookie and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Logged out (the session is deleted, the cookie cleared)"),
        (status = 401, description = "`unauthenticated`: no token was sent, or it is not a live session", body = ErrorBody),
    )
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = session_token(&headers)?.ok_or_else(ApiError::unauthenticated)?;
    // Only a live session can be logged out: any other token is 401, as for every secured call.
    let live =
        plausible_token(&token) && state.app.session_user(&token_hash(&token)).await?.is_some();
    if !live {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "Login required: the session is missing or expired.",
        ));
    }
    state.app.end_session(&token_hash(&token)).await?;
    let jar = clear_session_cookie(CookieJar::new(), https);
    Ok((jar, StatusCode::NO_CONTENT).into_response())
}

/// 当前用户: the logged-in user with roles, scope, department and grids.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = MeView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<MeView>> {
    Ok(axum::Json(me_view(&state, user).await?))
}

/// 修改密码: changes the caller's own password. The current password must be given (a wrong one
/// counts as a failed login of this user from this address, so it cannot be guessed here faster
/// than at login); the new one must pass the password policy (422 `invalid_value` saying why).
/// Every other session of the user is revoked at once; this one stays.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; how many other sessions were revoked", body = RevokedView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the current password is wrong; or `csrf`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "`invalid_value`: the new password fails the policy", body = ErrorBody),
        (status = 429, description = "`rate_limited`; see `Retry-After`", body = ErrorBody),
    )
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<axum::Json<RevokedView>> {
    if req.current_password.chars().count() > MAX_CREDENTIAL_LEN
        || req.new_password.chars().count() > MAX_CREDENTIAL_LEN
    {
        return Err(ApiError::invalid_value(format!(
            "passwords are limited to {MAX_CREDENTIAL_LEN} characters"
        )));
    }
    let limiter = &state.shared.login_limiter;
    if let Err(wait) = limiter.check(&ip, &user.username) {
        return Err(ApiError::rate_limited(wait));
    }
    let creds = state
        .store
        .credentials(&user.username)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    let (current, phc) = (req.current_password, creds.password_hash);
    let verified = tokio::task::spawn_blocking(move || password::verify(&current, &phc))
        .await
        .map_err(ApiError::internal)?;
    if !verified {
        limiter.failed(&ip, &user.username);
        tracing::info!(%ip, user_id = user.id, "password change: wrong current password");
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "The current password is wrong.",
        ));
    }
    password::check_new(&req.new_password, &user.username, &[&user.display_name])
        .map_err(|why| ApiError::invalid_value(format!("The new password is refused: {why}.")))?;
    let new = req.new_password;
    let phc = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(ApiError::internal)?;
    state.store.set_password_hash(user.id, &phc).await?;
    let token = session_token(&headers)?.ok_or_else(ApiError::unauthenticated)?;
    let revoked = state
        .app
        .revoke_other_sessions(user.id, &token_hash(&token))
        .await?;
    limiter.succeeded(&ip, &user.username);
    tracing::info!(%ip, user_id = user.id, revoked, "password changed");
    Ok(axum::Json(RevokedView { revoked }))
}
