//! What the binary's end-to-end tests share: the built binary, a free port, a server process
//! (killed when dropped), JSON over HTTP, logins, a scratch directory.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cityops"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn cityops(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("CITYOPS_LOG", "warn")
        .env_remove("CITYOPS_DATABASE_URL")
        .output()
        .expect("run cityops")
}

/// Spawns the binary with `args` (plus `--listen` on a free port) and waits until /healthz
/// answers (bounded: a first demo run builds the city).
pub async fn spawn_server(
    args: &[&str],
    dir: &std::path::Path,
    envs: &[(&str, &std::ffi::OsStr)],
) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(bin())
        .args(args)
        .args(["--listen", &listen])
        .current_dir(dir)
        .env("CITYOPS_LOG", "warn")
        // The crash test sends bursts of reports from four inspectors: no report quota here.
        .env("CITYOPS_REPORT_RATE_PER_MINUTE", "0")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cityops");
    let mut server = Server {
        child,
        base: format!("http://{listen}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..1200 {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("cityops {args:?} exited early: {status}");
        }
        if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("cityops {args:?} did not come up within 300 s");
}

pub async fn get(client: &reqwest::Client, url: String, token: Option<&str>) -> (u16, Value) {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn login(c: &reqwest::Client, base: &str, username: &str) -> String {
    let r: Value = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "cityops-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().expect("token").to_string()
}

pub fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cityops-e2e-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
