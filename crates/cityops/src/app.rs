//! Wiring: which store a URL opens, how the demo city is created, how the server starts.
use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use cityops_domain::{RegionLevel, SystemClock};
use cityops_geo::RegionIndex;
use cityops_seed::{DemoCity, demo, import as parse};
use cityops_store::{ImportBatch, NewUser, Store};
use cityops_store_postgres::PgStore;
use cityops_store_sqlite::SqliteStore;
use cityops_web::{AppState, WebConfig};

use crate::config::Config;
use crate::{ImportCommand, UserAddArgs};

/// Meta key that marks a database holding the demo city (value: the city, e.g. `huizhou`).
pub const DEMO_CITY_KEY: &str = "demo_city";

pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Hides the password of a database URL for printing.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Opens the store the URL's scheme names.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let s = SqliteStore::connect(url)
            .await
            .with_context(|| format!("opening {}", redact(url)))?;
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = PgStore::connect(url)
            .await
            .with_context(|| format!("connecting to {}", redact(url)))?;
        Ok(Arc::new(s))
    } else {
        bail!(
            "unsupported database URL {:?}: use sqlite://file.db or postgres://…",
            redact(url)
        )
    }
}

/// The evidence directory of a demo database: beside an SQLite file (`demo.db` →
/// `demo-evidence/`), so that the demo's photos live and go with its database; `None` for
/// other URLs (the configured directory is used).
pub fn evidence_dir_beside(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    let path = std::path::Path::new(path);
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    Some(path.with_file_name(format!("{stem}-evidence")))
}

/// Creates the demo city on first run; reuses it afterwards.
pub async fn ensure_demo(
    store: &dyn Store,
    city: DemoCity,
    seed: u64,
    cases_per_day: u32,
    evidence_dir: &std::path::Path,
    accounts_file: &std::path::Path,
) -> anyhow::Result<()> {
    if let Some(existing) = store.get_meta(DEMO_CITY_KEY).await? {
        if existing != city.to_string() {
            bail!(
                "this database already holds the demo city {existing}; use another --db for {city}"
            );
        }
        tracing::info!(city = %existing, "reusing the demo city");
        return Ok(());
    }
    if store.stats().await?.regions > 0 {
        bail!(
            "this database already holds data that is not the demo city; use another --db for the demo"
        );
    }
    let started = Instant::now();
    let hash = tokio::task::spawn_blocking(|| cityops_web::password::hash("cityops-demo")).await?;
    let opts = demo::DemoOptions {
        city,
        seed,
        ..demo::DemoOptions::for_city(city)
    };
    let batch = tokio::task::spawn_blocking(move || demo::build_demo(&opts, &hash)).await??;
    // The full account list (the banner shows the main accounts only); before the database is
    // written, so that a directory we cannot write to leaves no half-made demo behind.
    cityops_seed::accounts::write_accounts_file(&batch, accounts_file)
        .with_context(|| format!("writing the demo account list {}", accounts_file.display()))?;
    let built = started.elapsed();
    let summary = store
        .apply_import(&batch)
        .await
        .context("writing the demo city")?;
    let written = started.elapsed();
    let history = demo_history(store, city, seed, cases_per_day, batch, evidence_dir)
        .await
        .context("writing the demo case history")?;
    store.set_meta(DEMO_CITY_KEY, &city.to_string()).await?;
    tracing::info!(
        regions = summary.regions,
        departments = summary.departments,
        users = summary.users,
        components = summary.components,
        cases = history.cases,
        case_events = history.events,
        build_ms = built.as_millis() as u64,
        write_ms = (written - built).as_millis() as u64,
        history_build_ms = history.build_ms,
        history_write_ms = history.write_ms,
        total_ms = started.elapsed().as_millis() as u64,
        "demo city created"
    );
    Ok(())
}

/// The demo city's monitoring devices and the default alarm rules, registered once (also in a
/// demo database made before monitoring existed).
pub async fn ensure_demo_monitoring(state: &AppState, city: DemoCity) -> anyhow::Result<()> {
    let Some(ingest) = &state.ingest else {
        return Ok(());
    };
    let monitoring = ingest.monitoring();
    let rules = monitoring
        .seed_rules(&cityops_domain::monitoring::rules::default_rules())
        .await?;
    if !monitoring.registry().is_empty() {
        return Ok(());
    }
    let admin = state
        .store
        .credentials("admin")
        .await?
        .context("the demo's admin account")?
        .user;
    let records = cityops_seed::devices::demo_devices(city);
    let (added, _) = monitoring.import_devices(&admin, records).await?;
    tracing::info!(devices = added, rules, "demo monitoring devices registered");
    Ok(())
}

/// The demo city's main roads as street lines (门前三包 default zones face the nearest).
fn demo_streets(city: DemoCity) -> Vec<cityops_app::objects::StreetLine> {
    cityops_seed::devices::main_roads(city)
        .into_iter()
        .map(|(name, pts)| cityops_app::objects::StreetLine {
            name: name.to_string(),
            points: pts
                .into_iter()
                .map(|(lng, lat)| cityops_domain::LngLat { lng, lat })
                .collect(),
        })
        .collect()
}

/// A handful of management objects (一码管全域) of the demo's responsible party `shop1` along the
/// first main roads, so the phone's self-check has something; created once (also in a demo
/// database made before objects existed, when it has `shop1`).
pub async fn ensure_demo_objects(state: &AppState, city: DemoCity) -> anyhow::Result<()> {
    let store = &state.store;
    let Some(shop1) = store.credentials("shop1").await? else {
        tracing::info!("no demo account shop1 (a database made before issue 14): no demo objects");
        return Ok(());
    };
    let mine = cityops_store::ObjectFilter {
        responsible_user_id: Some(shop1.user.id),
        ..Default::default()
    };
    let page = cityops_domain::PageRequest {
        page: 1,
        page_size: 1,
    };
    if store
        .list_objects(&mine, &cityops_store::ObjectScope::everything(), page)
        .await?
        .total
        > 0
    {
        return Ok(());
    }
    let admin = store
        .credentials("admin")
        .await?
        .context("the demo's admin account")?
        .user;
    use cityops_domain::objects::ObjectKind::{Restaurant, StreetShop};
    const SHOPS: [(&str, cityops_domain::objects::ObjectKind); 5] = [
        ("老街肠粉店", Restaurant),
        ("惠民便利店", StreetShop),
        ("客家酿豆腐", Restaurant),
        ("鸿运五金店", StreetShop),
        ("东江鱼档", Restaurant),
    ];
    let inputs = demo_streets(city)
        .into_iter()
        .filter(|s| s.points.len() >= 2)
        .zip(SHOPS)
        .enumerate()
        .map(|(i, (street, (name, kind)))| {
            // On the building line about 17 m north of the road, a third along its first stretch.
            let (a, b) = (street.points[0], street.points[1]);
            let input = cityops_app::objects::ObjectInput {
                code: None,
                kind,
                name: name.to_string(),
                address: format!("{}{}号", street.name, 12 + 2 * i),
                lng: a.lng + (b.lng - a.lng) / 3.0,
                lat: a.lat + (b.lat - a.lat) / 3.0 + 0.000_15,
                crs: None,
                zone: None,
                responsible_name: "陈小明".into(),
                responsible_phone: "13800001234".into(),
                responsible_username: Some("shop1".into()),
                owner_department: None,
            };
            (format!("demo object {}", i + 1), input)
        })
        .collect();
    let created = state.objects.import(&admin, inputs).await?;
    tracing::info!(
        objects = created.len(),
        "demo management objects of shop1 created"
    );
    Ok(())
}

/// The demo's Open311 client application with the published demo key
/// ([`DEMO_OPEN311_KEY`]), registered once (also in a demo database made before Open311
/// existed).
pub async fn ensure_demo_open311(state: &AppState) -> anyhow::Result<()> {
    let hash = cityops_app::open311::key_hash(DEMO_OPEN311_KEY);
    let now = state.clock.now();
    // Looking the key up stamps it as used; a registered key is all we need to know.
    if state
        .store
        .open311_client_by_key(&hash, now)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let admin = state.store.credentials("admin").await?.map(|c| c.user.id);
    match state
        .open311
        .register(
            "演示客户端 (demo Open311 client)",
            "demo",
            DEMO_OPEN311_KEY,
            admin,
        )
        .await
    {
        Ok(client) => {
            tracing::info!(client = client.id, "demo Open311 API key registered");
            Ok(())
        }
        // Registered meanwhile (another process), or revoked by an administrator: keep that.
        Err(cityops_app::ServiceError::Store(cityops_store::StoreError::Conflict(_))) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The demo's published Open311 API key (PRODUCT.md §8).
pub const DEMO_OPEN311_KEY: &str = "cityops-demo-open311-key";

/// The demo city's points of interest (公厕、公园、摊规点、无车区; positions illustrative, see
/// `cityops_seed::pois`), imported once — also into a demo database made before they existed.
pub async fn ensure_demo_pois(state: &AppState, city: DemoCity) -> anyhow::Result<()> {
    let one = cityops_domain::PageRequest {
        page: 1,
        page_size: 1,
    };
    if state.store.list_pois(None, one).await?.total > 0 {
        return Ok(());
    }
    let imports = cityops_seed::pois::demo_pois(city).context("the demo points of interest")?;
    let (added, _) = cityops_app::poi::import_pois(state.store.as_ref(), &state.index, imports)
        .await
        .context("importing the demo points of interest")?;
    tracing::info!(pois = added, "demo points of interest imported");
    Ok(())
}

/// `cityops demo --simulate R`: the telemetry simulator over MQTT beside the demo server, at
/// `rate` readings per second over every active device, for a day (restart the demo for more).
pub async fn spawn_demo_simulator(
    state: &AppState,
    config: &Config,
    rate: f64,
) -> anyhow::Result<()> {
    let Some(settings) = mqtt_settings(config) else {
        bail!("--simulate needs a broker (CITYOPS_MQTT_URL)");
    };
    let devices: Vec<_> = state
        .store
        .all_devices()
        .await?
        .into_iter()
        .filter(|d| d.device.active)
        .map(|d| d.device)
        .collect();
    let n = devices.len();
    let sim = cityops_ingest::simulate::SimConfig {
        rate,
        duration: std::time::Duration::from_secs(24 * 3600),
        per_message: 1,
        target: cityops_ingest::simulate::SimTarget::Mqtt {
            url: settings.url.clone(),
            qos: 1,
        },
        seed: 1,
        events: Default::default(),
    };
    let tz = state.app.config().calendar.tz;
    tokio::spawn(async move {
        match cityops_ingest::simulate::run(sim, devices, tz).await {
            Ok(r) => tracing::info!(
                readings = r.readings,
                errors = r.errors,
                "demo simulator finished"
            ),
            Err(e) => tracing::warn!(error = %e, "demo simulator stopped"),
        }
    });
    println!(
        "  simulating telemetry: {n} devices, {rate} readings/s over {}",
        settings.url
    );
    Ok(())
}

/// Figures of the demo history for the start-up log.
struct DemoHistorySummary {
    cases: u64,
    events: u64,
    build_ms: u64,
    write_ms: u64,
}

/// The demo's working calendar, responsibility matrix, placeholder photos and twelve months of
/// case history (演示历史案件) ending now, generated by driving the case state machine
/// (`cityops_seed::history`) and written in one `import_history` transaction.
async fn demo_history(
    store: &dyn Store,
    city: DemoCity,
    seed: u64,
    cases_per_day: u32,
    batch: ImportBatch,
    evidence_dir: &std::path::Path,
) -> anyhow::Result<DemoHistorySummary> {
    use cityops_domain::Clock as _;
    use cityops_domain::calendar::{WorkingCalendar, parse_calendar_csv};
    use cityops_domain::{PageRequest, Role, page::MAX_PAGE_SIZE};
    use cityops_seed::history;

    let started = Instant::now();
    let now = SystemClock.now();
    let days = parse_calendar_csv(cityops_seed::reference::holidays_csv())
        .context("the embedded holiday schedule")?;
    let by_demo = |summary: &str| cityops_store::ConfigChange::new(None, now, summary);
    store
        .put_calendar_days(&days, &by_demo("demo city: the shipped holiday schedule"))
        .await?;

    // Departments and users as stored: the history refers to them by id.
    let page_req = |page| PageRequest {
        page,
        page_size: MAX_PAGE_SIZE,
    };
    let mut departments = Vec::new();
    for page in 1.. {
        let p = store.list_departments(None, page_req(page)).await?;
        let n = p.items.len();
        departments.extend(p.items);
        if n < MAX_PAGE_SIZE as usize || departments.len() as u64 >= p.total {
            break;
        }
    }
    let mut users = Vec::new();
    for page in 1.. {
        let p = store.list_users(None, None, page_req(page)).await?;
        let n = p.items.len();
        users.extend(p.items);
        if n < MAX_PAGE_SIZE as usize || users.len() as u64 >= p.total {
            break;
        }
    }
    let rules = history::demo_routing_rules(&departments, &batch.categories);
    store
        .replace_routing_rules(
            &rules,
            &by_demo("demo city: the generated responsibility matrix"),
        )
        .await?;

    // Demo site photos (示例现场照片) for reports and the after-photos of `handle`: generated
    // images written through the evidence store like any upload, then recorded.
    let uploader = users
        .iter()
        .find(|u| u.username == "inspector1")
        .or_else(|| users.iter().find(|u| u.has_role(Role::Inspector)))
        .or(users.first())
        .map(|u| u.id)
        .context("the demo city has no users")?;
    let opts = history::HistoryOptions {
        cases_per_day,
        ..history::HistoryOptions::new(seed, now)
    };
    let photos_at = now - chrono::Duration::days(i64::from(opts.days));
    let evidence =
        cityops_evidence::EvidenceStore::new(cityops_evidence::EvidenceConfig::new(evidence_dir))
            .with_context(|| format!("opening the evidence directory {}", evidence_dir.display()))?;
    let stored = tokio::task::spawn_blocking(move || {
        history::demo_photos(history::DEMO_PHOTOS)
            .into_iter()
            .map(|p| evidence.store(&p.bytes).map(|s| (p.file_name, s)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let mut photo_ids = Vec::with_capacity(stored.len());
    for (file_name, p) in &stored {
        let record = cityops_store::NewAttachment {
            sha256: p.sha256.clone(),
            mime: p.mime.to_string(),
            bytes: i64::try_from(p.bytes)?,
            width: i32::try_from(p.width)?,
            height: i32::try_from(p.height)?,
            thumb_sha256: p.thumb_sha256.clone(),
            uploaded_by: uploader,
            created_at: photos_at,
            file_name: Some(file_name.clone()),
        };
        photo_ids.push(store.create_attachment(&record).await?.id);
    }

    let prepared = started.elapsed();
    let (cases, stats) = tokio::task::spawn_blocking(move || {
        let level = |l: RegionLevel| -> Vec<cityops_domain::Region> {
            batch
                .regions
                .iter()
                .filter(|r| r.level == l && r.geometry.is_some())
                .cloned()
                .collect()
        };
        let index = RegionIndex::build(
            &level(RegionLevel::District),
            &level(RegionLevel::Street),
            &level(RegionLevel::Community),
            &level(RegionLevel::Grid),
        )?;
        let calendar = WorkingCalendar::china_default(days);
        let config = history::demo_workflow_config();
        let input = history::HistoryInput {
            city,
            index: &index,
            departments: &departments,
            users: &users,
            filing_standards: &batch.filing_standards,
            calendar: &calendar,
            config: &config,
            rules: &rules,
            photo_ids: &photo_ids,
        };
        anyhow::Ok(history::build_history_with_stats(&input, &opts))
    })
    .await??;
    if stats.refused > 0 {
        tracing::warn!(
            refused = stats.refused,
            first = stats.first_refusal.as_deref().unwrap_or(""),
            "some demo cases stopped early: the state machine refused a step"
        );
    }
    let built = started.elapsed();
    store.import_history(&cases).await?;
    Ok(DemoHistorySummary {
        cases: stats.cases,
        events: stats.events,
        build_ms: (built - prepared).as_millis() as u64,
        write_ms: (started.elapsed() - built + prepared).as_millis() as u64,
    })
}

/// Loads the spatial index from the store and builds the server state.
pub async fn build_state(
    store: Arc<dyn Store>,
    config: &Config,
    demo_mode: bool,
) -> anyhow::Result<AppState> {
    let index = load_index(store.as_ref()).await?;
    let mut web = web_config(config);
    // The demo city's history was generated with the demo's workflow rules (direct filing of a few
    // categories); live reports follow the same rules unless the configuration names its own.
    if demo_mode && web.workflow.direct_file_categories.is_empty() {
        web.workflow.direct_file_categories =
            cityops_seed::history::demo_workflow_config().direct_file_categories;
    }
    // The demo city answers Open311's `jurisdiction_id` also by a web domain of its own.
    if demo_mode
        && web.open311.jurisdictions.is_empty()
        && let Some(city) = store.get_meta(DEMO_CITY_KEY).await?
    {
        web.open311.jurisdictions = vec![format!("{city}.gov.cn")];
    }
    // 门前三包: the demo city's main roads are the street lines default zones face.
    if let Some(city) = store.get_meta(DEMO_CITY_KEY).await?
        && let Ok(city) = city.parse::<DemoCity>()
    {
        web.objects.streets = demo_streets(city);
    }
    // No silent fallback: photos in a temporary directory would vanish with the next reboot.
    cityops_web::open_evidence(&web).with_context(|| {
        format!(
            "the evidence directory {} must exist or be creatable, and be writable \
             (set CITYOPS_EVIDENCE_DIR)",
            web.evidence_dir.display()
        )
    })?;
    let state = AppState::load(
        store,
        Arc::new(index),
        Arc::new(SystemClock),
        web,
        demo_mode,
    )
    .await?;
    Ok(state)
}

/// The server configuration from the file/environment configuration.
pub fn web_config(config: &Config) -> WebConfig {
    let defaults = WebConfig::default();
    WebConfig {
        session_ttl_hours: config.session_ttl_hours,
        login_free_failures: config.login_free_failures,
        login_free_failures_per_ip: config.login_free_failures_per_ip,
        login_max_delay_secs: config.login_max_delay_secs,
        login_per_minute_per_ip: config.login_per_minute_per_ip,
        secure_cookies: config.secure_cookies,
        // Validated when the configuration was loaded.
        trusted_proxies: config.trusted_proxies().unwrap_or_default(),
        public_origin: config
            .public_origin
            .clone()
            .filter(|o| !o.trim().is_empty()),
        metrics_token: config
            .metrics_token
            .clone()
            .filter(|t| !t.trim().is_empty()),
        evidence_dir: std::path::PathBuf::from(&config.evidence_dir),
        max_upload_bytes: config.max_upload_bytes,
        max_photos: config.max_photos,
        watcher_interval_secs: config.watcher_interval_secs,
        cache_check_millis: config.cache_check_millis,
        session_cache_millis: config.session_cache_millis,
        webhook_url: config.webhook_url.clone().filter(|u| !u.trim().is_empty()),
        duplicate: cityops_domain::case::duplicate::DuplicateRule {
            radius_m: config.duplicate_radius_m,
            window_hours: config.duplicate_window_hours,
        },
        duplicate_index: cityops_app::duplicates::DuplicateIndexConfig {
            catch_up: std::time::Duration::from_millis(config.duplicate_catch_up_millis),
            max_entries: config.duplicate_index_max,
        },
        calendar: cityops_domain::CalendarConfig {
            yellow_ratio: config.yellow_ratio,
            ..defaults.calendar.clone()
        },
        workflow: cityops_domain::case::WorkflowConfig {
            direct_file_categories: config.direct_file_categories.clone(),
            ..defaults.workflow.clone()
        },
        report_limits: cityops_app::ReportLimits {
            staff_per_minute: config.report_rate_per_minute,
            citizen_per_minute: config.citizen_report_rate_per_minute,
            citizen_per_address_per_minute: config.citizen_report_rate_per_address,
            open311_per_key_per_minute: config.open311_rate_per_key,
        },
        expensive_per_user: config.expensive_per_user,
        public_lookups_per_minute: config.public_lookups_per_minute,
        map_tile_url: config.map_tile_url.clone().filter(|u| !u.trim().is_empty()),
        evaluation: cityops_app::evaluation::EvaluationSettings {
            evaluation: config.evaluation.clone(),
            city_index: config.city_index.clone(),
        },
        review: config.review(),
        reports: config.reports.clone(),
        reports_interval_secs: config.reports_interval_secs,
        monitoring: config.monitoring.settings(),
        open311: config.open311.clone(),
        objects: config.objects.settings(),
        ..defaults
    }
}

pub async fn load_index(store: &dyn Store) -> anyhow::Result<RegionIndex> {
    let started = Instant::now();
    let districts = store.regions_with_geometry(RegionLevel::District).await?;
    let streets = store.regions_with_geometry(RegionLevel::Street).await?;
    let communities = store.regions_with_geometry(RegionLevel::Community).await?;
    let grids = store.regions_with_geometry(RegionLevel::Grid).await?;
    let index = tokio::task::spawn_blocking(move || {
        RegionIndex::build(&districts, &streets, &communities, &grids)
    })
    .await?
    .context("building the spatial index")?;
    tracing::info!(
        grids = index.grid_count(),
        ms = started.elapsed().as_millis() as u64,
        "spatial index built"
    );
    Ok(index)
}

pub fn print_banner(config: &Config, city: DemoCity, serving: bool) {
    println!();
    println!(
        "CityOps 城市运行管理服务平台 — demo city {} ({})",
        city.name_zh(),
        city
    );
    println!("  database: {}", redact(&config.database_url));
    if serving {
        println!("  open:     http://{}/", config.listen);
        println!("  API docs: http://{}/api/docs", config.listen);
    }
    println!("  demo accounts (password: cityops-demo):");
    let accounts = demo::demo_accounts(city);
    // Street-office handlers are one per street: list the first few, then say how they are named.
    let (streets, others): (Vec<_>, Vec<_>) = accounts.iter().partition(|(u, _)| {
        u.strip_prefix("handler_")
            .is_some_and(|s| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()))
    });
    for (user, label) in &others {
        println!("    {user:<28} {label}");
    }
    for (user, label) in streets.iter().take(3) {
        println!("    {user:<28} {label}");
    }
    if streets.len() > 3 {
        println!(
            "    … and {} more street-office handlers: handler_<9-digit street code>",
            streets.len() - 3
        );
    }
    let list = cityops_seed::accounts::accounts_file(&config.database_url);
    if list.exists() {
        println!(
            "  all demo accounts (roles, department, patrol area): {}",
            list.display()
        );
    }
    println!(
        "  Open311 API key: {DEMO_OPEN311_KEY} (http://{}/open311/v2/discovery.json)",
        config.listen
    );
    println!();
}

pub async fn serve(
    state: AppState,
    config: &Config,
    demo_city: Option<DemoCity>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    if let Some(city) = demo_city {
        print_banner(config, city, true);
    } else {
        println!("CityOps serving on http://{}/", listener.local_addr()?);
    }
    let pages = cityops_ui::router(state.clone());
    // The deadline watcher (超时监控) and the cache check run beside the server and stop with it.
    let (stop_tasks, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let watcher = cityops_app::watcher::spawn(
        state.app.clone(),
        std::time::Duration::from_secs(state.config.watcher_interval_secs),
        until_stopped(),
    );
    let refresh = cityops_app::spawn_refresh(
        state.app.clone(),
        std::time::Duration::from_millis(state.config.cache_check_millis),
        until_stopped(),
    );
    // 报表: the daily briefing, weekly and monthly reports, produced when due.
    let reports = cityops_app::report::spawn(
        state.app.clone(),
        std::time::Duration::from_secs(state.config.reports_interval_secs),
        until_stopped(),
    );
    // The evaluation's usual periods, read once in the background (the first 综合评价 after a
    // start then finds them kept).
    let warm = state.app.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_evaluation().await {
            tracing::warn!(error = %e, "warming the evaluation's periods failed");
        }
    });
    // 运行监测: readings from the broker (a shared subscription), reminders and retention.
    let (mqtt, upkeep) = match &state.ingest {
        Some(ingest) => {
            let mqtt = match mqtt_settings(config) {
                Some(settings) => {
                    tracing::info!(url = %settings.url, client = %settings.client_id, filter = %settings.filter(), "MQTT ingest");
                    Some(
                        cityops_ingest::mqtt::spawn(ingest.clone(), settings, until_stopped())
                            .map_err(anyhow::Error::msg)?,
                    )
                }
                None => None,
            };
            let upkeep = cityops_app::monitoring::spawn_upkeep(
                ingest.monitoring().clone(),
                std::time::Duration::from_secs(config.monitoring.upkeep_interval_secs),
                until_stopped(),
            );
            (mqtt, upkeep)
        }
        None => (None, None),
    };
    // 一码管全域: the 三教而罚 ladder (notices on the working calendar, hand-over to enforcement).
    let ladder = cityops_app::objects::spawn_upkeep(state.objects.clone(), until_stopped());
    let app = state.app.clone();
    let served = cityops_web::serve_with(listener, state, pages, shutdown_signal()).await;
    let _ = stop_tasks.send(true);
    for task in [watcher, refresh, reports, mqtt, upkeep, ladder]
        .into_iter()
        .flatten()
    {
        let _ = task.await;
    }
    // Deliver what the outbound queue still holds before the process ends.
    app.shutdown(std::time::Duration::from_secs(10)).await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Logs in to a CityOps server over HTTP: the session token.
pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let url = format!("{}/api/v1/auth/login", base.trim_end_matches('/'));
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("login as {username} at {base}: {status} {body}");
    }
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("the login answer has no token")
}

/// The MQTT ingest settings, or `None` when no broker is configured.
pub fn mqtt_settings(config: &Config) -> Option<cityops_ingest::mqtt::MqttSettings> {
    let url = config.mqtt_url.trim();
    if url.is_empty() {
        return None;
    }
    let client_id = config.mqtt_client_id.clone().unwrap_or_else(|| {
        let listen: String = config
            .listen
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("cityops-{listen}")
    });
    Some(cityops_ingest::mqtt::MqttSettings {
        url: url.to_string(),
        client_id,
        group: config.mqtt_group.clone(),
        topic_prefix: format!("{}/", config.mqtt_topic.trim().trim_end_matches('/')),
        qos: config.mqtt_qos.min(1),
        connections: config.mqtt_connections.clamp(1, 64),
        session_expiry_secs: config.mqtt_session_expiry_secs,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

pub async fn import(cmd: ImportCommand, config: &Config) -> anyhow::Result<()> {
    let (file, db) = match &cmd {
        ImportCommand::Pois(a) => return import_pois(a, config).await,
        ImportCommand::Divisions(a) => (&a.file, &a.db),
        ImportCommand::Boundaries(a) | ImportCommand::Grids(a) | ImportCommand::Components(a) => {
            (&a.file, &a.db)
        }
    };
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let mut batch = ImportBatch::default();
    match &cmd {
        ImportCommand::Divisions(_) => {
            batch.regions = parse::parse_divisions_csv(&text).with_context(|| name.clone())?
        }
        ImportCommand::Boundaries(a) => {
            batch.regions = parse::parse_boundaries_geojson(&text, a.level, a.gcj02)
                .with_context(|| name.clone())?
        }
        ImportCommand::Grids(a) => {
            batch.regions =
                parse::parse_grids_geojson(&text, a.gcj02).with_context(|| name.clone())?
        }
        ImportCommand::Components(a) => {
            let lower = name.to_ascii_lowercase();
            batch.components = if lower.ends_with(".csv") {
                parse::parse_components_csv(&text)
            } else {
                parse::parse_components_geojson(&text, a.gcj02)
            }
            .with_context(|| name.clone())?;
        }
        ImportCommand::Pois(_) => {}
    }
    let url = db.db.clone().unwrap_or_else(|| config.database_url.clone());
    let store = open_store(&url).await?;
    store.migrate().await?;
    if !batch.components.is_empty() {
        assign_grids(store.as_ref(), &mut batch).await?;
    }
    let summary = store
        .apply_import(&batch)
        .await
        .with_context(|| format!("importing {name}: nothing was written"))?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

/// `cityops import pois FILE [--gcj02]`: points of interest (公厕、公园、摊规点、无车区) from CSV
/// or GeoJSON (by extension), located in the city and written in one transaction — a bad line or
/// feature, or a point outside the city, writes nothing. Prints `{"added","replaced"}`.
async fn import_pois(args: &crate::ImportPoiFile, config: &Config) -> anyhow::Result<()> {
    use cityops_domain::poi::{PoiCrs, parse_pois_csv, parse_pois_geojson};
    let name = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {name}"))?;
    let crs = if args.gcj02 {
        PoiCrs::Gcj02
    } else {
        PoiCrs::Wgs84
    };
    let imports = if name.to_ascii_lowercase().ends_with(".csv") {
        parse_pois_csv(&text, crs)
    } else {
        parse_pois_geojson(&text, crs)
    }
    .with_context(|| name.clone())?;
    let url = args
        .db
        .db
        .clone()
        .unwrap_or_else(|| config.database_url.clone());
    let store = open_store(&url).await?;
    store.migrate().await?;
    let index = load_index(store.as_ref()).await?;
    let (added, replaced) = cityops_app::poi::import_pois(store.as_ref(), &index, imports)
        .await
        .with_context(|| format!("importing {name}: nothing was written"))?;
    println!(
        "{}",
        serde_json::json!({"added": added, "replaced": replaced})
    );
    Ok(())
}

/// Components imported without a grid code get the grid and community that `locate` finds.
async fn assign_grids(store: &dyn Store, batch: &mut ImportBatch) -> anyhow::Result<()> {
    if batch.components.iter().all(|c| c.grid_code.is_some()) {
        return Ok(());
    }
    let index = load_index(store).await?;
    for c in batch
        .components
        .iter_mut()
        .filter(|c| c.grid_code.is_none())
    {
        if let Some(loc) = index.locate(c.lng, c.lat).map(|l| l.into_owned()) {
            c.grid_code = loc.grid_code;
            if c.community_code.is_none() {
                c.community_code = loc.community_code;
            }
        }
    }
    Ok(())
}

pub async fn user_add(args: UserAddArgs, config: &Config) -> anyhow::Result<()> {
    let password = match std::env::var(&args.password_env) {
        Ok(p) => p,
        Err(_) => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("password for {}: ", args.username);
            }
            let mut line = String::new();
            stdin.lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let name = args.name.clone().unwrap_or_default();
    if let Err(why) = cityops_web::password::check_new(&password, &args.username, &[&name]) {
        bail!("refused: {why}");
    }
    if let Some(r) = &args.region {
        cityops_domain::RegionCode::parse(r)?;
    }
    let url = args
        .db
        .db
        .clone()
        .unwrap_or_else(|| config.database_url.clone());
    let store = open_store(&url).await?;
    store.migrate().await?;
    let hash = tokio::task::spawn_blocking(move || cityops_web::password::hash(&password)).await?;
    let user = store
        .create_user(&NewUser {
            username: args.username.clone(),
            display_name: args.name.clone().unwrap_or_else(|| args.username.clone()),
            password_hash: hash,
            roles: args.role.clone(),
            region_code: args.region.clone(),
            department_code: args.department.clone(),
            grids: vec![],
        })
        .await
        .with_context(|| format!("creating user {}", args.username))?;
    println!(
        "created user {} (id {}) with roles {:?}",
        user.username, user.id, user.roles
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://cityops-demo.db"),
            "sqlite://cityops-demo.db"
        );
    }
}
