//! The MQTT entry of ingest: an MQTT 5 client of the city's broker subscribed to
//! `$share/{group}/cityops/telemetry/+` (a shared subscription: several server processes in the
//! same group share the messages, each message goes to one of them).
//!
//! Three tasks, so that polling the connection never waits on our own requests (the rumqttc
//! pitfall of STACK.md §4.1): the *poll* task only polls and forwards publishes into a bounded
//! channel; the *handler* parses a message, checks its readings and queues them (waiting for room
//! in the ingest queue: backpressure reaches the broker); the *ack* task waits, in order, until
//! each message's readings are durably stored and only then acknowledges it (QoS 1, manual acks,
//! a persistent session: a message not acknowledged before a crash is delivered again, and the
//! store keeps each reading once).
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::payload::{MAX_PAYLOAD, device_of_topic, parse_mqtt};
use crate::{Ingest, Pending};

/// Messages between the poll and the handler task, and waiting for their acks.
const CHANNEL: usize = 8_192;

/// How the server connects to the broker (`[mqtt]`, `CITYOPS_MQTT_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttSettings {
    /// `mqtt://host[:port]` (default port 1883).
    pub url: String,
    /// This process's client id (a persistent session is kept per id: make it stable per
    /// process, distinct between processes).
    pub client_id: String,
    /// The shared subscription group: processes of one group share the readings.
    pub group: String,
    /// The topics' prefix, ending in `/`: devices publish under `{prefix}{device_id}`.
    /// Default `cityops/telemetry/` (another for a second city on the same broker).
    pub topic_prefix: String,
    /// 1: acknowledged after the durable write (default); 0: at most once.
    pub qos: u8,
    /// Connections this process opens, all in the group (`{client_id}-1` …): a broker sends each
    /// connection only so many unacknowledged QoS 1 messages (Mosquitto's
    /// `max_inflight_messages`, 20 by default), and a message is acknowledged only after its
    /// write, so more connections mean larger write groups. Default 4.
    pub connections: usize,
    /// How long the broker keeps this process's session (its subscription and the messages
    /// queued for it) after the connection drops, in seconds. Long enough for a restart; a
    /// process that leaves for good keeps taking its share of the group's messages until then.
    /// Default 600.
    pub session_expiry_secs: u32,
}

impl MqttSettings {
    pub fn new(url: &str, client_id: &str) -> Self {
        Self {
            url: url.to_string(),
            client_id: client_id.to_string(),
            group: "cityops".into(),
            topic_prefix: crate::payload::TOPIC_PREFIX.into(),
            qos: 1,
            connections: 4,
            session_expiry_secs: 600,
        }
    }

    /// The topic filter subscribed to.
    pub fn filter(&self) -> String {
        format!("$share/{}/{}+", self.group, self.topic_prefix)
    }
}

/// Host and port of an `mqtt://` URL.
pub fn host_port(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| format!("MQTT URL {url:?}: expected mqtt://host[:port]"))?;
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((h, p)) => Ok((
            h.to_string(),
            p.parse()
                .map_err(|_| format!("MQTT URL {url:?}: bad port {p:?}"))?,
        )),
        None if !rest.is_empty() => Ok((rest.to_string(), 1883)),
        None => Err(format!("MQTT URL {url:?}: no host")),
    }
}

fn qos(q: u8) -> QoS {
    match q {
        0 => QoS::AtMostOnce,
        _ => QoS::AtLeastOnce,
    }
}

/// Connects (`settings.connections` times, each its own client id in the group) and consumes
/// until `shutdown` completes, reconnecting after broker restarts.
pub fn spawn(
    ingest: Ingest,
    settings: MqttSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<JoinHandle<()>, String> {
    let (host, port) = host_port(&settings.url)?;
    let n = settings.connections.max(1);
    let (stop, _) = tokio::sync::watch::channel(false);
    let mut connections = Vec::with_capacity(n);
    for i in 1..=n {
        let client_id = if n == 1 {
            settings.client_id.clone()
        } else {
            format!("{}-{i}", settings.client_id)
        };
        let mut stopped = stop.subscribe();
        connections.push(connect(
            ingest.clone(),
            &settings,
            client_id,
            host.clone(),
            port,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ));
    }
    Ok(tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
        for c in connections {
            let _ = c.await;
        }
    }))
}

/// One connection: the poll, handler and ack tasks.
fn connect(
    ingest: Ingest,
    settings: &MqttSettings,
    client_id: String,
    host: String,
    port: u16,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_keep_alive(Duration::from_secs(30))
        .set_clean_start(false)
        // The broker keeps the session (and unacknowledged messages) across a restart.
        .set_session_expiry_interval(Some(settings.session_expiry_secs))
        .set_manual_acks(true)
        .set_receive_maximum(Some(u16::MAX))
        // Larger messages are refused by us and counted, not by the connection.
        .set_max_packet_size(Some((4 * MAX_PAYLOAD) as u32))
        .set_request_channel_capacity(CHANNEL);
    let (client, mut eventloop) = AsyncClient::new(opts, CHANNEL);
    let (msg_tx, msg_rx) = mpsc::channel::<Publish>(CHANNEL);
    let (ack_tx, ack_rx) = mpsc::channel::<(Publish, Option<Pending>)>(CHANNEL);
    let filter = settings.filter();
    let q = qos(settings.qos);

    let handler = tokio::spawn(handle(
        ingest.clone(),
        settings.topic_prefix.clone(),
        msg_rx,
        ack_tx,
    ));
    let acker = tokio::spawn(ack(client.clone(), ack_rx));
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                event = eventloop.poll() => match event {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        failures = 0;
                        if msg_tx.send(p).await.is_err() {
                            break;
                        }
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        failures = 0;
                        tracing::info!(filter = %filter, "MQTT connected; subscribing");
                        // Never from the poll task itself (it would wait on its own channel).
                        let c = client.clone();
                        let f = filter.clone();
                        tokio::spawn(async move {
                            if let Err(e) = c.subscribe(f, q).await {
                                tracing::error!(error = %e, "MQTT subscribe failed");
                            }
                        });
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures.is_multiple_of(30) {
                            tracing::warn!(error = %e, failures, "MQTT connection lost; reconnecting");
                        }
                        tokio::time::sleep(Duration::from_millis(500 * u64::from(failures.min(4)))).await;
                    }
                }
            }
        }
        let _ = client.disconnect().await;
        drop(msg_tx);
        let _ = handler.await;
        let _ = acker.await;
    })
}

async fn handle(
    ingest: Ingest,
    prefix: String,
    mut rx: mpsc::Receiver<Publish>,
    ack_tx: mpsc::Sender<(Publish, Option<Pending>)>,
) {
    let monitoring = ingest.monitoring().clone();
    let window = monitoring.settings().window;
    while let Some(p) = rx.recv().await {
        let topic = String::from_utf8_lossy(&p.topic).into_owned();
        let pending = match device_of_topic(&prefix, &topic) {
            None => {
                ingest.count_rejects(&[(0, cityops_domain::monitoring::RejectReason::Malformed)]);
                None
            }
            Some(device) => {
                let registry = monitoring.registry();
                let parsed = parse_mqtt(
                    &registry,
                    device,
                    &p.payload,
                    monitoring.clock().now(),
                    &window,
                );
                ingest.count_rejects(&parsed.rejected);
                if !parsed.rejected.is_empty() {
                    tracing::debug!(device, rejected = ?parsed.rejected, "readings rejected");
                }
                if parsed.readings.is_empty() {
                    None
                } else {
                    match ingest.submit(parsed.readings).await {
                        Ok(p) => Some(p),
                        Err(e) => {
                            tracing::warn!(device, error = %e, "readings not queued");
                            continue;
                        }
                    }
                }
            }
        };
        if ack_tx.send((p, pending)).await.is_err() {
            break;
        }
    }
}

async fn ack(client: AsyncClient, mut rx: mpsc::Receiver<(Publish, Option<Pending>)>) {
    while let Some((p, pending)) = rx.recv().await {
        let stored = match pending {
            // Nothing to store (all rejected): acknowledged, or it would come back forever.
            None => true,
            Some(pending) => match pending.stored().await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "a message's readings were not stored; not acknowledged");
                    false
                }
            },
        };
        if stored && let Err(e) = client.ack(&p).await {
            tracing::warn!(error = %e, "MQTT acknowledgement failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            host_port("mqtt://127.0.0.1:1883"),
            Ok(("127.0.0.1".into(), 1883))
        );
        assert_eq!(host_port("mqtt://broker"), Ok(("broker".into(), 1883)));
        assert!(host_port("http://x").is_err());
        assert!(host_port("mqtt://x:y").is_err());
        let s = MqttSettings::new("mqtt://127.0.0.1", "a");
        assert_eq!(s.filter(), "$share/cityops/cityops/telemetry/+");
    }
}
