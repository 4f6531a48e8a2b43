//! Building multipart uploads and sample files for the file tests.

use actix_web::test::TestRequest;

use crate::helpers::{Auth, Resp, TestApp};

/// One part of a multipart form.
pub(crate) enum Part<'a> {
    Text(&'a str, &'a str),
    File {
        field: &'a str,
        filename: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

const BOUNDARY: &str = "colloq-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body and its content type.
pub(crate) fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File {
                field,
                filename,
                content_type,
                bytes,
            } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Puts a multipart body on a request.
pub(crate) fn with_form(req: TestRequest, parts: &[Part<'_>]) -> TestRequest {
    let (content_type, body) = multipart(parts);
    req.insert_header(("Content-Type", content_type))
        .set_payload(body)
}

/// `POST /api/attachment/upload` with one file.
pub(crate) async fn upload(
    app: &TestApp,
    auth: Auth<'_>,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Resp {
    let req = TestApp::authed(TestRequest::post().uri("/api/attachment/upload"), auth);
    app.send(with_form(
        req,
        &[Part::File {
            field: "file",
            filename,
            content_type,
            bytes,
        }],
    ))
    .await
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
}

/// A PNG of `width` × `height` (well-formed chunks; `padding` extra bytes of an
/// ancillary chunk make it as large as a test needs).
pub(crate) fn png(width: u32, height: u32, padding: usize) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    if padding > 0 {
        // Vary the bytes by size so differently padded images differ in content.
        let filler: Vec<u8> = (0..padding).map(|i| (i % 251) as u8).collect();
        chunk(&mut out, b"tEXt", &filler);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A small PDF.
pub(crate) fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// The start of an ELF executable.
pub(crate) fn elf() -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\0".to_vec();
    out.resize(4096, 0);
    out
}

pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(bytes))
}
