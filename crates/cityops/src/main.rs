//! `cityops` — the city operation management service platform (城市运行管理服务平台).
//!
//! One binary: `demo`, `serve`, `migrate`, `import …`, `user add`, `check`, `openapi`. The database URL
//! (`sqlite://…` or `postgres://…`) picks the store.

mod app;
mod check;
mod config;
mod demo_objects;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use cityops_seed::DemoCity;
use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "cityops",
    version,
    about = "CityOps — city operation management service platform (城市运行管理服务平台)"
)]
struct Cli {
    /// TOML configuration file; `CITYOPS_*` environment variables override it.
    #[arg(long, global = true, env = "CITYOPS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the demo city in an embedded SQLite file (first run) and serve it.
    Demo(DemoArgs),
    /// Serve the platform (migrates the database first).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(DbArgs),
    /// Import reference data; a failed import writes nothing.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the evidence photos: every recorded photo and thumbnail is in the evidence directory
    /// and matches its SHA-256; lists each missing or altered file with its attachment and case,
    /// and exits with status 1 when there is any.
    Check(CheckArgs),
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Publish realistic telemetry of the database's devices (diurnal construction noise, a rain
    /// event raising drainage levels, a gas leak, devices going offline) over MQTT or HTTP, so
    /// that the demo's monitoring pages move; also the load generator of `bench/ingest.sh`.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// Devices to simulate (spread over the registry); 0 = all.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Readings per second in total.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// How long, in seconds.
    #[arg(long, default_value_t = 300)]
    duration: u64,
    /// Readings per MQTT message or HTTP batch (1: one reading per message).
    #[arg(long, default_value_t = 1)]
    per_message: usize,
    /// Publish to this broker (default: the configured `mqtt_url`).
    #[arg(long)]
    mqtt: Option<String>,
    /// MQTT QoS (0 or 1).
    #[arg(long, default_value_t = 1)]
    qos: u8,
    /// Post HTTP batches to this server (`http://127.0.0.1:8080`) instead of MQTT, as `--user`.
    #[arg(long)]
    http: Option<String>,
    /// The gateway account for `--http` (its password from `CITYOPS_SIMULATE_PASSWORD`, default
    /// the demo password).
    #[arg(long, default_value = "gateway")]
    user: String,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Without the rain event, the gas leaks and the offline devices: normal values only.
    #[arg(long)]
    quiet: bool,
    /// Leave out devices of these types (comma separated), e.g. while another tool drives them.
    #[arg(long, value_delimiter = ',')]
    exclude_type: Vec<cityops_domain::monitoring::DeviceType>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The evidence directory; overrides the configuration (`CITYOPS_EVIDENCE_DIR`; a demo
    /// database's photos are beside its file, as `demo` keeps them).
    #[arg(long)]
    evidence_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DbArgs {
    /// Database URL (`sqlite://file.db` or `postgres://…`); overrides the configuration.
    #[arg(long)]
    db: Option<String>,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Which demo city: huizhou, xiamen or bozhou.
    #[arg(long, default_value = "huizhou")]
    city: DemoCity,
    /// Database URL.
    #[arg(long, default_value = "sqlite://cityops-demo.db")]
    db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seed of the demo generator (same seed, same city).
    #[arg(long, default_value_t = cityops_seed::demo::DEFAULT_SEED)]
    seed: u64,
    /// Build and load the demo data, then exit without serving.
    #[arg(long)]
    no_serve: bool,
    /// Average reports a day in the generated year of history (default 200, about 73,000 cases;
    /// 2,740 gives about a million, as the evaluation benchmark uses).
    #[arg(long, default_value_t = cityops_seed::history::DEFAULT_CASES_PER_DAY)]
    cases_per_day: u32,
    /// Also run the telemetry simulator against the configured broker while serving (this many
    /// readings per second over every device: noise, a rain event, gas leaks, devices going
    /// offline), so that the monitoring pages move. 0 = off.
    #[arg(long, default_value_t = 0.0)]
    simulate: f64,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[arg(long)]
    db: Option<String>,
    /// Address to listen on; overrides the configuration.
    #[arg(long)]
    listen: Option<String>,
    /// Serve a demo database (its accounts share a published password).
    #[arg(long)]
    allow_demo_accounts: bool,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Administrative divisions CSV (level,code,name,parent_code).
    Divisions(ImportFile),
    /// Boundaries GeoJSON (Polygon/MultiPolygon features with a `code` property), any level.
    Boundaries(ImportGeoFile),
    /// Unit grids GeoJSON (15-digit `code`).
    Grids(ImportGeoFile),
    /// Components CSV or GeoJSON (by extension: .csv, .geojson/.json).
    Components(ImportGeoFile),
    /// Points of interest (公厕、公园、摊规点、无车区) CSV or GeoJSON (by extension: .csv,
    /// .geojson/.json); added, or replaced by type and name.
    Pois(ImportPoiFile),
}

#[derive(Debug, Args)]
struct ImportFile {
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
struct ImportPoiFile {
    file: PathBuf,
    /// Positions without a `crs` column or property are GCJ-02 (web-map coordinates).
    #[arg(long)]
    gcj02: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
struct ImportGeoFile {
    file: PathBuf,
    /// Coordinates are GCJ-02 (web-map coordinates); convert them to WGS84.
    #[arg(long)]
    gcj02: bool,
    /// Region level of the boundaries (default: from the feature or the code length).
    #[arg(long)]
    level: Option<cityops_domain::RegionLevel>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user, e.g. the first administrator.
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
struct UserAddArgs {
    #[arg(long)]
    username: String,
    /// Display name (defaults to the username).
    #[arg(long)]
    name: Option<String>,
    /// Roles, comma separated (admin, intake, supervisor, dispatcher, handler, inspector, leader, reviewer …).
    #[arg(long, value_delimiter = ',', default_value = "admin")]
    role: Vec<cityops_domain::Role>,
    /// Region scope (division code); none = the whole deployment.
    #[arg(long)]
    region: Option<String>,
    /// Department scope (department code).
    #[arg(long)]
    department: Option<String>,
    /// Read the password from this environment variable instead of prompting on stdin.
    #[arg(long, default_value = "CITYOPS_NEW_PASSWORD")]
    password_env: String,
    #[command(flatten)]
    db: DbArgs,
}

async fn simulate(args: SimulateArgs, config: Config) -> anyhow::Result<()> {
    use cityops_ingest::simulate::{SimConfig, SimEvents, SimTarget};
    let url = args.db.db.unwrap_or(config.database_url.clone());
    let store = app::open_store(&url).await?;
    store.migrate().await.context("migrating the database")?;
    let all: Vec<_> = store
        .all_devices()
        .await?
        .into_iter()
        .filter(|d| d.device.active && !args.exclude_type.contains(&d.device.device_type))
        .map(|d| d.device)
        .collect();
    if all.is_empty() {
        bail!(
            "{} holds no active devices (run `cityops demo` or import some)",
            app::redact(&url)
        );
    }
    let n = if args.devices == 0 {
        all.len()
    } else {
        args.devices.min(all.len())
    };
    // Spread over the registry: every k-th device, so each kind is represented.
    let step = all.len() as f64 / n as f64;
    let devices: Vec<_> = (0..n)
        .map(|i| all[((i as f64 * step) as usize).min(all.len() - 1)].clone())
        .collect();
    let target = match &args.http {
        Some(base) => {
            let password = std::env::var("CITYOPS_SIMULATE_PASSWORD")
                .unwrap_or_else(|_| cityops_seed::demo::DEMO_PASSWORD.to_string());
            let token = app::login(base, &args.user, &password).await?;
            SimTarget::Http {
                base_url: base.trim_end_matches('/').to_string(),
                token,
            }
        }
        None => SimTarget::Mqtt {
            url: args.mqtt.clone().unwrap_or(config.mqtt_url.clone()),
            qos: args.qos.min(1),
        },
    };
    let sim = SimConfig {
        rate: args.rate,
        duration: std::time::Duration::from_secs(args.duration),
        per_message: args.per_message.max(1),
        target,
        seed: args.seed,
        events: if args.quiet {
            SimEvents {
                rain: None,
                gas_leaks: 0,
                offline: 0,
                noise_violations: 0,
            }
        } else {
            SimEvents::default()
        },
    };
    println!(
        "simulating {} devices at {} readings/s for {} s, {} per message",
        devices.len(),
        args.rate,
        args.duration,
        sim.per_message
    );
    let tz = cityops_domain::CalendarConfig::default().tz;
    let report = cityops_ingest::simulate::run(sim, devices, tz)
        .await
        .map_err(anyhow::Error::msg)?;
    println!(
        "published {} readings in {} messages in {:.1} s ({:.0} readings/s), {} errors",
        report.readings,
        report.messages,
        report.elapsed.as_secs_f64(),
        report.readings as f64 / report.elapsed.as_secs_f64().max(1e-9),
        report.errors
    );
    Ok(())
}

/// mimalloc instead of glibc's allocator: many small, short-lived allocations per request
/// (JSON, rows, views) on few cores; see docs/PERFORMANCE.md, "Report intake".
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    app::init_tracing(&config.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(cli.command, config))
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => {
            config.database_url = args.db;
            config.listen = args.listen;
            // The demo keeps its photos beside its database unless a directory was configured.
            if config.evidence_dir == Config::default().evidence_dir
                && let Some(dir) = app::evidence_dir_beside(&config.database_url)
            {
                config.evidence_dir = dir.to_string_lossy().into_owned();
            }
            let started = Instant::now();
            let store = app::open_store(&config.database_url).await?;
            store.migrate().await.context("migrating the database")?;
            app::ensure_demo(
                store.as_ref(),
                args.city,
                args.seed,
                args.cases_per_day,
                std::path::Path::new(&config.evidence_dir),
                &cityops_seed::accounts::accounts_file(&config.database_url),
            )
            .await?;
            let state = app::build_state(store, &config, true).await?;
            app::ensure_demo_monitoring(&state, args.city).await?;
            app::ensure_demo_pois(&state, args.city).await?;
            app::ensure_demo_open311(&state).await?;
            app::ensure_demo_objects(&state, args.city).await?;
            demo_objects::ensure_demo_object_city(&state, args.city).await?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "demo city ready"
            );
            if args.no_serve {
                app::print_banner(&config, args.city, false);
                return Ok(());
            }
            if args.simulate > 0.0 {
                app::spawn_demo_simulator(&state, &config, args.simulate).await?;
            }
            app::serve(state, &config, Some(args.city)).await
        }
        Command::Serve(args) => {
            if let Some(db) = args.db {
                config.database_url = db;
            }
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            let store = app::open_store(&config.database_url).await?;
            store.migrate().await.context("migrating the database")?;
            let demo = store.get_meta(app::DEMO_CITY_KEY).await?;
            if demo.is_some() && !args.allow_demo_accounts {
                bail!(
                    "{} holds the demo city, whose accounts share a published password; run `cityops demo --db {}` or pass --allow-demo-accounts",
                    config.database_url,
                    config.database_url
                );
            }
            let state = app::build_state(store, &config, demo.is_some()).await?;
            app::serve(state, &config, None).await
        }
        Command::Migrate(args) => {
            let url = args.db.unwrap_or(config.database_url);
            let store = app::open_store(&url).await?;
            store.migrate().await.context("migrating the database")?;
            println!("migrated {} ({})", app::redact(&url), store.backend());
            Ok(())
        }
        Command::Import(cmd) => app::import(cmd, &config).await,
        Command::User(UserCommand::Add(args)) => app::user_add(args, &config).await,
        Command::Check(args) => {
            let url = args.db.db.unwrap_or(config.database_url);
            let store = app::open_store(&url).await?;
            store.migrate().await.context("migrating the database")?;
            // As `demo` does: a demo database keeps its photos beside its file unless a directory
            // was configured.
            let demo = store.get_meta(app::DEMO_CITY_KEY).await?.is_some();
            let dir = match args.evidence_dir {
                Some(dir) => dir,
                None if demo && config.evidence_dir == Config::default().evidence_dir => {
                    app::evidence_dir_beside(&url)
                        .unwrap_or_else(|| PathBuf::from(&config.evidence_dir))
                }
                None => PathBuf::from(&config.evidence_dir),
            };
            check::run(store.as_ref(), dir).await
        }
        Command::Openapi => {
            println!("{}", cityops_web::openapi_json());
            Ok(())
        }
        Command::Simulate(args) => simulate(args, config).await,
    }
}
