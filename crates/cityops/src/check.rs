//! `cityops check`: every evidence photo the database records is still in the evidence directory
//! and still matches its SHA-256 (photos are stored under their content hash, so a changed byte
//! is seen). Each problem is listed with the photo's public id and its case's code; the command
//! fails (exit status 1) when there is any.
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cityops_evidence::{EvidenceConfig, EvidenceStore, FileState, ImageFormat};
use cityops_store::{AttachmentWithCase, Store};

/// Photos read from the store per page.
const PAGE: u32 = 500;

/// One file that is not as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub state: FileState,
    /// `photo` or `thumbnail`.
    pub file: &'static str,
    pub attachment: String,
    pub case_code: Option<String>,
    pub sha256: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.state {
            FileState::Missing => "missing",
            FileState::Mismatch => "hash mismatch",
            FileState::Intact => "intact",
        };
        write!(
            f,
            "{what}\t{}\tattachment {}\tcase {}\tsha256 {}",
            self.file,
            self.attachment,
            self.case_code.as_deref().unwrap_or("-"),
            self.sha256
        )
    }
}

fn format_of(mime: &str) -> Option<ImageFormat> {
    [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp]
        .into_iter()
        .find(|f| f.mime() == mime)
}

/// The problems of one page of photos (file reads and hashing: on the blocking pool).
fn check_page(
    evidence: &EvidenceStore,
    page: &[AttachmentWithCase],
) -> anyhow::Result<Vec<Problem>> {
    let mut out = Vec::new();
    for a in page {
        let rec = &a.attachment;
        let problem = |state, file, sha: &str| Problem {
            state,
            file,
            attachment: rec.public_id.clone(),
            case_code: a.case_code.clone(),
            sha256: sha.to_string(),
        };
        let photo = match format_of(&rec.attachment.mime) {
            Some(f) => evidence.check(&rec.attachment.sha256, f),
            None => bail!(
                "attachment {} has the unknown type {:?}",
                rec.public_id,
                rec.attachment.mime
            ),
        }
        .with_context(|| format!("checking the photo of attachment {}", rec.public_id))?;
        if photo != FileState::Intact {
            out.push(problem(photo, "photo", &rec.attachment.sha256));
        }
        let thumb = evidence
            .check_thumb(&rec.attachment.thumb_sha256)
            .with_context(|| format!("checking the thumbnail of attachment {}", rec.public_id))?;
        if thumb != FileState::Intact {
            out.push(problem(thumb, "thumbnail", &rec.attachment.thumb_sha256));
        }
    }
    Ok(out)
}

/// Checks every recorded photo against `dir`; returns how many photos were checked and the
/// problems found.
pub async fn check_evidence(store: &dyn Store, dir: &Path) -> anyhow::Result<(u64, Vec<Problem>)> {
    if !dir.is_dir() {
        bail!("the evidence directory {} does not exist", dir.display());
    }
    let evidence = EvidenceStore::new(EvidenceConfig::new(dir))
        .with_context(|| format!("opening the evidence directory {}", dir.display()))?;
    let mut after = 0;
    let mut checked = 0u64;
    let mut problems = Vec::new();
    loop {
        let page = store.attachments_after(after, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.attachment.id;
        checked += page.len() as u64;
        let ev = evidence.clone();
        problems.extend(tokio::task::spawn_blocking(move || check_page(&ev, &page)).await??);
    }
    Ok((checked, problems))
}

/// `cityops check`: prints every problem (one line each, tab-separated) and a summary; fails
/// when anything is missing or altered.
pub async fn run(store: &dyn Store, dir: PathBuf) -> anyhow::Result<()> {
    let (checked, problems) = check_evidence(store, &dir).await?;
    for p in &problems {
        println!("{p}");
    }
    let missing = problems
        .iter()
        .filter(|p| p.state == FileState::Missing)
        .count();
    let mismatched = problems.len() - missing;
    println!(
        "checked {checked} evidence photos in {}: {missing} files missing, {mismatched} with a hash mismatch",
        dir.display()
    );
    if !problems.is_empty() {
        bail!(
            "{} evidence files are missing or do not match their hash",
            problems.len()
        );
    }
    Ok(())
}
