//! Evidence photos (证据照片) for case reports: recognise the upload by its content, strip its
//! metadata losslessly, check that it really decodes, make a thumbnail (缩略图) and store both on
//! disk under their content hash (内容哈希).
//!
//! Layout under [`EvidenceConfig::dir`]:
//!
//! ```text
//! <dir>/ab/cdef…(62 hex).jpg|png|webp     the stripped original, named by its SHA-256
//! <dir>/thumbs/ab/cdef…(62 hex).jpg       the JPEG thumbnail, named by its own SHA-256
//! ```
//!
//! Files are written to a temporary file in the target directory, flushed to disk and renamed
//! into place, so a reader never sees half a photo; storing the same content again is a no-op.
//! No HTTP and no database here: callers keep the returned [`StoredPhoto`] with their case.

mod strip;

use std::fmt;
use std::fs;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Default upload limit: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Default pixel limit (解压炸弹防护, decompression-bomb guard): 40 megapixels.
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;
/// Default thumbnail bounding box edge, in pixels.
pub const DEFAULT_THUMB_SIZE: u32 = 320;
/// Thumbnails are always JPEG (alpha is flattened onto white).
pub const THUMB_MIME: &str = "image/jpeg";
/// JPEG quality of thumbnails.
const THUMB_QUALITY: u8 = 80;
const THUMBS_DIR: &str = "thumbs";

/// Where and how evidence photos are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceConfig {
    /// Root directory; created by [`EvidenceStore::new`].
    pub dir: PathBuf,
    /// Largest accepted upload in bytes (before stripping).
    pub max_bytes: usize,
    /// Largest accepted width × height, checked from the header before any pixel is decoded.
    pub max_pixels: u64,
    /// Thumbnails fit within `thumb_size` × `thumb_size`; smaller photos are not enlarged.
    pub thumb_size: u32,
}

impl EvidenceConfig {
    /// The default limits (10 MiB, 40 MP, 320 px thumbnails) under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EvidenceConfig {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
            max_pixels: DEFAULT_MAX_PIXELS,
            thumb_size: DEFAULT_THUMB_SIZE,
        }
    }
}

/// The accepted photo formats, recognised by their magic numbers, never by name or declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
}

impl ImageFormat {
    /// Stable lower-case name (`jpeg`, `png`, `webp`), suitable for a database column.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
        }
    }

    /// The MIME type to serve the stored file with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// File extension used on disk (`jpg`, `png`, `webp`).
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
        }
    }

    fn to_image(self) -> image::ImageFormat {
        match self {
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Webp => image::ImageFormat::WebP,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageFormat {
    type Err = EvidenceError;

    /// Parses [`ImageFormat::as_str`] back.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jpeg" => Ok(ImageFormat::Jpeg),
            "png" => Ok(ImageFormat::Png),
            "webp" => Ok(ImageFormat::Webp),
            _ => Err(EvidenceError::UnsupportedType),
        }
    }
}

/// What [`EvidenceStore::store`] wrote: enough to serve and cite the photo later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPhoto {
    /// Lower-case hex SHA-256 of the stored (stripped) bytes; also the file name.
    pub sha256: String,
    pub format: ImageFormat,
    pub mime: &'static str,
    /// Size of the stored (stripped) file.
    pub bytes: u64,
    /// Width as displayed, i.e. after the EXIF orientation is applied.
    pub width: u32,
    /// Height as displayed, i.e. after the EXIF orientation is applied.
    pub height: u32,
    /// Lower-case hex SHA-256 of the JPEG thumbnail.
    pub thumb_sha256: String,
    pub thumb_bytes: u64,
}

/// Why an upload was refused or a stored photo could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The upload is larger than [`EvidenceConfig::max_bytes`].
    #[error("photo is larger than {max} bytes")]
    TooLarge { max: usize },
    /// The content is not JPEG, PNG or WebP.
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedType,
    /// The content claims to be an image but is damaged or truncated (or, on read, no longer
    /// matches its hash).
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// Width × height exceeds [`EvidenceConfig::max_pixels`].
    #[error("image has too many pixels")]
    TooManyPixels,
    /// A hash passed in is not 64 lower-case hex digits.
    #[error("not a valid SHA-256 hex digest")]
    InvalidHash,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Recognises JPEG, PNG and WebP by their magic numbers.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(strip::PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Content-addressed store of evidence photos and their thumbnails on the local disk.
#[derive(Debug, Clone)]
pub struct EvidenceStore {
    config: EvidenceConfig,
}

impl EvidenceStore {
    /// Opens the store, creating `config.dir` (and its `thumbs/` folder) if needed.
    pub fn new(config: EvidenceConfig) -> Result<Self, EvidenceError> {
        if config.thumb_size == 0 {
            return Err(
                io::Error::new(io::ErrorKind::InvalidInput, "thumb_size must be > 0").into(),
            );
        }
        fs::create_dir_all(config.dir.join(THUMBS_DIR))?;
        Ok(EvidenceStore { config })
    }

    /// The configuration in force.
    pub fn config(&self) -> &EvidenceConfig {
        &self.config
    }

    /// Validates an upload, strips its metadata, and writes the stripped original and its
    /// thumbnail by content hash. Storing the same content again returns the same record and
    /// leaves one file. Uploads that differ only in metadata end up as the same file.
    pub fn store(&self, bytes: &[u8]) -> Result<StoredPhoto, EvidenceError> {
        let max = self.config.max_bytes;
        if bytes.len() > max {
            return Err(EvidenceError::TooLarge { max });
        }
        let format = sniff(bytes).ok_or(EvidenceError::UnsupportedType)?;
        let stripped = strip::strip(format, bytes)?;
        // decode what we store, not what was uploaded
        let img = decode(&stripped.bytes, format, self.config.max_pixels)?;
        let (width, height) = oriented_dimensions(&img, stripped.orientation);
        let thumb = thumbnail(&img, stripped.orientation, self.config.thumb_size)?;
        drop(img);

        let sha256 = sha256_hex(&stripped.bytes);
        let thumb_sha256 = sha256_hex(&thumb);
        // thumbnail first: an original on disk always has its thumbnail
        write_atomic(&self.thumb_file(&thumb_sha256), &thumb)?;
        write_atomic(&self.file(&sha256, format), &stripped.bytes)?;
        Ok(StoredPhoto {
            sha256,
            format,
            mime: format.mime(),
            bytes: stripped.bytes.len() as u64,
            width,
            height,
            thumb_sha256,
            thumb_bytes: thumb.len() as u64,
        })
    }

    /// Path of a stored original, or `None` unless `sha256` is exactly 64 lower-case hex
    /// digits (so no `..`, separators or other path tricks). Does not check that it exists.
    pub fn path_of(&self, sha256: &str, format: ImageFormat) -> Option<PathBuf> {
        is_sha256_hex(sha256).then(|| self.file(sha256, format))
    }

    /// Path of a stored thumbnail, validated like [`EvidenceStore::path_of`].
    pub fn thumb_path_of(&self, thumb_sha256: &str) -> Option<PathBuf> {
        is_sha256_hex(thumb_sha256).then(|| self.thumb_file(thumb_sha256))
    }

    /// Reads a stored original and checks it still matches its hash (篡改检测, tamper check).
    pub fn read(&self, sha256: &str, format: ImageFormat) -> Result<Vec<u8>, EvidenceError> {
        let path = self
            .path_of(sha256, format)
            .ok_or(EvidenceError::InvalidHash)?;
        read_verified(&path, sha256)
    }

    /// Reads a stored thumbnail (JPEG) and checks it still matches its hash.
    pub fn read_thumb(&self, thumb_sha256: &str) -> Result<Vec<u8>, EvidenceError> {
        let path = self
            .thumb_path_of(thumb_sha256)
            .ok_or(EvidenceError::InvalidHash)?;
        read_verified(&path, thumb_sha256)
    }

    /// Whether the photo stored as `sha256` in `format` is on disk and still matches its hash
    /// (`cityops check`).
    pub fn check(&self, sha256: &str, format: ImageFormat) -> Result<FileState, EvidenceError> {
        let path = self
            .path_of(sha256, format)
            .ok_or(EvidenceError::InvalidHash)?;
        check_file(&path, sha256)
    }

    /// [`EvidenceStore::check`] for a thumbnail.
    pub fn check_thumb(&self, thumb_sha256: &str) -> Result<FileState, EvidenceError> {
        let path = self
            .thumb_path_of(thumb_sha256)
            .ok_or(EvidenceError::InvalidHash)?;
        check_file(&path, thumb_sha256)
    }

    fn file(&self, sha: &str, format: ImageFormat) -> PathBuf {
        shard(&self.config.dir, sha, format.extension())
    }

    fn thumb_file(&self, sha: &str) -> PathBuf {
        shard(&self.config.dir.join(THUMBS_DIR), sha, "jpg")
    }
}

fn shard(root: &Path, sha: &str, ext: &str) -> PathBuf {
    root.join(&sha[..2]).join(format!("{}.{ext}", &sha[2..]))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the evidence check found of one stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// There, and its SHA-256 is its name.
    Intact,
    /// Not in the evidence directory.
    Missing,
    /// There, but its content no longer matches its hash (damaged or altered).
    Mismatch,
}

fn check_file(path: &Path, sha: &str) -> Result<FileState, EvidenceError> {
    match fs::read(path) {
        Ok(bytes) if sha256_hex(&bytes) == sha => Ok(FileState::Intact),
        Ok(_) => Ok(FileState::Mismatch),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FileState::Missing),
        Err(e) => Err(e.into()),
    }
}

fn read_verified(path: &Path, sha: &str) -> Result<Vec<u8>, EvidenceError> {
    let bytes = fs::read(path)?;
    if sha256_hex(&bytes) != sha {
        return Err(EvidenceError::Corrupt(format!(
            "{} does not match its hash",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Decodes with the pixel limit checked from the header before any pixel buffer is allocated.
fn decode(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<DynamicImage, EvidenceError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image());
    let mut limits = Limits::default();
    // the output buffer (up to 8 bytes a pixel for 16-bit RGBA) plus decoder working memory
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(image_error)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(EvidenceError::Corrupt("image has no pixels".into()));
    }
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(EvidenceError::TooManyPixels);
    }
    DynamicImage::from_decoder(decoder).map_err(image_error)
}

fn image_error(e: image::ImageError) -> EvidenceError {
    match e {
        image::ImageError::Limits(_) => EvidenceError::TooManyPixels,
        // reading from memory: an I/O error here means the data ran out
        other => EvidenceError::Corrupt(other.to_string()),
    }
}

fn swaps_axes(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn oriented_dimensions(img: &DynamicImage, o: Orientation) -> (u32, u32) {
    let (w, h) = (img.width(), img.height());
    if swaps_axes(o) { (h, w) } else { (w, h) }
}

/// Fits the photo within `size` × `size` (never enlarging), bakes in the orientation, flattens
/// alpha onto white and encodes a JPEG.
fn thumbnail(img: &DynamicImage, o: Orientation, size: u32) -> Result<Vec<u8>, EvidenceError> {
    let (w, h) = (img.width(), img.height());
    let mut t = if w <= size && h <= size {
        img.clone()
    } else {
        let long = u64::from(w.max(h));
        let scale = |v: u32| -> u32 {
            // round(v * size / long), at least 1; fits in u32 because it is <= size
            let s = (u64::from(v) * u64::from(size) + long / 2) / long;
            u32::try_from(s.max(1)).unwrap_or(size)
        };
        img.thumbnail_exact(scale(w), scale(h))
    };
    t.apply_orientation(o);
    let rgb = flatten_on_white(&t);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| EvidenceError::Corrupt(format!("thumbnail: {e}")))?;
    Ok(out)
}

fn flatten_on_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u16::from(a);
        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        Rgb([over(r), over(g), over(b)])
    })
}

/// Writes `bytes` to `path` via a temporary file in the same directory, fsync and rename.
/// If the file is already there with exactly these bytes, nothing is written.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::read(path) {
        Ok(existing) if existing == bytes => return Ok(()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    fs::create_dir_all(parent)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(parent)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // make the rename itself durable; not all platforms can open a directory
    if let Ok(dir) = fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
