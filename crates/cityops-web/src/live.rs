//! The big screen's event stream (案件动态推送): `GET /screen/events`, server-sent events of the
//! case service's durable changes ([`cityops_app::live`]).
//!
//! Not part of the API document: a stream never ends, which a contract fuzzer cannot check, and
//! it is the console's (the big screen subscribes with `EventSource`, cookie and all). Bearer
//! tokens work too.
//!
//! - Who: logged-in users allowed to see dashboards (leader, supervisor, admin, dispatcher,
//!   intake: [`cityops_app::dashboard::may_view_dashboard`]); others get 403 `forbidden`.
//! - What: `event: change` with a [`cityops_app::CaseChange`] as JSON (ids, codes, status,
//!   light, source, category and district — no personal data), only for changes whose region or
//!   department the viewer's [`cityops_domain::case::CaseVisibility`] admits (an in-memory test,
//!   no query per event).
//! - Slow clients: the broadcast is bounded; a receiver that falls behind gets
//!   `event: resync` (`{"missed": n}`) and should re-read the figures. The service never waits.
//! - Keep-alive comments every [`KEEP_ALIVE`]; the stream ends after [`MAX_STREAM`] so that a
//!   logged-out or changed session is noticed (the browser's `EventSource` reconnects, logging
//!   in again through its cookie, after `retry` milliseconds).
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cityops_app::CaseChange;
use cityops_domain::case::CaseVisibility;
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::CurrentUser;

/// How often an idle stream sends a comment (proxies close silent connections).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The longest one stream lives before the client reconnects.
pub const MAX_STREAM: Duration = Duration::from_secs(10 * 60);
/// How long a browser waits before reconnecting (`retry:`), milliseconds.
const RETRY_MS: u64 = 3000;

struct Listener<T, F> {
    rx: Receiver<Arc<T>>,
    to_event: F,
    until: Instant,
    started: bool,
}

/// The events of one listener of a bounded broadcast: a greeting (`ready`, with the reconnect
/// delay), then `to_event` of each change (`None`: not for this listener — out of its scope, or
/// not encodable), and `resync` (`{"missed": n}`) when it fell behind, until `lifetime` or the
/// sender goes away. Shared by every live stream of the console (cases here; alarms in the UI).
pub fn broadcast_events<T, F>(
    rx: Receiver<Arc<T>>,
    lifetime: Duration,
    to_event: F,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static
where
    T: Send + Sync + 'static,
    F: FnMut(&T) -> Option<Event> + Send + 'static,
{
    let state = Listener {
        rx,
        to_event,
        until: Instant::now() + lifetime,
        started: false,
    };
    stream::unfold(state, |mut l| async move {
        if !l.started {
            l.started = true;
            let hello = Event::default()
                .event("ready")
                .retry(Duration::from_millis(RETRY_MS))
                .data("{}");
            return Some((Ok(hello), l));
        }
        loop {
            let next = tokio::time::timeout_at(l.until, l.rx.recv()).await;
            let event = match next {
                Err(_elapsed) => return None,
                Ok(Err(RecvError::Closed)) => return None,
                Ok(Err(RecvError::Lagged(missed))) => Event::default()
                    .event("resync")
                    .data(format!("{{\"missed\":{missed}}}")),
                Ok(Ok(change)) => match (l.to_event)(&change) {
                    Some(e) => e,
                    None => continue,
                },
            };
            return Some((Ok(event), l));
        }
    })
    // Fused: a layer that polls once more after the end gets `None`, not a panic.
    .fuse()
}

/// An event stream as a response: keep-alive comments every [`KEEP_ALIVE`], never cached or
/// buffered by a proxy.
pub fn sse_response(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    let mut resp = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    resp.headers_mut().insert(
        axum::http::HeaderName::from_static("x-accel-buffering"),
        axum::http::HeaderValue::from_static("no"),
    );
    resp
}

/// The events of one listener of the case changes: those `vis` admits, as `event: change`.
pub fn events(
    rx: Receiver<Arc<CaseChange>>,
    vis: CaseVisibility,
    lifetime: Duration,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    broadcast_events(rx, lifetime, move |change: &CaseChange| {
        if !change.visible_to(&vis) {
            return None;
        }
        Event::default()
            .event("change")
            .json_data(change)
            .map_err(|e| tracing::warn!(error = %e, "a case change could not be encoded"))
            .ok()
    })
}

/// `GET /screen/events`.
pub async fn stream_handler(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, ApiError> {
    cityops_app::dashboard::require_dashboard(&user.0)?;
    let rx = state.app.subscribe_changes();
    let vis = CaseVisibility::for_user(&user.0);
    Ok(sse_response(events(rx, vis, MAX_STREAM)))
}
