//! What a file is, decided from its first bytes: never from the client's
//! `Content-Type` or file name.

use colloq_domain::file::FileKind;

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 8 * 1024;

/// A recognised, allowed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// Its MIME type.
    pub mime: &'static str,
    /// Its usual extension.
    pub extension: &'static str,
    /// Its kind.
    pub kind: FileKind,
}

/// The formats colloq accepts, by sniffed MIME type, with their usual
/// extension. Everything else (programs, HTML, SVG, disk images, unknown
/// binaries) is refused: the files are served back from colloq's own origin,
/// so nothing a browser would run is stored. Plain text is recognised apart
/// from `infer` (see [`sniff`]).
const ALLOWED: &[(&str, &str, FileKind)] = &[
    ("image/jpeg", "jpg", FileKind::Image),
    ("image/png", "png", FileKind::Image),
    ("image/gif", "gif", FileKind::Image),
    ("image/webp", "webp", FileKind::Image),
    ("image/bmp", "bmp", FileKind::Image),
    ("image/heif", "heif", FileKind::Image),
    ("image/avif", "avif", FileKind::Image),
    ("video/mp4", "mp4", FileKind::Video),
    ("video/x-m4v", "m4v", FileKind::Video),
    ("video/webm", "webm", FileKind::Video),
    ("video/quicktime", "mov", FileKind::Video),
    ("video/x-matroska", "mkv", FileKind::Video),
    ("audio/mpeg", "mp3", FileKind::Audio),
    ("audio/m4a", "m4a", FileKind::Audio),
    ("audio/aac", "aac", FileKind::Audio),
    ("audio/ogg", "ogg", FileKind::Audio),
    ("audio/opus", "opus", FileKind::Audio),
    ("audio/x-wav", "wav", FileKind::Audio),
    ("audio/x-flac", "flac", FileKind::Audio),
    ("audio/amr", "amr", FileKind::Audio),
    ("application/pdf", "pdf", FileKind::Document),
    ("application/rtf", "rtf", FileKind::Document),
    ("application/msword", "doc", FileKind::Document),
    ("application/vnd.ms-excel", "xls", FileKind::Document),
    ("application/vnd.ms-powerpoint", "ppt", FileKind::Document),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        FileKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        FileKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        FileKind::Document,
    ),
    (
        "application/vnd.oasis.opendocument.text",
        "odt",
        FileKind::Document,
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "ods",
        FileKind::Document,
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        "odp",
        FileKind::Document,
    ),
    ("application/epub+zip", "epub", FileKind::Document),
    ("application/zip", "zip", FileKind::Document),
    ("application/x-7z-compressed", "7z", FileKind::Document),
    ("application/gzip", "gz", FileKind::Document),
    ("text/plain", "txt", FileKind::Document),
];

/// What a client may pick for `kind`, as upstream Fresns lists it in a user
/// panel's `fileAccept`: the MIME types, then the extensions with a dot, all
/// joined by commas (`image/jpeg,…,.jpg,…`).
pub fn accept_list(kind: FileKind) -> String {
    let mimes = ALLOWED
        .iter()
        .filter(|(_, _, k)| *k == kind)
        .map(|(mime, _, _)| (*mime).to_owned());
    let dotted = extensions(kind).into_iter().map(|e| format!(".{e}"));
    mimes.chain(dotted).collect::<Vec<_>>().join(",")
}

/// The usual extensions of the formats of `kind` colloq accepts (`jpg`, …).
pub fn extensions(kind: FileKind) -> Vec<&'static str> {
    ALLOWED
        .iter()
        .filter(|(_, _, k)| *k == kind)
        .map(|(_, extension, _)| *extension)
        .collect()
}

/// Recognises `head`, the first bytes of a file (at most [`SNIFF_LEN`], or the
/// whole file when `complete`). `None` means the format is not accepted.
pub fn sniff(head: &[u8], complete: bool) -> Option<Sniffed> {
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        return ALLOWED
            .iter()
            .find(|(m, _, _)| *m == mime && *m != "text/plain")
            .map(|(mime, _, kind)| Sniffed {
                mime,
                extension: found.extension(),
                kind: *kind,
            });
    }
    is_plain_text(head, complete).then_some(Sniffed {
        mime: "text/plain",
        extension: "txt",
        kind: FileKind::Document,
    })
}

/// UTF-8 without control characters other than white space. A cut in the middle
/// of a character at the end of an incomplete head is fine.
fn is_plain_text(head: &[u8], complete: bool) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if !complete && e.error_len().is_none() => {
            // Only the last character is cut: check what decoded.
            let valid = head.get(..e.valid_up_to()).unwrap_or_default();
            std::str::from_utf8(valid).unwrap_or_default()
        }
        Err(_) => return false,
    };
    // HTML served back from colloq's origin could run scripts; refuse it even as
    // "text". The check is cheap and deliberately broad.
    let lowered = text
        .get(..text.len().min(512))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ["<!doctype", "<html", "<script", "<svg", "<?xml"]
        .iter()
        .any(|tag| lowered.trim_start().starts_with(tag))
    {
        return false;
    }
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];

    #[test]
    fn formats_come_from_bytes() {
        assert_eq!(sniff(PNG, false).map(|s| s.mime), Some("image/png"));
        assert_eq!(
            sniff(b"%PDF-1.7\n", false).map(|s| (s.mime, s.kind)),
            Some(("application/pdf", FileKind::Document))
        );
        assert_eq!(
            sniff(b"hello\nworld", true).map(|s| s.extension),
            Some("txt")
        );
    }

    #[test]
    fn programs_markup_and_binaries_are_refused() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", false), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0", false), None);
        assert_eq!(sniff(b"<!DOCTYPE html><script>", true), None);
        assert_eq!(sniff(b"  <svg onload=alert(1)>", true), None);
        assert_eq!(sniff(b"\0\0\0\0binary", true), None);
        assert_eq!(sniff(b"", true), None);
    }

    #[test]
    fn a_character_cut_by_the_head_is_still_text() {
        let text = "é".repeat(10);
        let cut = &text.as_bytes()[..19];
        assert!(sniff(cut, false).is_some());
        assert!(sniff(cut, true).is_none());
    }
}
