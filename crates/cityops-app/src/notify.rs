//! Outbound notifications (消息推送): after a transition commits, its notifications (待办/消息) are
//! also pushed to external channels — a webhook, an SMS gateway (短信网关) — besides the inboxes
//! the store keeps.
//!
//! [`Notifier::publish`] never blocks a request and never fails one: messages go into a bounded
//! queue (capacity [`QUEUE_CAPACITY`]) that a background task drains into the configured
//! [`Channel`]s; when the queue is full the message is dropped, counted
//! ([`NotifierStats::dropped`]) and logged. The inbox in the database stays the record; the
//! channels are best effort.
//!
//! The workspace builds `reqwest` without TLS, so [`WebhookChannel`] and [`SmsGatewayChannel`]
//! speak plain `http://` — meant for a gateway on the local network (or a local relay that adds
//! TLS). `https://` URLs are refused when the channel is built.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::case::{Case, NewNotification, Recipient};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// Messages waiting for delivery; more are dropped (and counted), never waited for.
pub const QUEUE_CAPACITY: usize = 1024;
/// Deliveries in flight at once (a slow gateway must not stall the queue).
const MAX_IN_FLIGHT: usize = 16;
/// Time limit of one HTTP delivery.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// One notification as pushed to external channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub case_id: i64,
    /// The case code, e.g. `2026112300001`.
    pub case_code: String,
    /// The action or event that caused it (`dispatch`, `yellow`, …).
    pub action: String,
    /// A short text in Chinese, e.g. "待派遣".
    pub title: String,
    /// Who it is for: a user, a department's inbox, or a role within a region.
    pub recipient: Recipient,
    pub created_at: DateTime<Utc>,
}

impl OutboundMessage {
    /// The message of a stored notification of `case` (its id fills in a `case_id` of 0, as a
    /// report's notifications carry before the case is stored).
    pub fn new(case: &Case, n: &NewNotification) -> Self {
        Self {
            case_id: if n.case_id == 0 { case.id } else { n.case_id },
            case_code: case.code.clone(),
            action: n.action.clone(),
            title: n.title.clone(),
            recipient: n.recipient.clone(),
            created_at: n.created_at,
        }
    }

    /// The messages of a committed transition (or report) of `case`.
    pub fn for_case(case: &Case, notify: &[NewNotification]) -> Vec<Self> {
        notify.iter().map(|n| Self::new(case, n)).collect()
    }

    /// A one-line text for SMS and logs, e.g. `【城市运行】待派遣：案件 2026112300001` (the code is
    /// added unless the title already names it).
    pub fn text(&self) -> String {
        if !self.case_code.is_empty() && self.title.contains(&self.case_code) {
            format!("【城市运行】{}", self.title)
        } else {
            format!("【城市运行】{}：案件 {}", self.title, self.case_code)
        }
    }
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The channel's configuration is unusable (bad URL, unsupported scheme).
    #[error("channel configuration: {0}")]
    Config(String),
    /// The request could not be sent or timed out.
    #[error("delivery failed: {0}")]
    Transport(String),
    /// The receiver answered with a non-success status.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
}

/// An outbound channel (推送渠道).
#[async_trait]
pub trait Channel: Send + Sync {
    /// A short name for logs, e.g. `log`, `webhook`.
    fn name(&self) -> &str;
    async fn send(&self, n: &OutboundMessage) -> Result<(), ChannelError>;
}

/// Writes each message to the log (`tracing::info`): the default channel.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogChannel;

#[async_trait]
impl Channel for LogChannel {
    fn name(&self) -> &str {
        "log"
    }

    async fn send(&self, n: &OutboundMessage) -> Result<(), ChannelError> {
        tracing::info!(
            case_id = n.case_id,
            case_code = %n.case_code,
            action = %n.action,
            recipient = ?n.recipient,
            "notification: {}",
            n.title
        );
        Ok(())
    }
}

fn http_client(url: &str, timeout: Duration) -> Result<reqwest::Client, ChannelError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| ChannelError::Config(format!("{url}: {e}")))?;
    if parsed.scheme() != "http" {
        return Err(ChannelError::Config(format!(
            "{url}: only http:// is supported (this build has no TLS); use a gateway on the local network"
        )));
    }
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| ChannelError::Config(e.to_string()))
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &impl Serialize,
) -> Result<(), ChannelError> {
    let resp = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| ChannelError::Transport(e.to_string()))?;
    let status = resp.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(ChannelError::Status(status.as_u16()))
    }
}

/// POSTs each message as JSON ([`OutboundMessage`]) to a URL; any 2xx is success.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    url: String,
    client: reqwest::Client,
}

impl WebhookChannel {
    /// A webhook with the default time limit ([`HTTP_TIMEOUT`]). Only `http://` URLs.
    pub fn new(url: &str) -> Result<Self, ChannelError> {
        Self::with_timeout(url, HTTP_TIMEOUT)
    }

    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, ChannelError> {
        Ok(Self {
            client: http_client(url, timeout)?,
            url: url.to_string(),
        })
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn send(&self, n: &OutboundMessage) -> Result<(), ChannelError> {
        post_json(&self.client, &self.url, n).await
    }
}

/// The body [`SmsGatewayChannel`] posts: the recipient (the gateway maps users, departments and
/// roles to phone numbers) and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRequest {
    pub recipient: Recipient,
    pub text: String,
    pub case_code: String,
}

/// POSTs `{"recipient", "text", "case_code"}` ([`SmsRequest`]) to an SMS gateway (短信网关).
#[derive(Debug, Clone)]
pub struct SmsGatewayChannel {
    url: String,
    client: reqwest::Client,
}

impl SmsGatewayChannel {
    /// An SMS gateway with the default time limit ([`HTTP_TIMEOUT`]). Only `http://` URLs.
    pub fn new(url: &str) -> Result<Self, ChannelError> {
        Self::with_timeout(url, HTTP_TIMEOUT)
    }

    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, ChannelError> {
        Ok(Self {
            client: http_client(url, timeout)?,
            url: url.to_string(),
        })
    }
}

#[async_trait]
impl Channel for SmsGatewayChannel {
    fn name(&self) -> &str {
        "sms"
    }

    async fn send(&self, n: &OutboundMessage) -> Result<(), ChannelError> {
        let body = SmsRequest {
            recipient: n.recipient.clone(),
            text: n.text(),
            case_code: n.case_code.clone(),
        };
        post_json(&self.client, &self.url, &body).await
    }
}

/// The channels for a configuration: always the log; a webhook when `webhook_url` is set.
pub fn channels_for(webhook_url: Option<&str>) -> Result<Vec<Arc<dyn Channel>>, ChannelError> {
    let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(LogChannel)];
    if let Some(url) = webhook_url.map(str::trim).filter(|u| !u.is_empty()) {
        channels.push(Arc::new(WebhookChannel::new(url)?));
    }
    Ok(channels)
}

/// Counters of a [`Notifier`] since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotifierStats {
    /// Messages accepted into the queue.
    pub queued: u64,
    /// Deliveries (message × channel) that succeeded.
    pub delivered: u64,
    /// Deliveries that failed (logged).
    pub failed: u64,
    /// Messages dropped because the queue was full or the background task had stopped.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// The outbound queue. Cheap to clone; the background task ends when every clone is dropped
/// (after delivering what is queued).
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: mpsc::Sender<OutboundMessage>,
    counters: Arc<Counters>,
}

impl Notifier {
    /// A notifier with a queue of [`QUEUE_CAPACITY`] messages, delivering to `channels`, and the
    /// handle of its background task (spawned on the current Tokio runtime).
    pub fn new(channels: Vec<Arc<dyn Channel>>) -> (Notifier, JoinHandle<()>) {
        Self::with_capacity(channels, QUEUE_CAPACITY)
    }

    /// [`Notifier::new`] with another queue capacity (at least 1).
    pub fn with_capacity(
        channels: Vec<Arc<dyn Channel>>,
        capacity: usize,
    ) -> (Notifier, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(drain(rx, channels, counters.clone()));
        (Notifier { tx, counters }, task)
    }

    /// Queues messages for delivery without waiting; returns how many were accepted. Messages
    /// that do not fit are dropped and counted.
    pub fn publish(&self, msgs: impl IntoIterator<Item = OutboundMessage>) -> usize {
        let mut accepted = 0;
        for m in msgs {
            match self.tx.try_send(m) {
                Ok(()) => {
                    accepted += 1;
                    self.counters.queued.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    // The first drop and then every hundredth: a full queue must not flood the log.
                    if dropped == 1 || dropped.is_multiple_of(100) {
                        let why = match e {
                            mpsc::error::TrySendError::Full(_) => "queue full",
                            mpsc::error::TrySendError::Closed(_) => "notifier stopped",
                        };
                        tracing::warn!(
                            dropped_total = dropped,
                            why,
                            "outbound notification dropped"
                        );
                    }
                }
            }
        }
        accepted
    }

    /// Queues the notifications of a committed transition (or report) of `case`.
    pub fn publish_case(&self, case: &Case, notify: &[NewNotification]) -> usize {
        self.publish(OutboundMessage::for_case(case, notify))
    }

    pub fn stats(&self) -> NotifierStats {
        self.stats_handle().get()
    }

    /// A handle to the counters that does not keep the queue open (for `/metrics`, and to read
    /// the final counts after the notifier is dropped).
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.counters.clone())
    }
}

/// Reads a [`Notifier`]'s counters; see [`Notifier::stats_handle`].
#[derive(Debug, Clone)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    pub fn get(&self) -> NotifierStats {
        let c = &self.0;
        NotifierStats {
            queued: c.queued.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Delivers queued messages to every channel, at most [`MAX_IN_FLIGHT`] at once, until the queue
/// is closed and empty.
async fn drain(
    mut rx: mpsc::Receiver<OutboundMessage>,
    channels: Vec<Arc<dyn Channel>>,
    counters: Arc<Counters>,
) {
    let mut in_flight = JoinSet::new();
    while let Some(msg) = rx.recv().await {
        let msg = Arc::new(msg);
        for ch in &channels {
            while in_flight.len() >= MAX_IN_FLIGHT {
                in_flight.join_next().await;
            }
            let (ch, msg, counters) = (ch.clone(), msg.clone(), counters.clone());
            in_flight.spawn(async move {
                match ch.send(&msg).await {
                    Ok(()) => {
                        counters.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(channel = ch.name(), case_code = %msg.case_code,
                            action = %msg.action, error = %e, "outbound notification failed");
                    }
                }
            });
        }
    }
    while in_flight.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;
    use chrono::TimeZone;
    use cityops_domain::Role;
    use tokio::sync::{Notify, mpsc::UnboundedSender};

    fn msg(i: i64) -> OutboundMessage {
        OutboundMessage {
            case_id: i,
            case_code: format!("20261123{i:05}"),
            action: "dispatch".into(),
            title: "待签收".into(),
            recipient: Recipient::Department { department_id: 7 },
            created_at: Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
        }
    }

    /// Records what it receives; optionally waits for a permit before each delivery.
    struct Recorder {
        out: UnboundedSender<OutboundMessage>,
        gate: Option<Arc<Notify>>,
        fail: bool,
    }

    #[async_trait]
    impl Channel for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        async fn send(&self, n: &OutboundMessage) -> Result<(), ChannelError> {
            if let Some(g) = &self.gate {
                g.notified().await;
            }
            let _ = self.out.send(n.clone());
            if self.fail {
                Err(ChannelError::Status(500))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn delivers_to_every_channel_then_stops() {
        let (out, mut got) = tokio::sync::mpsc::unbounded_channel();
        let ok: Arc<dyn Channel> = Arc::new(Recorder {
            out: out.clone(),
            gate: None,
            fail: false,
        });
        let bad: Arc<dyn Channel> = Arc::new(Recorder {
            out,
            gate: None,
            fail: true,
        });
        let (n, task) = Notifier::new(vec![ok, bad, Arc::new(LogChannel)]);
        assert_eq!(n.publish((1..=3).map(msg)), 3);
        let stats = n.stats_handle();
        drop(n);
        task.await.unwrap();
        let mut seen = Vec::new();
        while let Ok(m) = got.try_recv() {
            seen.push(m.case_id);
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 1, 2, 2, 3, 3]);
        let s = stats.get();
        assert_eq!((s.queued, s.delivered, s.failed, s.dropped), (3, 6, 3, 0));
    }

    #[tokio::test]
    async fn a_full_queue_drops_instead_of_blocking() {
        let (out, mut got) = tokio::sync::mpsc::unbounded_channel();
        let gate = Arc::new(Notify::new());
        let slow: Arc<dyn Channel> = Arc::new(Recorder {
            out,
            gate: Some(gate.clone()),
            fail: false,
        });
        let (n, task) = Notifier::with_capacity(vec![slow], 2);
        // The channel holds every delivery at the gate, so at most MAX_IN_FLIGHT messages leave
        // the queue and the queue holds 2: of many, some must be dropped, and publish returns.
        let total = 100;
        let accepted = n.publish((0..total).map(msg));
        let s = n.stats();
        assert_eq!(s.queued as usize, accepted);
        assert_eq!(s.queued + s.dropped, total as u64);
        assert!(s.dropped > 0, "{s:?}");
        assert!(accepted <= MAX_IN_FLIGHT + 2 + 1, "{s:?}");
        // Open the gate for everything accepted; then the task ends with the queue.
        let stats = n.stats_handle();
        drop(n);
        let mut received = 0;
        while received < accepted {
            gate.notify_one();
            if got.recv().await.is_some() {
                received += 1;
            }
        }
        task.await.unwrap();
        assert_eq!(stats.get().delivered as usize, accepted);
        assert_eq!(stats.get().dropped, s.dropped);
    }

    #[tokio::test]
    async fn webhook_and_sms_post_json() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, serde_json::Value)>();
        async fn hook(
            State(tx): State<UnboundedSender<(String, serde_json::Value)>>,
            uri: axum::http::Uri,
            axum::Json(v): axum::Json<serde_json::Value>,
        ) -> StatusCode {
            let _ = tx.send((uri.path().to_string(), v));
            StatusCode::NO_CONTENT
        }
        async fn refuse() -> StatusCode {
            StatusCode::SERVICE_UNAVAILABLE
        }
        let app = Router::new()
            .route("/hook", post(hook))
            .route("/sms", post(hook))
            .route("/down", post(refuse))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let m = OutboundMessage {
            recipient: Recipient::Role {
                role: Role::Dispatcher,
                region_code: Some("441302".into()),
            },
            ..msg(5)
        };
        WebhookChannel::new(&format!("http://{addr}/hook"))
            .unwrap()
            .send(&m)
            .await
            .unwrap();
        let (path, body) = rx.recv().await.unwrap();
        assert_eq!(path, "/hook");
        assert_eq!(serde_json::from_value::<OutboundMessage>(body).unwrap(), m);

        SmsGatewayChannel::new(&format!("http://{addr}/sms"))
            .unwrap()
            .send(&m)
            .await
            .unwrap();
        let (path, body) = rx.recv().await.unwrap();
        assert_eq!(path, "/sms");
        assert_eq!(body["text"], "【城市运行】待签收：案件 2026112300005");
        assert_eq!(body["recipient"]["kind"], "role");
        assert_eq!(body["recipient"]["role"], "dispatcher");

        let down = WebhookChannel::new(&format!("http://{addr}/down")).unwrap();
        assert!(matches!(
            down.send(&m).await,
            Err(ChannelError::Status(503))
        ));
        server.abort();
    }

    #[test]
    fn only_plain_http_urls() {
        assert!(matches!(
            WebhookChannel::new("https://gateway.example/hook"),
            Err(ChannelError::Config(_))
        ));
        assert!(matches!(
            SmsGatewayChannel::new("not a url"),
            Err(ChannelError::Config(_))
        ));
        assert_eq!(channels_for(None).unwrap().len(), 1);
        assert_eq!(channels_for(Some("  ")).unwrap().len(), 1);
        let both = channels_for(Some("http://10.0.0.5:8088/notify")).unwrap();
        assert_eq!(
            both.iter().map(|c| c.name()).collect::<Vec<_>>(),
            vec!["log", "webhook"]
        );
    }

    #[test]
    fn messages_of_a_report_get_the_case_id() {
        use cityops_domain::calendar::WorkingCalendar;
        use cityops_domain::case::{
            Actor, CaseLocation, CaseSource, Context, NewReport, Urgency, WorkflowConfig, report,
        };
        let calendar = WorkingCalendar::china_default(Vec::new());
        let config = WorkflowConfig::default();
        let ctx = Context {
            now: Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
            calendar: &calendar,
            config: &config,
            handle_limit: None,
            master: None,
            suggested_department: None,
        };
        let input = NewReport {
            source: CaseSource::Hotline,
            category_kind: None,
            category_code: None,
            urgency: Urgency::Normal,
            description: "井盖缺失".into(),
            location: CaseLocation {
                lng: 114.41,
                lat: 23.09,
                grid_code: Some("441302001001001".into()),
                community_code: None,
                street_code: None,
                district_code: None,
                address: None,
            },
            component_id: None,
            contact: None,
            attachments: Vec::new(),
            suggested_department_id: None,
            duplicate_of: None,
        };
        let (mut case, _event, mut notify) = report(input, &Actor::system(), &ctx).unwrap();
        assert!(notify.iter().all(|n| n.case_id == 0));
        // What the store answers after create_case: the id and code assigned.
        case.id = 42;
        case.code = "2026112300007".into();
        notify.push(NewNotification {
            case_id: 41,
            ..notify[0].clone()
        });
        let msgs = OutboundMessage::for_case(&case, &notify);
        assert_eq!(msgs.len(), notify.len());
        assert_eq!(msgs[0].case_id, 42, "a report's 0 becomes the new id");
        assert_eq!(msgs.last().unwrap().case_id, 41, "a given id is kept");
        assert!(msgs.iter().all(|m| m.case_code == "2026112300007"));
        assert_eq!(msgs[0].action, "report");
        assert_eq!(msgs[0].text(), "【城市运行】待受理：案件 2026112300007");
        let titled = OutboundMessage {
            title: "待签收：案件 2026112300007".into(),
            ..msgs[0].clone()
        };
        assert_eq!(titled.text(), "【城市运行】待签收：案件 2026112300007");
    }
}
