//! A development server for the console, for working on the pages before the binary serves them:
//!
//! ```text
//! cargo run -p cityops-ui --example demo_server -- --db sqlite://target/ui-demo.db --listen 127.0.0.1:8080
//! ```
//!
//! Like `cityops demo`: creates the demo city (default Huizhou; `--city xiamen|bozhou`) in the
//! SQLite file on first run, reuses it afterwards, and serves the JSON API and the console.
use std::net::SocketAddr;
use std::sync::Arc;

use cityops_domain::{Clock, RegionLevel, SystemClock};
use cityops_geo::RegionIndex;
use cityops_seed::DemoCity;
use cityops_seed::demo::{DemoOptions, build_demo};
use cityops_store::{Admin, ImportRepo, Store};
use cityops_store_sqlite::SqliteStore;
use cityops_web::{AppState, WebConfig};

const DEMO_CITY_KEY: &str = "demo_city";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        ))
        .init();
    let args: Vec<String> = std::env::args().collect();
    let db = arg(&args, "--db").unwrap_or_else(|| "sqlite://target/ui-demo.db".into());
    let listen = arg(&args, "--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    let city: DemoCity = arg(&args, "--city")
        .unwrap_or_else(|| "huizhou".into())
        .parse()?;

    let store = SqliteStore::connect(&db).await?;
    store.migrate().await?;
    if store.get_meta(DEMO_CITY_KEY).await?.is_none() {
        let started = std::time::Instant::now();
        let hash =
            tokio::task::spawn_blocking(|| cityops_web::password::hash("cityops-demo")).await?;
        let opts = DemoOptions::for_city(city);
        let batch = tokio::task::spawn_blocking(move || build_demo(&opts, &hash)).await??;
        store.apply_import(&batch).await?;
        store.set_meta(DEMO_CITY_KEY, city.as_str()).await?;
        println!(
            "demo city {} created in {:.1} s",
            city.name_zh(),
            started.elapsed().as_secs_f64()
        );
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let level = |l| {
        let s = store.clone();
        async move { s.regions_with_geometry(l).await }
    };
    let (d, s, c, g) = (
        level(RegionLevel::District).await?,
        level(RegionLevel::Street).await?,
        level(RegionLevel::Community).await?,
        level(RegionLevel::Grid).await?,
    );
    let index = tokio::task::spawn_blocking(move || RegionIndex::build(&d, &s, &c, &g)).await??;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = AppState::load(store, Arc::new(index), clock, WebConfig::default(), true).await?;
    // The console first; everything else (the API) falls through to the web crate's router.
    let app = cityops_ui::router(state.clone()).fallback_service(cityops_web::router(state));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "CityOps console on http://{}/ (accounts: admin, intake, leader, inspector1 …; password cityops-demo)",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
