//! Configuration: built-in defaults, then a TOML file (`--config`), then `CITYOPS_*` environment
//! variables, then command-line flags.
use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://…` or `postgres://…` (CITYOPS_DATABASE_URL).
    pub database_url: String,
    /// Address to listen on (CITYOPS_LISTEN).
    pub listen: String,
    /// Session and token lifetime in hours.
    pub session_ttl_hours: i64,
    /// Logins allowed per minute per client address and per username.
    pub login_per_minute: u32,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// MQTT broker for telemetry (CITYOPS_MQTT_URL); used by the monitoring work.
    pub mqtt_url: String,
    /// `tracing` filter, e.g. `info,cityops_web=debug` (CITYOPS_LOG).
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://cityops.db".into(),
            listen: "127.0.0.1:8080".into(),
            session_ttl_hours: 12,
            login_per_minute: 10,
            secure_cookies: false,
            mqtt_url: "mqtt://127.0.0.1:1883".into(),
            log: "info".into(),
        }
    }
}

impl Config {
    /// Loads defaults ← TOML file (when given) ← `CITYOPS_*` environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.exists(),
                "config file {} does not exist",
                path.display()
            );
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("CITYOPS_"));
        fig.extract().context("invalid configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Error is what Jail's closure returns
    fn file_then_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "listen = \"0.0.0.0:9000\"\nsession_ttl_hours = 4\n",
            )?;
            jail.set_env("CITYOPS_DATABASE_URL", "postgres://x@127.0.0.1/db");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.session_ttl_hours, 4);
            assert_eq!(c.database_url, "postgres://x@127.0.0.1/db");
            assert_eq!(c.login_per_minute, 10);
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        assert!(Config::load(Some(Path::new("/nonexistent/cityops.toml"))).is_err());
    }
}
