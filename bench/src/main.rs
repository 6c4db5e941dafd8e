//! CityOps benchmarks. Results go to docs/PERFORMANCE.md.
//!
//! `cityops-bench locate [--points N] [--seed S] [--postgres URL] [--pg-point-queries N]`
//!
//! Derives the Huizhou demo city (districts and divisions embedded by cityops-seed, synthetic streets,
//! communities and ≈100 m unit grids from cityops-geo), builds the in-memory `RegionIndex`, and times
//! `locate` on N random points of the core box on one thread (and, beside it, the R-tree-only path the
//! bucket grids replaced, after checking both answer the same for every point). With `--postgres` it then
//! loads the same grid polygons into a fresh PostGIS database (GiST index) and times the same points with
//! `ST_Contains`: one prepared statement per point over one connection, and one set-based query over an
//! `unnest` of all points. Run it through `bench/locate.sh`, which installs PostGIS when missing.
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cityops_domain::{Region, RegionLevel};
use cityops_geo::derive::{DeriveParams, derive_city};
use cityops_geo::{Location, RegionIndex};
use cityops_seed::DemoCity;
use cityops_seed::reference;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{Connection, Executor, PgConnection, Row};

struct Args {
    points: usize,
    seed: u64,
    postgres: Option<String>,
    pg_point_queries: Option<usize>,
}

fn parse_args() -> Result<(String, Args)> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().unwrap_or_default();
    let mut a = Args {
        points: 1_000_000,
        seed: 20_260_101,
        postgres: None,
        pg_point_queries: None,
    };
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--points" => a.points = val()?.parse()?,
            "--seed" => a.seed = val()?.parse()?,
            "--postgres" => a.postgres = Some(val()?),
            "--pg-point-queries" => a.pg_point_queries = Some(val()?.parse()?),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok((cmd, a))
}

/// Runs of the set-based PostGIS query (each takes about a minute for 10⁶ points on the build machine).
const SET_RUNS: usize = 1;

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() -> Result<()> {
    let (cmd, args) = parse_args()?;
    match cmd.as_str() {
        "locate" => locate(&args),
        _ => {
            eprintln!(
                "usage: cityops-bench locate [--points N] [--seed S] [--postgres URL] [--pg-point-queries N]"
            );
            std::process::exit(2);
        }
    }
}

struct City {
    grids: Vec<Region>,
    index: RegionIndex,
}

fn build_huizhou(seed: u64) -> Result<City> {
    let city = DemoCity::Huizhou;
    let t = Instant::now();
    let districts = reference::districts(city);
    let divisions = reference::divisions(city);
    let streets: Vec<Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::Street)
        .cloned()
        .collect();
    let communities: Vec<Region> = divisions
        .iter()
        .filter(|r| r.level == RegionLevel::Community)
        .cloned()
        .collect();
    let t_ref = t.elapsed();
    let t = Instant::now();
    let params = DeriveParams {
        core_bbox: city.core_bbox(),
        cell_size_m: 100.0,
        seed,
    };
    let derived = derive_city(&districts, &streets, &communities, &params)?;
    let t_derive = t.elapsed();
    let t = Instant::now();
    let index = RegionIndex::build(
        &districts,
        &derived.streets,
        &derived.communities,
        &derived.grids,
    )?;
    let t_index = t.elapsed();
    println!(
        "huizhou: reference data {:.0?}; derive_city {:.2?} ({} streets, {} communities, {} grids); RegionIndex::build {:.0?}",
        t_ref,
        t_derive,
        derived.streets.len(),
        derived.communities.len(),
        derived.grids.len(),
        t_index
    );
    Ok(City {
        grids: derived.grids,
        index,
    })
}

fn locate(args: &Args) -> Result<()> {
    let city = build_huizhou(args.seed)?;
    let core = DemoCity::Huizhou.core_bbox();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ 0x10ca7e);
    let points: Vec<(f64, f64)> = (0..args.points)
        .map(|_| {
            (
                core[0] + (core[2] - core[0]) * rng.random::<f64>(),
                core[1] + (core[3] - core[1]) * rng.random::<f64>(),
            )
        })
        .collect();

    println!("index: {}", city.index.describe());
    // Warm-up pass (also the reference answers for the PostGIS comparison).
    let answers: Vec<Option<String>> = points
        .iter()
        .map(|&(x, y)| {
            city.index
                .locate(x, y)
                .and_then(|l| l.grid_code.map(str::to_owned))
        })
        .collect();
    let in_grid = answers.iter().filter(|a| a.is_some()).count();
    // The bucket grids answer what the R-trees answer (all four codes), for every point.
    let differ = points
        .iter()
        .filter(|&&(x, y)| city.index.locate(x, y) != city.index.locate_rtree(x, y))
        .count();
    if differ != 0 {
        bail!("{differ} points located differently by the bucket grids and the R-trees");
    }

    let best = best_of_3(&points, in_grid, |x, y| city.index.locate(x, y));
    let rust_rate = rate(points.len(), best);
    println!(
        "rust RegionIndex::locate: {} points ({} in a grid) in {:.3?} (best of 3) → {:.0} lookups/s on one thread",
        points.len(),
        in_grid,
        best,
        rust_rate
    );
    let tree = best_of_3(&points, in_grid, |x, y| city.index.locate_rtree(x, y));
    println!(
        "rust R-tree path only (the fallback; same answers for all points): {:.3?} (best of 3) → {:.0} lookups/s",
        tree,
        rate(points.len(), tree)
    );

    let Some(url) = &args.postgres else {
        println!("(no --postgres: PostGIS comparison skipped)");
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(postgis(
        url,
        &city.grids,
        &points,
        &answers,
        rust_rate,
        args.pg_point_queries,
    ))
}

/// Best of three timed passes of `locate` over all points (after the caller's warm-up).
fn best_of_3<'a>(
    points: &[(f64, f64)],
    in_grid: usize,
    locate: impl Fn(f64, f64) -> Option<Location<'a>>,
) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut hits = 0usize;
        for &(x, y) in points {
            if let Some(l) = locate(black_box(x), black_box(y)) {
                hits += usize::from(l.grid_code.is_some());
                black_box(&l);
            }
        }
        let d = t.elapsed();
        assert_eq!(hits, in_grid);
        best = best.min(d);
    }
    best
}

fn db_url(server_url: &str, db: &str) -> String {
    match server_url.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{db}", &server_url[..i]),
        _ => format!("{}/{db}", server_url.trim_end_matches('/')),
    }
}

async fn postgis(
    url: &str,
    grids: &[Region],
    points: &[(f64, f64)],
    answers: &[Option<String>],
    rust_rate: f64,
    pg_point_queries: Option<usize>,
) -> Result<()> {
    let db = format!("cityops_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(url)
        .await
        .context("connect to PostgreSQL")?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await?;
    let result = postgis_in(
        &db_url(url, &db),
        grids,
        points,
        answers,
        rust_rate,
        pg_point_queries,
    )
    .await;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
        )))
        .await?;
    result
}

async fn postgis_in(
    url: &str,
    grids: &[Region],
    points: &[(f64, f64)],
    answers: &[Option<String>],
    rust_rate: f64,
    pg_point_queries: Option<usize>,
) -> Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    conn.execute("CREATE EXTENSION postgis")
        .await
        .context("CREATE EXTENSION postgis (is postgresql-15-postgis-3 installed?)")?;
    let version: String = sqlx::query_scalar("SELECT postgis_full_version()")
        .fetch_one(&mut conn)
        .await?;
    println!(
        "postgis: {}",
        version
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    conn.execute(
        "CREATE TABLE grid (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)",
    )
    .await?;

    let t = Instant::now();
    for chunk in grids.chunks(2_000) {
        let codes: Vec<&str> = chunk.iter().map(|g| g.code.as_str()).collect();
        let geoms: Vec<&str> = chunk
            .iter()
            .map(|g| g.geometry.as_deref().unwrap_or(""))
            .collect();
        sqlx::query(
            "INSERT INTO grid (code, geom) \
             SELECT c, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)) FROM unnest($1::text[], $2::text[]) AS t(c, g)",
        )
        .bind(&codes)
        .bind(&geoms)
        .execute(&mut conn)
        .await?;
    }
    conn.execute("CREATE INDEX grid_geom_gist ON grid USING gist (geom)")
        .await?;
    conn.execute("VACUUM ANALYZE grid").await?;
    println!(
        "postgis: loaded {} grids + GiST index in {:.2?}",
        grids.len(),
        t.elapsed()
    );

    // Per-point: one prepared statement (sqlx caches it per connection), one round trip per point.
    let q = "SELECT code FROM grid WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1";
    let n_point = pg_point_queries.unwrap_or(points.len()).min(points.len());
    for &(x, y) in points.iter().take(1_000) {
        let _: Option<String> = sqlx::query_scalar(q)
            .bind(x)
            .bind(y)
            .fetch_optional(&mut conn)
            .await?;
    }
    let t = Instant::now();
    let mut mismatch_point = 0usize;
    for (i, &(x, y)) in points.iter().take(n_point).enumerate() {
        let code: Option<String> = sqlx::query_scalar(q)
            .bind(x)
            .bind(y)
            .fetch_optional(&mut conn)
            .await?;
        if code != answers[i] {
            mismatch_point += 1;
        }
    }
    let d_point = t.elapsed();
    let pg_point_rate = rate(n_point, d_point);
    println!(
        "postgis per-point (prepared ST_Contains, 1 connection): {n_point} points in {d_point:.2?} → {pg_point_rate:.0} lookups/s; {mismatch_point} answers differ from RegionIndex"
    );

    // Set-based: all points in one statement, joined through the GiST index. A point on a shared edge
    // matches no grid under ST_Contains; one inside two (float overlap) takes the lowest code.
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let set_q = "SELECT p.i, g.code FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i) \
                 JOIN grid g ON ST_Contains(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))";
    let mut best = Duration::MAX;
    let mut mismatch_set = 0usize;
    for _ in 0..SET_RUNS {
        let t = Instant::now();
        let rows = sqlx::query(set_q)
            .bind(&xs)
            .bind(&ys)
            .fetch_all(&mut conn)
            .await?;
        let d = t.elapsed();
        best = best.min(d);
        let mut got: HashMap<usize, String> = HashMap::with_capacity(rows.len());
        for r in rows {
            let i: i64 = r.try_get(0)?;
            let code: String = r.try_get(1)?;
            got.entry(i as usize - 1)
                .and_modify(|c| *c = std::cmp::min(c.clone(), code.clone()))
                .or_insert(code);
        }
        mismatch_set = answers
            .iter()
            .enumerate()
            .filter(|(i, a)| got.get(i) != a.as_ref())
            .count();
    }
    let pg_set_rate = rate(points.len(), best);
    println!(
        "postgis set-based (unnest ⋈ grid ON ST_Contains, GiST): {} points in {best:.2?} (best of {SET_RUNS}) → {pg_set_rate:.0} lookups/s; {mismatch_set} answers differ",
        points.len()
    );
    println!(
        "ratio: RegionIndex is {:.0}× PostGIS per-point and {:.1}× PostGIS set-based",
        rust_rate / pg_point_rate,
        rust_rate / pg_set_rate
    );
    Ok(())
}
