use std::io::Cursor;
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;

use super::*;

const GPS_MARK: &[u8] = b"GPSLatitude 22.5431N GPSLongitude 114.0579E";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn pattern(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + 2 * y) % 256) as u8,
        ])
    })
}

fn encode(img: DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format)
        .expect("encode");
    out
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(pattern(w, h)),
        image::ImageFormat::Jpeg,
    )
}

fn png(w: u32, h: u32) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(pattern(w, h)),
        image::ImageFormat::Png,
    )
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(pattern(w, h)),
        image::ImageFormat::WebP,
    )
}

/// An EXIF block ("Exif\0\0" + little-endian TIFF) with an ImageDescription holding the GPS
/// marker and, optionally, an Orientation tag.
fn exif(orientation: Option<u16>) -> Vec<u8> {
    let entries: u16 = if orientation.is_some() { 2 } else { 1 };
    let text_at = 8 + 2 + 12 * u32::from(entries) + 4;
    let mut t = b"Exif\0\0II\x2a\0\x08\0\0\0".to_vec();
    t.extend_from_slice(&entries.to_le_bytes());
    t.extend_from_slice(&0x010Eu16.to_le_bytes()); // ImageDescription, ASCII
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&(GPS_MARK.len() as u32 + 1).to_le_bytes());
    t.extend_from_slice(&text_at.to_le_bytes());
    if let Some(o) = orientation {
        t.extend_from_slice(&0x0112u16.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&u32::from(o).to_le_bytes());
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(GPS_MARK);
    t.push(0);
    t
}

fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// Inserts segments right after SOI, as cameras put APP1.
fn with_segments(jpeg: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn png_with_chunks_after_ihdr(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let ihdr_end = 8 + 12 + 13;
    assert_eq!(&png[12..16], b"IHDR");
    let mut out = png[..ihdr_end].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let crc = strip::crc32(&c[4..]);
    c.extend_from_slice(&crc.to_be_bytes());
    c
}

fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// Turns a simple (VP8L) WebP into the extended format with EXIF and XMP chunks.
fn webp_with_metadata(simple: &[u8], w: u32, h: u32, exif_tiff: &[u8]) -> Vec<u8> {
    assert_eq!(&simple[12..16], b"VP8L", "encoder output changed");
    let mut vp8x = vec![strip::VP8X_EXIF | strip::VP8X_XMP, 0, 0, 0];
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(&simple[12..]);
    body.extend(riff_chunk(b"EXIF", exif_tiff));
    body.extend(riff_chunk(
        b"XMP ",
        b"<x:xmpmeta>GPSAltitude 12</x:xmpmeta>",
    ));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn store_in(dir: &Path) -> EvidenceStore {
    EvidenceStore::new(EvidenceConfig::new(dir)).expect("store")
}

fn pixels(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).expect("decodes").to_rgb8()
}

fn decoded_orientation(bytes: &[u8]) -> Orientation {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .expect("guess")
        .into_decoder()
        .expect("decoder")
        .orientation()
        .expect("orientation")
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn sniff_uses_magic_numbers() {
    assert_eq!(sniff(&jpeg(4, 4)), Some(ImageFormat::Jpeg));
    assert_eq!(sniff(&png(4, 4)), Some(ImageFormat::Png));
    assert_eq!(sniff(&webp(4, 4)), Some(ImageFormat::Webp));
    assert_eq!(sniff(b"GIF89a......"), None);
    assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
    assert_eq!(sniff(b""), None);
    assert_eq!(sniff(&[0xFF, 0xD8]), None);
}

#[test]
fn format_names_round_trip() {
    for f in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
        assert_eq!(f.as_str().parse::<ImageFormat>().expect("parses"), f);
        assert!(f.mime().starts_with("image/"));
    }
    assert!(matches!(
        "gif".parse::<ImageFormat>(),
        Err(EvidenceError::UnsupportedType)
    ));
}

#[test]
fn jpeg_exif_gps_is_removed_losslessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let plain = jpeg(40, 30);
    let upload = with_segments(
        &plain,
        &[
            jpeg_segment(0xE1, &exif(None)),
            jpeg_segment(0xED, b"Photoshop 3.0\08BIM IPTC by-line: Zhang San"),
            jpeg_segment(0xFE, b"shot at 22.5431N"),
        ],
    );
    assert!(contains(&upload, GPS_MARK));
    assert_eq!(decoded_orientation(&upload), Orientation::NoTransforms);

    let p = store.store(&upload).expect("stored");
    assert_eq!(
        (p.format, p.mime, p.width, p.height),
        (ImageFormat::Jpeg, "image/jpeg", 40, 30)
    );
    let stored = store.read(&p.sha256, ImageFormat::Jpeg).expect("read");
    assert_eq!(p.bytes, stored.len() as u64);
    assert_eq!(p.sha256, hex::encode(Sha256::digest(&stored)));
    for gone in [GPS_MARK, b"Exif", b"Zhang San", b"22.5431"] {
        assert!(
            !contains(&stored, gone),
            "{} survived",
            String::from_utf8_lossy(gone)
        );
    }
    // lossless: exactly the pixels of the upload
    assert_eq!(pixels(&stored), pixels(&upload));
    assert!(stored.len() < upload.len());
    let on_disk = store.path_of(&p.sha256, ImageFormat::Jpeg).expect("path");
    assert_eq!(fs::read(on_disk).expect("file"), stored);
}

#[test]
fn jpeg_orientation_survives_and_is_baked_into_the_thumbnail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let upload = with_segments(&jpeg(40, 30), &[jpeg_segment(0xE1, &exif(Some(6)))]);
    let p = store.store(&upload).expect("stored");
    let stored = store.read(&p.sha256, p.format).expect("read");
    assert!(!contains(&stored, GPS_MARK));
    assert_eq!(decoded_orientation(&stored), Orientation::Rotate90);
    // displayed size: rotated a quarter turn
    assert_eq!((p.width, p.height), (30, 40));
    let thumb = image::load_from_memory(&store.read_thumb(&p.thumb_sha256).expect("thumb"))
        .expect("thumb decodes");
    assert_eq!((thumb.width(), thumb.height()), (30, 40));
    assert_eq!(
        decoded_orientation(&store.read_thumb(&p.thumb_sha256).expect("thumb")),
        Orientation::NoTransforms
    );
}

#[test]
fn png_text_time_and_exif_chunks_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let plain = png(20, 10);
    let upload = png_with_chunks_after_ihdr(
        &plain,
        &[
            png_chunk(b"tEXt", &[b"Comment\0".as_slice(), GPS_MARK].concat()),
            png_chunk(b"tIME", &[7, 234, 5, 1, 12, 0, 0]),
            png_chunk(b"iTXt", b"Author\0\0\0\0\0Li Si"),
            png_chunk(b"eXIf", &exif(Some(3))[6..]),
        ],
    );
    assert_eq!(
        pixels(&upload),
        pixels(&plain),
        "test input must stay a valid PNG"
    );
    let p = store.store(&upload).expect("stored");
    assert_eq!((p.format, p.width, p.height), (ImageFormat::Png, 20, 10));
    let stored = store.read(&p.sha256, ImageFormat::Png).expect("read");
    for gone in [GPS_MARK, b"tEXt", b"tIME", b"iTXt", b"Li Si"] {
        assert!(
            !contains(&stored, gone),
            "{} survived",
            String::from_utf8_lossy(gone)
        );
    }
    assert_eq!(pixels(&stored), pixels(&plain));
    // orientation 3 (180°) is kept as a minimal eXIf
    assert_eq!(decoded_orientation(&stored), Orientation::Rotate180);
}

#[test]
fn webp_is_recognised_and_exif_xmp_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let simple = webp(12, 9);
    let upload = webp_with_metadata(&simple, 12, 9, &exif(None)[6..]);
    assert_eq!(
        pixels(&upload),
        pixels(&simple),
        "test input must stay a valid WebP"
    );
    assert!(contains(&upload, GPS_MARK));

    let p = store.store(&upload).expect("stored");
    assert_eq!(
        (p.format, p.mime, p.width, p.height),
        (ImageFormat::Webp, "image/webp", 12, 9)
    );
    let stored = store.read(&p.sha256, ImageFormat::Webp).expect("read");
    for gone in [GPS_MARK, b"EXIF", b"XMP ", b"GPSAltitude"] {
        assert!(
            !contains(&stored, gone),
            "{} survived",
            String::from_utf8_lossy(gone)
        );
    }
    // VP8X kept, with the EXIF and XMP flags cleared; RIFF length consistent
    assert_eq!(&stored[12..16], b"VP8X");
    assert_eq!(stored[20] & (strip::VP8X_EXIF | strip::VP8X_XMP), 0);
    assert_eq!(
        u32::from_le_bytes(stored[4..8].try_into().expect("4")) as usize,
        stored.len() - 8
    );
    assert_eq!(pixels(&stored), pixels(&simple));
    assert!(
        store
            .path_of(&p.sha256, ImageFormat::Webp)
            .expect("path")
            .ends_with(format!("{}.webp", &p.sha256[2..]))
    );
}

#[test]
fn webp_orientation_is_kept_as_minimal_exif() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let upload = webp_with_metadata(&webp(12, 9), 12, 9, &exif(Some(8))[6..]);
    let p = store.store(&upload).expect("stored");
    let stored = store.read(&p.sha256, ImageFormat::Webp).expect("read");
    assert!(!contains(&stored, GPS_MARK));
    assert_eq!(stored[20] & strip::VP8X_EXIF, strip::VP8X_EXIF);
    assert_eq!(decoded_orientation(&stored), Orientation::Rotate270);
    assert_eq!((p.width, p.height), (9, 12));
}

#[test]
fn text_file_named_jpg_is_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let path = dir.path().join("photo.jpg");
    fs::write(&path, "这不是图片 / this is not an image\n").expect("write");
    let bytes = fs::read(&path).expect("read");
    assert!(matches!(
        store.store(&bytes),
        Err(EvidenceError::UnsupportedType)
    ));
    assert!(matches!(
        store.store(b""),
        Err(EvidenceError::UnsupportedType)
    ));
    // other image formats (here a GIF header) are not accepted either
    let mut gif_like = b"GIF89a\x04\0\x04\0\x80\0\0".to_vec();
    gif_like.extend_from_slice(&[0; 32]);
    assert!(matches!(
        store.store(&gif_like),
        Err(EvidenceError::UnsupportedType)
    ));
    assert!(
        files_under(dir.path())
            .iter()
            .all(|p| p.ends_with("photo.jpg"))
    );
}

#[test]
fn truncated_or_garbled_images_are_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    for full in [jpeg(64, 48), png(64, 48), webp(64, 48)] {
        for cut in [full.len() / 2, full.len() - 3, 20] {
            let r = store.store(&full[..cut]);
            assert!(
                matches!(r, Err(EvidenceError::Corrupt(_))),
                "cut {cut}: {r:?}"
            );
        }
    }
    // right magic, garbage after it
    let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
    fake.extend_from_slice(&[0x41; 200]);
    assert!(matches!(store.store(&fake), Err(EvidenceError::Corrupt(_))));
    // a PNG whose compressed data was damaged in transit
    let mut bad_png = png(16, 16);
    let idat = bad_png.windows(4).position(|w| w == b"IDAT").expect("IDAT");
    bad_png[idat + 6] ^= 0xFF;
    assert!(matches!(
        store.store(&bad_png),
        Err(EvidenceError::Corrupt(_))
    ));
    assert!(
        files_under(dir.path()).is_empty(),
        "nothing may be written for a rejected upload"
    );
}

#[test]
fn size_limit_is_inclusive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upload = jpeg(32, 32);
    let mut config = EvidenceConfig::new(dir.path());
    config.max_bytes = upload.len();
    let store = EvidenceStore::new(config.clone()).expect("store");
    store.store(&upload).expect("exactly max_bytes is accepted");
    config.max_bytes = upload.len() - 1;
    let store = EvidenceStore::new(config).expect("store");
    match store.store(&upload) {
        Err(EvidenceError::TooLarge { max }) => assert_eq!(max, upload.len() - 1),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(DEFAULT_MAX_BYTES, 10 * 1024 * 1024);
}

#[test]
fn pixel_limit_is_checked_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EvidenceConfig::new(dir.path());
    config.max_pixels = 20 * 20;
    let store = EvidenceStore::new(config).expect("store");
    store
        .store(&png(20, 20))
        .expect("exactly max_pixels is accepted");
    for upload in [jpeg(21, 20), png(20, 21), webp(100, 100)] {
        let r = store.store(&upload);
        assert!(matches!(r, Err(EvidenceError::TooManyPixels)), "{r:?}");
    }
    // a PNG header claiming 100000 x 100000 with almost no data: refused from the header alone
    let mut bomb = png(1, 1);
    bomb[16..24].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
    let crc = strip::crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let default_store = store_in(dir.path());
    assert!(matches!(
        default_store.store(&bomb),
        Err(EvidenceError::TooManyPixels)
    ));
}

#[test]
fn same_content_is_stored_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let plain = jpeg(50, 50);
    let a = store.store(&plain).expect("first");
    let files = files_under(dir.path());
    assert_eq!(files.len(), 2, "original + thumbnail: {files:?}");
    let b = store.store(&plain).expect("second");
    assert_eq!(a, b);
    // the same photo with different metadata is the same evidence file
    let c = store
        .store(&with_segments(&plain, &[jpeg_segment(0xE1, &exif(None))]))
        .expect("third");
    assert_eq!(a.sha256, c.sha256);
    assert_eq!(
        files_under(dir.path()),
        files,
        "no extra or temporary files"
    );
    assert!(
        files
            .iter()
            .all(|f| !f.to_string_lossy().contains(".upload-"))
    );

    let original = store.path_of(&a.sha256, ImageFormat::Jpeg).expect("path");
    assert_eq!(
        original,
        dir.path()
            .join(&a.sha256[..2])
            .join(format!("{}.jpg", &a.sha256[2..]))
    );
    let thumb = store.thumb_path_of(&a.thumb_sha256).expect("thumb path");
    assert_eq!(
        thumb,
        dir.path()
            .join("thumbs")
            .join(&a.thumb_sha256[..2])
            .join(format!("{}.jpg", &a.thumb_sha256[2..]))
    );
    assert_eq!(files, {
        let mut v = vec![original, thumb];
        v.sort();
        v
    });
    let other = store.store(&png(50, 50)).expect("other");
    assert_ne!(other.sha256, a.sha256);
    assert_eq!(files_under(dir.path()).len(), 4);
}

#[test]
fn path_of_rejects_anything_but_lowercase_sha256_hex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let good = "ab".repeat(32);
    assert!(store.path_of(&good, ImageFormat::Png).is_some());
    assert!(store.thumb_path_of(&good).is_some());
    let traversal = format!("../{}", "a".repeat(61));
    for bad in [
        "../x",
        "",
        "ab",
        traversal.as_str(),
        &"AB".repeat(32),
        &format!("{}/", "a".repeat(63)),
        &format!("{}g", "a".repeat(63)),
        &"a".repeat(65),
        &format!("{}é", "a".repeat(62)),
    ] {
        assert_eq!(store.path_of(bad, ImageFormat::Jpeg), None, "{bad:?}");
        assert_eq!(store.thumb_path_of(bad), None, "{bad:?}");
        assert!(matches!(
            store.read(bad, ImageFormat::Jpeg),
            Err(EvidenceError::InvalidHash)
        ));
    }
    assert!(matches!(
        store.read(&good, ImageFormat::Jpeg),
        Err(EvidenceError::Io(e)) if e.kind() == io::ErrorKind::NotFound
    ));
}

#[test]
fn read_detects_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let p = store.store(&png(8, 8)).expect("stored");
    let path = store.path_of(&p.sha256, p.format).expect("path");
    let mut bytes = fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&path, &bytes).expect("tamper");
    assert!(matches!(
        store.read(&p.sha256, p.format),
        Err(EvidenceError::Corrupt(_))
    ));
    // storing the photo again repairs the file
    assert_eq!(store.store(&png(8, 8)).expect("again"), p);
    store.read(&p.sha256, p.format).expect("repaired");
}

#[test]
fn thumbnails_fit_the_box_and_are_never_enlarged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    for (w, h, tw, th) in [
        (1000, 500, 320, 160),
        (300, 900, 107, 320),
        (50, 40, 50, 40),
        (2000, 3, 320, 1),
    ] {
        let p = store.store(&png(w, h)).expect("stored");
        let t = store.read_thumb(&p.thumb_sha256).expect("thumb");
        assert_eq!(p.thumb_bytes, t.len() as u64);
        assert_eq!(sniff(&t), Some(ImageFormat::Jpeg));
        let img = image::load_from_memory(&t).expect("thumb decodes");
        assert_eq!((img.width(), img.height()), (tw, th), "{w}x{h}");
    }
}

#[test]
fn transparent_areas_become_white_in_thumbnails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let img = RgbaImage::from_fn(16, 16, |x, _| {
        if x < 8 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([200, 0, 0, 255])
        }
    });
    let p = store
        .store(&encode(
            DynamicImage::ImageRgba8(img),
            image::ImageFormat::Png,
        ))
        .expect("stored");
    let t = pixels(&store.read_thumb(&p.thumb_sha256).expect("thumb"));
    let [r, g, b] = t.get_pixel(1, 8).0;
    assert!(
        r > 240 && g > 240 && b > 240,
        "transparent became {:?}",
        (r, g, b)
    );
    let [r, g, _] = t.get_pixel(14, 8).0;
    assert!(r > 150 && g < 60, "opaque red became {:?}", (r, g));
}

#[test]
fn new_rejects_zero_thumb_size_and_creates_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("a/b/evidence");
    let mut config = EvidenceConfig::new(&root);
    config.thumb_size = 0;
    assert!(EvidenceStore::new(config.clone()).is_err());
    config.thumb_size = 64;
    let store = EvidenceStore::new(config).expect("store");
    assert!(root.join("thumbs").is_dir());
    assert_eq!(store.config().thumb_size, 64);
}

/// Run with `cargo test --release -p cityops-evidence -- --ignored --nocapture`.
#[test]
#[ignore = "timing check for a ~10 MB photo; meaningful only in a release build"]
fn large_jpeg_stores_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let mut seed = 0x2545_F491u32;
    let img = RgbImage::from_fn(6000, 4000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 20) as u8;
        Rgb([
            (x / 24) as u8 ^ n,
            (y / 16) as u8 ^ n,
            ((x + y) / 40) as u8 ^ n,
        ])
    });
    let mut upload = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut upload, 90)
        .encode_image(&img)
        .expect("encode");
    let upload = with_segments(&upload, &[jpeg_segment(0xE1, &exif(Some(6)))]);
    assert!(upload.len() <= DEFAULT_MAX_BYTES, "{} bytes", upload.len());
    assert!(upload.len() > 8 << 20, "only {} bytes", upload.len());
    let started = std::time::Instant::now();
    let p = store.store(&upload).expect("stored");
    println!(
        "stored {} bytes ({}x{}) in {:?}",
        upload.len(),
        p.width,
        p.height,
        started.elapsed()
    );
    assert_eq!((p.width, p.height), (4000, 6000));
}

fn small_store(dir: &Path) -> EvidenceStore {
    let mut config = EvidenceConfig::new(dir);
    config.max_pixels = 1_000_000;
    config.thumb_size = 16;
    EvidenceStore::new(config).expect("store")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Damaged uploads never panic; whatever is accepted strips to itself and is accepted again.
    #[test]
    fn damaged_uploads_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = small_store(dir.path());
        let mut upload = match which {
            0 => with_segments(&jpeg(24, 16), &[jpeg_segment(0xE1, &exif(Some(6)))]),
            1 => png_with_chunks_after_ihdr(&png(24, 16), &[png_chunk(b"tEXt", GPS_MARK)]),
            _ => webp_with_metadata(&webp(24, 16), 24, 16, &exif(Some(6))[6..]),
        };
        for (at, byte) in edits {
            let i = at.index(upload.len());
            upload[i] = byte;
        }
        if let Some(cut) = cut {
            upload.truncate(cut.index(upload.len() + 1));
        }
        if let Ok(p) = store.store(&upload) {
            let stored = store.read(&p.sha256, p.format).expect("read back");
            let again = store.store(&stored).expect("stored file is accepted");
            prop_assert_eq!(again.sha256, p.sha256);
        }
    }
}

#[test]
fn check_finds_missing_and_altered_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_in(dir.path());
    let p = store.store(&jpeg(40, 30)).expect("stored");
    assert_eq!(
        store.check(&p.sha256, p.format).expect("check"),
        FileState::Intact
    );
    assert_eq!(
        store.check_thumb(&p.thumb_sha256).expect("check"),
        FileState::Intact
    );

    // One byte changed: the name no longer is the content's hash.
    let path = store.path_of(&p.sha256, p.format).expect("path");
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write");
    assert_eq!(
        store.check(&p.sha256, p.format).expect("check"),
        FileState::Mismatch
    );
    assert!(matches!(
        store.read(&p.sha256, p.format),
        Err(EvidenceError::Corrupt(_))
    ));

    // Gone.
    std::fs::remove_file(store.thumb_path_of(&p.thumb_sha256).expect("path")).expect("rm");
    assert_eq!(
        store.check_thumb(&p.thumb_sha256).expect("check"),
        FileState::Missing
    );
    assert!(matches!(
        store.read_thumb(&p.thumb_sha256),
        Err(EvidenceError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
    ));
    assert!(matches!(
        store.check("../etc/passwd", ImageFormat::Jpeg),
        Err(EvidenceError::InvalidHash)
    ));
}
