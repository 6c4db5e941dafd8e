//! A client's input cannot forge a log line (issue 9, finding 3): the username of a failed login
//! is logged quoted and escaped. Alone in its test binary: the log is captured with a
//! thread-local subscriber, and tracing's per-callsite interest is process-wide, so other tests
//! running at the same time could otherwise decide it before the subscriber exists.
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;

/// A log sink for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_username_cannot_forge_a_log_line() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // This test's thread only (the current-thread runtime runs the handlers here).
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = app().await;
    let forged =
        "nobody\nFORGED  INFO cityops_web::api::auth: login ip=10.0.0.1 username=admin user_id=1";
    for _ in 0..7 {
        let a = t.login(forged, "x").await;
        assert!(matches!(a.status.as_u16(), 401 | 429), "{}", a.text());
    }
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("login failed"))
        .collect();
    assert_eq!(
        failed.len(),
        6,
        "five free failures, one more, then waits: {text}"
    );
    assert!(
        failed[0].contains(r#"username="nobody\nFORGED  INFO"#),
        "the newline is escaped inside one quoted field: {}",
        failed[0]
    );
    assert!(
        text.lines().any(|l| l.contains("login rate-limited")),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED")),
        "no forged line: {text}"
    );
}
