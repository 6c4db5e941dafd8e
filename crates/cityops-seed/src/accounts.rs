//! The demo's full account list (演示账号清单): one CSV row per account of an import batch, written
//! beside the demo database on first run, because the start-up banner shows only the main
//! accounts (the demo has a grid inspector per community of the core and a handler per street).
//!
//! Columns: `username, display_name, roles, department_code, department, region_code, region,
//! patrol` — roles separated by `;`, the patrol area (责任网格) as its grid codes separated by
//! spaces. All demo accounts share the password [`crate::demo::DEMO_PASSWORD`].
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cityops_store::ImportBatch;

/// The header row of the account list.
pub const HEADER: [&str; 8] = [
    "username",
    "display_name",
    "roles",
    "department_code",
    "department",
    "region_code",
    "region",
    "patrol",
];

/// Where the account list of the demo database at `database_url` lives: beside a SQLite file
/// (`sqlite://data/cityops-demo.db` → `data/cityops-demo.accounts.csv`), else (PostgreSQL, an
/// in-memory SQLite) `cityops-demo.accounts.csv` in the working directory.
pub fn accounts_file(database_url: &str) -> PathBuf {
    let fallback = PathBuf::from("cityops-demo.accounts.csv");
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return fallback;
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" {
        return fallback;
    }
    let db = Path::new(file);
    let stem = db
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cityops-demo".into());
    db.with_file_name(format!("{stem}.accounts.csv"))
}

/// The account list of `batch` as CSV (UTF-8, header first, users in batch order).
pub fn accounts_csv(batch: &ImportBatch) -> Result<Vec<u8>, csv::Error> {
    let departments: HashMap<&str, &str> = batch
        .departments
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let regions: HashMap<&str, &str> = batch
        .regions
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for u in &batch.users {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        let dept = u.department_code.as_deref().unwrap_or("");
        let region = u.region_code.as_deref().unwrap_or("");
        w.write_record([
            u.username.as_str(),
            u.display_name.as_str(),
            &roles.join(";"),
            dept,
            departments.get(dept).copied().unwrap_or(""),
            region,
            regions.get(region).copied().unwrap_or(""),
            &u.grids.join(" "),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Writes the account list of `batch` to `path` (replacing an older list).
pub fn write_accounts_file(batch: &ImportBatch, path: &Path) -> std::io::Result<()> {
    let bytes = accounts_csv(batch).map_err(std::io::Error::other)?;
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_lies_beside_a_sqlite_file() {
        assert_eq!(
            accounts_file("sqlite://cityops-demo.db"),
            PathBuf::from("cityops-demo.accounts.csv")
        );
        assert_eq!(
            accounts_file("sqlite://data/demo.db?mode=rwc"),
            PathBuf::from("data/demo.accounts.csv")
        );
        assert_eq!(
            accounts_file("sqlite:/var/lib/cityops/x.sqlite"),
            PathBuf::from("/var/lib/cityops/x.accounts.csv")
        );
        assert_eq!(
            accounts_file("sqlite::memory:"),
            PathBuf::from("cityops-demo.accounts.csv")
        );
        assert_eq!(
            accounts_file("postgres://u@h/db"),
            PathBuf::from("cityops-demo.accounts.csv")
        );
    }
}
