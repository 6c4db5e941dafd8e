//! LibreOffice for the tests that open the files the server writes (XLSX exports and reports):
//! `soffice --headless --convert-to …`, each run with its own profile.
use std::path::Path;
use std::process::Command;

/// `soffice`, or `None` (then the test is skipped, unless `CITYOPS_REQUIRE_SOFFICE=1`).
pub fn soffice() -> Option<&'static str> {
    let found = Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("soffice");
    }
    assert!(
        std::env::var("CITYOPS_REQUIRE_SOFFICE").as_deref() != Ok("1"),
        "CITYOPS_REQUIRE_SOFFICE=1 but `soffice` (LibreOffice) is not installed: \
         apt-get install libreoffice-calc-nogui"
    );
    eprintln!("skipped: `soffice` (LibreOffice) is not installed");
    None
}

/// Converts `file` in `dir` with LibreOffice (its own profile in `dir`); the output's path.
pub fn convert(soffice: &str, dir: &Path, file: &Path, to: &str) -> std::path::PathBuf {
    let out = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("profile").display()
        ))
        .args(["--headless", "--convert-to", to, "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("run soffice");
    let ext = to.split(':').next().unwrap();
    let got = file.with_extension(ext);
    assert!(
        got.exists(),
        "soffice made no {ext}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    got
}
