//! `serve` on a real socket: answers over TCP, passes the client address to handlers, and shuts
//! down gracefully when told to.
mod common;

use std::sync::Arc;

use cityops_domain::{Clock, ManualClock};
use cityops_web::{AppState, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test]
async fn serves_on_a_socket_and_shuts_down_gracefully() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(common::start_time()));
    let config = WebConfig {
        login_per_minute_per_ip: 2,
        ..WebConfig::default()
    };
    let state = AppState::load(common::store().await, common::index(), clock, config, false)
        .await
        .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cityops_web::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let health = http(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    let locate =
        http(addr, "GET /api/v1/locate?lng=114.41&lat=23.09 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert!(locate.contains(common::GRID_NW), "{locate}");

    // The per-address login limit sees the real peer address (127.0.0.1): 2 per minute.
    let body = r#"{"username":"nobody","password":"x"}"#;
    let login = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert!(http(addr, &login).await.starts_with("HTTP/1.1 401"));
    assert!(http(addr, &login).await.starts_with("HTTP/1.1 401"));
    let limited = http(addr, &login).await;
    assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
    assert!(
        limited.to_ascii_lowercase().contains("retry-after: 30"),
        "{limited}"
    );

    stop.send(()).unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("stops in time");
    result.expect("task").expect("serve returns Ok");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
