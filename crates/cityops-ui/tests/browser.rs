//! The console in a real browser: headless Chromium against the server on a real socket. Skipped
//! (with a notice) when `/usr/bin/chromium` is not installed.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs Chromium headless with `args` (plus the isolating flags) and returns its stdout.
fn chromium(profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("chromium output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_page_renders_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED login_page_renders_in_chromium: {CHROMIUM} is not installed");
        return;
    }
    let t = common::app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, t.app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let dir: PathBuf =
        std::env::temp_dir().join(format!("cityops-ui-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("login.png");
    let (d, b, s) = (dir.clone(), base.clone(), shot.clone());
    let dom = tokio::task::spawn_blocking(move || {
        chromium(
            &d.join("profile-shot"),
            &[
                format!("--screenshot={}", s.display()),
                "--window-size=1920,1080".into(),
                format!("{b}/login"),
            ],
        );
        // A page behind the login: the browser follows the redirect to the login form, and the
        // English page is what JavaScript sees after loading.
        let redirected = chromium(
            &d.join("profile-dom"),
            &["--dump-dom".into(), format!("{b}/map?lang=en")],
        );
        let english = chromium(
            &d.join("profile-en"),
            &["--dump-dom".into(), format!("{b}/login?lang=en")],
        );
        (redirected, english)
    })
    .await
    .unwrap();

    let bytes = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&bytes), (1920, 1080));
    assert!(
        bytes.len() > 20_000,
        "a rendered page, not a blank one: {} bytes",
        bytes.len()
    );

    let (redirected, english) = dom;
    assert!(redirected.contains("id=\"login-form\""), "{redirected}");
    assert!(
        redirected.contains("data-next=\"/map?lang=en\""),
        "{redirected}"
    );
    assert!(english.contains("<html lang=\"en\">"), "{english}");
    assert!(
        english.contains("Username") && english.contains("Password"),
        "{english}"
    );
    assert!(
        english.contains("惠州市"),
        "the city name from the region tree: {english}"
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
