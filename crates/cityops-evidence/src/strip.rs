//! Lossless metadata stripping (去除元数据) by walking the container structure.
//!
//! Nothing here decodes pixels: the entropy-coded JPEG data, the PNG `IDAT` stream and the WebP
//! bitstream are copied byte for byte, so a stored photo is exactly as sharp as the upload. What
//! is dropped is everything that may carry who/where/when: EXIF (GPS, camera serial, time), XMP,
//! IPTC, comments, text chunks, embedded preview thumbnails (which may show an uncropped
//! original) and any data appended after the end of the image.
//!
//! The one thing kept from EXIF is the orientation (方向): phones store portrait photos sideways
//! and rely on it. When it is not "upright", a minimal EXIF block holding only that tag is
//! written back, so the stored photo still displays the right way up.
//!
//! Every walker only indexes through bounds-checked slices and always moves forward, so a
//! hostile file can make it fail but never panic or loop.

use image::metadata::Orientation;

use crate::{EvidenceError, ImageFormat};

/// The result of stripping one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stripped {
    /// The rewritten file: same image data, metadata removed.
    pub bytes: Vec<u8>,
    /// The EXIF orientation the upload declared (`NoTransforms` when it had none).
    pub orientation: Orientation,
}

/// Strips metadata from an upload whose format has already been sniffed.
pub(crate) fn strip(format: ImageFormat, input: &[u8]) -> Result<Stripped, EvidenceError> {
    match format {
        ImageFormat::Jpeg => strip_jpeg(input),
        ImageFormat::Png => strip_png(input),
        ImageFormat::Webp => strip_webp(input),
    }
}

fn corrupt(msg: &str) -> EvidenceError {
    EvidenceError::Corrupt(msg.to_owned())
}

const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// Reads the orientation from an EXIF block (TIFF data, optionally behind the `Exif\0\0` prefix
/// that some WebP and PNG writers leave in). Unknown or malformed means upright.
fn exif_orientation(exif: &[u8]) -> Orientation {
    let tiff = exif.strip_prefix(EXIF_PREFIX).unwrap_or(exif);
    Orientation::from_exif_chunk(tiff).unwrap_or(Orientation::NoTransforms)
}

/// A minimal big-endian TIFF/EXIF block: IFD0 with the single Orientation (0x0112) tag.
pub(crate) fn orientation_tiff(orientation: Orientation) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0\x2a"); // big-endian TIFF header
    t.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_be_bytes()); // count 1
    t.extend_from_slice(&u16::from(orientation.to_exif()).to_be_bytes());
    t.extend_from_slice(&[0, 0]); // value padding
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

// ---------------------------------------------------------------------------------------------
// JPEG
// ---------------------------------------------------------------------------------------------

const M_SOI: u8 = 0xD8;
const M_EOI: u8 = 0xD9;
const M_SOS: u8 = 0xDA;
const M_TEM: u8 = 0x01;
const M_APP0: u8 = 0xE0;
const M_APP1: u8 = 0xE1;
const M_APP2: u8 = 0xE2;
const M_APP14: u8 = 0xEE;
const M_APP15: u8 = 0xEF;
const M_COM: u8 = 0xFE;

/// JFIF APP0 payload without its optional thumbnail: identifier, version, units, densities.
const JFIF_HEADER_LEN: usize = 12;

/// Walks the JPEG markers and keeps only what is needed to show the image:
/// frame/scan headers, tables, restart intervals and the entropy-coded data verbatim;
/// APP0 only as a bare JFIF header (its thumbnail removed), APP2 only ICC profiles, APP14 only
/// the Adobe colour-transform segment. Every other APPn (EXIF/XMP in APP1, MPF in APP2, IPTC in
/// APP13, vendor blocks) and COM is dropped, as is everything after EOI.
fn strip_jpeg(input: &[u8]) -> Result<Stripped, EvidenceError> {
    if input.get(..2) != Some(&[0xFF, M_SOI][..]) {
        return Err(corrupt("not a JPEG file"));
    }
    let len = input.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&[0xFF, M_SOI]);
    let mut orientation = None;
    // where a minimal EXIF segment goes: after SOI, or after a leading JFIF APP0
    let mut exif_at = out.len();
    let mut seen_sos = false;
    let mut pos = 2;

    loop {
        // Find the next marker. Bytes other than 0xFF here are garbage that libjpeg also skips
        // ("extraneous bytes before marker"); runs of 0xFF are fill bytes.
        while pos < len && input[pos] != 0xFF {
            pos += 1;
        }
        while pos < len && input[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = input.get(pos) else {
            return Err(corrupt("truncated JPEG: no end-of-image marker"));
        };
        pos += 1;
        match marker {
            M_EOI => {
                out.extend_from_slice(&[0xFF, M_EOI]);
                break;
            }
            M_SOI => return Err(corrupt("JPEG has a second start-of-image marker")),
            // a stuffed zero outside a scan is garbage
            0x00 => continue,
            // standalone markers: no length, no payload
            0xD0..=0xD7 | M_TEM => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }

        let seg_len = be_u16(input, pos).ok_or_else(|| corrupt("truncated JPEG segment"))?;
        let seg_len = usize::from(seg_len);
        if seg_len < 2 {
            return Err(corrupt("JPEG segment with an invalid length"));
        }
        let end = pos + seg_len; // pos <= len and seg_len <= 65535: no overflow
        if end > len {
            return Err(corrupt("truncated JPEG segment"));
        }
        let payload = &input[pos + 2..end];
        // the marker's own 0xFF is the byte before it (fill bytes are not copied)
        let segment = &input[pos - 2..end];
        pos = end;

        match marker {
            M_APP0 => {
                if payload.starts_with(b"JFIF\0") && payload.len() >= JFIF_HEADER_LEN {
                    let first_kept = out.len() == 2;
                    // rewrite as a bare JFIF header with a 0x0 thumbnail
                    let new_len = 2 + JFIF_HEADER_LEN + 2;
                    out.extend_from_slice(&[0xFF, M_APP0]);
                    out.extend_from_slice(&(new_len as u16).to_be_bytes());
                    out.extend_from_slice(&payload[..JFIF_HEADER_LEN]);
                    out.extend_from_slice(&[0, 0]);
                    if first_kept {
                        exif_at = out.len();
                    }
                }
            }
            M_APP1 => {
                if orientation.is_none() && payload.starts_with(EXIF_PREFIX) {
                    orientation = Some(exif_orientation(payload));
                }
            }
            M_APP2 if payload.starts_with(b"ICC_PROFILE\0") => out.extend_from_slice(segment),
            M_APP14 if payload.starts_with(b"Adobe") => out.extend_from_slice(segment),
            M_APP0..=M_APP15 | M_COM => {}
            M_SOS => {
                out.extend_from_slice(segment);
                seen_sos = true;
                pos = copy_entropy(input, pos, &mut out)?;
            }
            // frame headers, DHT, DQT, DRI, DNL, DAC, EXP, JPGn and reserved markers
            _ => out.extend_from_slice(segment),
        }
    }

    if !seen_sos {
        return Err(corrupt("JPEG has no image data"));
    }
    let orientation = orientation.unwrap_or(Orientation::NoTransforms);
    if orientation != Orientation::NoTransforms {
        let tiff = orientation_tiff(orientation);
        let seg_len = (2 + EXIF_PREFIX.len() + tiff.len()) as u16;
        let mut app1 = vec![0xFF, M_APP1];
        app1.extend_from_slice(&seg_len.to_be_bytes());
        app1.extend_from_slice(EXIF_PREFIX);
        app1.extend_from_slice(&tiff);
        out.splice(exif_at..exif_at, app1);
    }
    Ok(Stripped {
        bytes: out,
        orientation,
    })
}

/// Copies the entropy-coded data of a scan starting at `start` into `out` and returns the
/// position of the marker that ends it. Stuffed bytes (`FF 00`) and restart markers
/// (`FF D0`..`FF D7`) belong to the scan.
fn copy_entropy(input: &[u8], start: usize, out: &mut Vec<u8>) -> Result<usize, EvidenceError> {
    let mut pos = start;
    loop {
        let ff = input
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
            .map(|i| pos + i)
            .ok_or_else(|| corrupt("truncated JPEG: image data ends without a marker"))?;
        let mut next = ff + 1;
        while input.get(next) == Some(&0xFF) {
            next += 1;
        }
        match input.get(next) {
            None => return Err(corrupt("truncated JPEG: image data ends without a marker")),
            Some(0x00 | 0xD0..=0xD7) => pos = next + 1,
            Some(_) => {
                out.extend_from_slice(&input[start..ff]);
                return Ok(ff);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------------------------

pub(crate) const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Ancillary chunks that affect how the image looks (colour, transparency, pixel size, APNG
/// frames). Every other ancillary chunk, including `eXIf`, `tEXt`, `zTXt`, `iTXt`, `tIME` and
/// private ones, is dropped. Critical chunks (upper-case first letter) are always kept.
const PNG_KEEP: [&[u8; 4]; 15] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"hIST", b"cICP",
    b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
];

/// Walks the PNG chunks up to `IEND`, keeping the critical chunks and the rendering-relevant
/// ancillary ones; anything after `IEND` is dropped.
fn strip_png(input: &[u8]) -> Result<Stripped, EvidenceError> {
    if !input.starts_with(PNG_SIGNATURE) {
        return Err(corrupt("not a PNG file"));
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut orientation = None;
    let mut exif_at = None;
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let data_len = be_u32(input, pos).ok_or_else(|| corrupt("truncated PNG: no IEND chunk"))?;
        if data_len > 0x7FFF_FFFF {
            return Err(corrupt("PNG chunk with an invalid length"));
        }
        let kind: [u8; 4] = input
            .get(pos + 4..pos + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| corrupt("truncated PNG: no IEND chunk"))?;
        let end = usize::try_from(data_len)
            .ok()
            .and_then(|n| pos.checked_add(12)?.checked_add(n))
            .filter(|&end| end <= input.len())
            .ok_or_else(|| corrupt("truncated PNG chunk"))?;
        let data = &input[pos + 8..end - 4];
        let chunk = &input[pos..end];
        let first = pos == PNG_SIGNATURE.len();
        pos = end;

        if first && &kind != b"IHDR" {
            return Err(corrupt("PNG does not start with IHDR"));
        }
        if &kind == b"eXIf" && orientation.is_none() {
            orientation = Some(exif_orientation(data));
        }
        let critical = kind[0].is_ascii_uppercase();
        if critical || PNG_KEEP.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        if first {
            exif_at = Some(out.len());
        }
        if &kind == b"IEND" {
            break;
        }
    }

    let orientation = orientation.unwrap_or(Orientation::NoTransforms);
    if orientation != Orientation::NoTransforms
        && let Some(at) = exif_at
    {
        out.splice(at..at, png_chunk(b"eXIf", &orientation_tiff(orientation)));
    }
    Ok(Stripped {
        bytes: out,
        orientation,
    })
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(data.len() + 12);
    // callers only pass small generated blocks
    c.extend_from_slice(&(data.len() as u32).to_be_bytes());
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let crc = crc32(&c[4..]);
    c.extend_from_slice(&crc.to_be_bytes());
    c
}

/// CRC-32 (ISO-HDLC, as PNG uses it); bitwise, only run over a few dozen bytes.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------------
// WebP
// ---------------------------------------------------------------------------------------------

/// VP8X flag bits (first byte of the VP8X payload).
pub(crate) const VP8X_EXIF: u8 = 0x08;
pub(crate) const VP8X_XMP: u8 = 0x04;

/// The chunks that make up the picture; `EXIF`, `XMP ` and unknown chunks are dropped.
const WEBP_KEEP: [&[u8; 4]; 7] = [
    b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L",
];

/// Walks the RIFF container of a WebP file, drops `EXIF`, `XMP ` and unknown chunks, clears the
/// matching VP8X flags and drops anything after the RIFF payload.
fn strip_webp(input: &[u8]) -> Result<Stripped, EvidenceError> {
    if input.get(..4) != Some(&b"RIFF"[..]) || input.get(8..12) != Some(&b"WEBP"[..]) {
        return Err(corrupt("not a WebP file"));
    }
    let riff_len = le_u32(input, 4).ok_or_else(|| corrupt("truncated WebP header"))?;
    let total = usize::try_from(riff_len)
        .ok()
        .and_then(|n| n.checked_add(8))
        .filter(|&t| t >= 12 && t <= input.len())
        .ok_or_else(|| corrupt("truncated WebP file"))?;
    let body = &input[12..total];

    let mut kept: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut exif = None;
    let mut pos = 0;
    while pos < body.len() {
        let id: [u8; 4] = body
            .get(pos..pos + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| corrupt("truncated WebP chunk header"))?;
        let size = le_u32(body, pos + 4).ok_or_else(|| corrupt("truncated WebP chunk header"))?;
        let data_end = usize::try_from(size)
            .ok()
            .and_then(|n| (pos + 8).checked_add(n))
            .filter(|&e| e <= body.len())
            .ok_or_else(|| corrupt("truncated WebP chunk"))?;
        let data = &body[pos + 8..data_end];
        // odd-sized chunks are followed by one padding byte (tolerated missing at the very end)
        pos = (data_end + (data.len() & 1)).min(body.len());

        if &id == b"EXIF" && exif.is_none() {
            exif = Some(data);
        }
        if WEBP_KEEP.contains(&&id) {
            kept.push((id, data));
        }
    }

    if !kept
        .iter()
        .any(|(id, _)| matches!(id, b"VP8 " | b"VP8L" | b"ANMF"))
    {
        return Err(corrupt("WebP has no image data"));
    }

    // EXIF in a WebP is only defined for the extended format (VP8X first)
    let extended = kept
        .first()
        .is_some_and(|(id, d)| id == b"VP8X" && !d.is_empty());
    let orientation = match exif {
        Some(e) if extended => exif_orientation(e),
        _ => Orientation::NoTransforms,
    };
    let exif_block =
        (orientation != Orientation::NoTransforms).then(|| orientation_tiff(orientation));

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut push = |id: &[u8; 4], data: &[u8], first_byte: Option<u8>| {
        out.extend_from_slice(id);
        // chunks come from a file no longer than max_bytes, and we only shrink them
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        match first_byte {
            Some(b) => {
                out.push(b);
                out.extend_from_slice(&data[1..]);
            }
            None => out.extend_from_slice(data),
        }
        if data.len() % 2 == 1 {
            out.push(0);
        }
    };
    for (i, (id, data)) in kept.iter().enumerate() {
        if i == 0 && extended {
            let mut flags = data[0] & !(VP8X_EXIF | VP8X_XMP);
            if exif_block.is_some() {
                flags |= VP8X_EXIF;
            }
            push(id, data, Some(flags));
        } else {
            push(id, data, None);
        }
    }
    if let Some(block) = &exif_block {
        push(b"EXIF", block, None);
    }
    let riff_len = u32::try_from(out.len() - 8).map_err(|_| corrupt("WebP file too large"))?;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    Ok(Stripped {
        bytes: out,
        orientation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A syntactically plausible JPEG skeleton (not decodable; the walker does not decode).
    fn skeleton(entropy: &[u8], extra_before_sof: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut j = vec![0xFF, M_SOI];
        let mut jfif = b"JFIF\0\x01\x01\x00\x00\x01\x00\x01".to_vec();
        jfif.extend_from_slice(&[2, 1, 9, 9, 9, 8, 8, 8]); // a 2x1 RGB thumbnail
        j.extend(seg(M_APP0, &jfif));
        for s in extra_before_sof {
            j.extend_from_slice(s);
        }
        j.extend(seg(0xDB, &[0; 65])); // DQT
        j.extend(seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0])); // SOF0 1x1
        j.extend(seg(0xC4, &[0; 17])); // DHT
        j.extend(seg(M_SOS, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(entropy);
        j.extend_from_slice(&[0xFF, M_EOI]);
        j.extend_from_slice(trailer);
        j
    }

    #[test]
    fn jpeg_entropy_is_copied_verbatim_and_metadata_dropped() {
        // stuffed bytes, restart markers and fill bytes inside the scan
        let entropy = [
            0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF, 0xD5, 0x78,
        ];
        let exif = [EXIF_PREFIX, &b"MM\0\x2a GPSLatitude"[..]].concat();
        let extra = vec![
            seg(M_APP1, &exif),
            seg(M_APP1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"),
            seg(M_APP2, b"ICC_PROFILE\0\x01\x01iccdata"),
            seg(M_APP2, b"MPF\0secret-index"),
            seg(0xED, b"Photoshop 3.0\0IPTC-byline"),
            seg(M_APP14, b"Adobe\0\x64\0\0\0\0\x01"),
            seg(0xEC, b"Ducky-vendor"),
            seg(M_COM, b"a comment"),
        ];
        let input = skeleton(&entropy, &extra, b"appended-after-EOI Exif GPS");
        let out = strip_jpeg(&input).expect("strips").bytes;

        for gone in [
            &b"GPS"[..],
            b"xmpmeta",
            b"MPF",
            b"IPTC",
            b"Ducky",
            b"comment",
            b"appended",
            &[9, 9, 9, 8, 8, 8],
        ] {
            assert!(
                !contains(&out, gone),
                "{:?} survived",
                String::from_utf8_lossy(gone)
            );
        }
        assert!(contains(&out, b"ICC_PROFILE\0\x01\x01iccdata"));
        assert!(contains(&out, b"Adobe\0\x64"));
        // bare JFIF header, thumbnail size 0x0
        assert!(contains(
            &out,
            b"\xFF\xE0\x00\x10JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        ));
        let mut tail = entropy.to_vec();
        tail.extend_from_slice(&[0xFF, M_EOI]);
        assert!(out.ends_with(&tail), "entropy or EOI changed");
        assert_eq!(
            strip_jpeg(&out).expect("strips again").bytes,
            out,
            "not idempotent"
        );
    }

    #[test]
    fn jpeg_multi_scan_keeps_every_scan_and_drops_metadata_between_them() {
        // progressive files carry several scans with tables in between
        let mut input = skeleton(&[0x11, 0x22], &[], b"");
        input.truncate(input.len() - 2); // reopen after the first scan
        input.extend(seg(
            M_APP1,
            b"http://ns.adobe.com/xap/1.0/\0GPS between scans",
        ));
        input.extend(seg(0xC4, &[1; 17]));
        input.extend(seg(M_SOS, &[1, 1, 0, 1, 63, 0]));
        input.extend_from_slice(&[0x33, 0xFF, 0x00, 0x44]);
        input.extend_from_slice(&[0xFF, M_EOI]);
        let out = strip_jpeg(&input).expect("strips").bytes;
        assert!(!contains(&out, b"GPS"));
        let second_scan = [
            &seg(0xC4, &[1; 17])[..],
            &seg(M_SOS, &[1, 1, 0, 1, 63, 0]),
            &[0x33, 0xFF, 0x00, 0x44, 0xFF, M_EOI],
        ]
        .concat();
        assert!(out.ends_with(&second_scan));
        assert!(contains(&out, &[0x11, 0x22, 0xFF, 0xC4]));
    }

    #[test]
    fn jpeg_keeps_only_orientation_from_exif() {
        // little-endian TIFF: IFD0 with Make (ASCII, offset) and Orientation = 6
        let mut tiff = b"II\x2a\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&[0x0F, 0x01, 2, 0, 8, 0, 0, 0, 38, 0, 0, 0]); // Make
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        tiff.extend_from_slice(b"GPSCam\0\0");
        let exif = [EXIF_PREFIX, tiff.as_slice()].concat();
        let input = skeleton(&[1, 2, 3], &[seg(M_APP1, &exif)], b"");
        let s = strip_jpeg(&input).expect("strips");
        assert_eq!(s.orientation, Orientation::Rotate90);
        assert!(!contains(&s.bytes, b"GPSCam"));
        // the new APP1 follows the JFIF header and reads back as orientation 6 only
        let app1 = [
            &[0xFF, M_APP1, 0, 34][..],
            EXIF_PREFIX,
            &orientation_tiff(Orientation::Rotate90),
        ]
        .concat();
        assert_eq!(&s.bytes[2 + 18..2 + 18 + app1.len()], &app1[..]);
        assert_eq!(
            Orientation::from_exif_chunk(&orientation_tiff(Orientation::Rotate90)),
            Some(Orientation::Rotate90)
        );
    }

    #[test]
    fn jpeg_without_eoi_or_scan_is_corrupt() {
        let good = skeleton(&[1, 2, 3], &[], b"");
        for cut in 2..good.len() {
            assert!(
                matches!(strip_jpeg(&good[..cut]), Err(EvidenceError::Corrupt(_))),
                "truncated at {cut} accepted"
            );
        }
        let no_scan = [&[0xFF, M_SOI][..], &seg(0xDB, &[0; 65]), &[0xFF, M_EOI]].concat();
        assert!(matches!(
            strip_jpeg(&no_scan),
            Err(EvidenceError::Corrupt(_))
        ));
        let bad_len = [&[0xFF, M_SOI][..], &[0xFF, 0xDB, 0, 1]].concat();
        assert!(matches!(
            strip_jpeg(&bad_len),
            Err(EvidenceError::Corrupt(_))
        ));
    }

    #[test]
    fn crc32_matches_known_value() {
        // CRC of the IEND chunk type, as found in every PNG
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn png_drops_text_time_and_trailer() {
        let mut p = PNG_SIGNATURE.to_vec();
        p.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        p.extend(png_chunk(b"tEXt", b"Comment\0GPS 22.54N"));
        p.extend(png_chunk(b"zTXt", b"Author\0\0xx"));
        p.extend(png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<xmp/>"));
        p.extend(png_chunk(b"tIME", &[7, 234, 1, 1, 0, 0, 0]));
        p.extend(png_chunk(b"eXIf", b"MM\0\x2aGPSxx"));
        p.extend(png_chunk(b"prVt", b"private"));
        p.extend(png_chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]));
        p.extend(png_chunk(b"IDAT", &[1, 2, 3]));
        p.extend(png_chunk(b"IEND", &[]));
        p.extend_from_slice(b"trailing GPS");
        let out = strip_png(&p).expect("strips").bytes;
        for gone in [
            &b"GPS"[..],
            b"tEXt",
            b"zTXt",
            b"iTXt",
            b"tIME",
            b"eXIf",
            b"prVt",
            b"trailing",
        ] {
            assert!(
                !contains(&out, gone),
                "{:?} survived",
                String::from_utf8_lossy(gone)
            );
        }
        assert!(contains(&out, b"pHYs") && contains(&out, b"IDAT"));
        assert!(out.ends_with(&png_chunk(b"IEND", &[])));
        for cut in 8..p.len() - 12 - 12 {
            assert!(strip_png(&p[..cut]).is_err(), "truncated at {cut} accepted");
        }
    }
}
