//! What both dialects share about files: receiving a multipart upload into
//! storage, building file URLs, and serving `GET /files/{fid}` with the sniffed
//! `Content-Type`, a strong `ETag` and byte ranges, from either backend.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use colloq_core::CoreError;
use colloq_core::files as uses;
use colloq_domain::file::{FileKind, StoredFile};
use colloq_domain::ids::UserId;
use colloq_domain::user::User;
use colloq_storage::{Ingest, IngestError, Policy};
use futures_util::StreamExt as _;

use crate::AppState;

/// Text fields of an upload form are small; anything longer is refused.
const FIELD_MAX_BYTES: usize = 4096;
/// At most this many text fields are read.
const MAX_FIELDS: usize = 32;
/// A refused upload is still read to its end, up to this much, so the client
/// gets the envelope instead of a reset connection; beyond it the connection
/// is closed.
const DRAIN_MIN_BYTES: u64 = 256 * 1024 * 1024;

/// Why an upload did not arrive.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    /// The body is not a readable multipart form.
    #[error("the request must be multipart/form-data: {0}")]
    Malformed(String),
    /// No `file` part.
    #[error("the file field is required")]
    MissingFile,
    /// A text field too long or too many fields.
    #[error("form field {0} is too long")]
    FieldTooLong(String),
    /// The file itself was refused.
    #[error(transparent)]
    Refused(IngestError),
    /// The body stopped arriving (see `limits`).
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// Storing failed (internal).
    #[error("storing the upload")]
    Internal(#[source] CoreError),
}

impl From<actix_multipart::MultipartError> for UploadError {
    fn from(err: actix_multipart::MultipartError) -> Self {
        match err {
            actix_multipart::MultipartError::Payload(e) if crate::limits::is_timeout(&e) => {
                Self::TimedOut
            }
            other => Self::Malformed(other.to_string()),
        }
    }
}

impl From<CoreError> for UploadError {
    fn from(err: CoreError) -> Self {
        Self::Internal(err)
    }
}

/// A received upload form: its text fields and the file, received and
/// described but not yet recorded or stored.
pub(crate) struct Received {
    pub(crate) fields: HashMap<String, String>,
    pub(crate) file: colloq_storage::Ingested,
    pub(crate) name: String,
}

impl Received {
    /// Drops an upload refused after it arrived.
    pub(crate) async fn discard(self) {
        self.file.discard().await;
    }
}

/// Reads a multipart form whose file part is `file`, streaming the file into a
/// temporary file under `policy`.
pub(crate) async fn receive(
    state: &AppState,
    mut form: Multipart,
    policy: Policy,
) -> Result<Received, UploadError> {
    let drain_limit = DRAIN_MIN_BYTES.max(policy.limits.largest().saturating_mul(2));
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(part) = form.next().await {
        let mut part = part?;
        let name = part.name().unwrap_or_default().to_owned();
        let filename = part
            .content_disposition()
            .and_then(|d| d.get_filename().map(str::to_owned));
        if name == "file" && file.is_none() {
            let mut ingest = Ingest::start(&state.settings().files.incoming_dir(), policy.clone())
                .await
                .map_err(UploadError::Refused)?;
            while let Some(chunk) = part.next().await {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        ingest.discard().await;
                        return Err(e.into());
                    }
                };
                if let Err(refused) = ingest.write(&chunk).await {
                    ingest.discard().await;
                    drain(Some(part), form, drain_limit).await;
                    return Err(UploadError::Refused(refused));
                }
            }
            match ingest.finish().await {
                Ok(done) => {
                    metrics::counter!("colloq_upload_bytes_total").increment(done.meta.size);
                    file = Some((done, filename.unwrap_or_default()));
                }
                Err(refused) => {
                    // The form yields no further part while this one is alive.
                    drop(part);
                    drain(None, form, drain_limit).await;
                    return Err(UploadError::Refused(refused));
                }
            }
        } else {
            if fields.len() >= MAX_FIELDS {
                return Err(UploadError::FieldTooLong(name));
            }
            let mut value = Vec::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk?;
                if value.len() + chunk.len() > FIELD_MAX_BYTES {
                    return Err(UploadError::FieldTooLong(name));
                }
                value.extend_from_slice(&chunk);
            }
            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
        }
    }
    let (file, name) = file.ok_or(UploadError::MissingFile)?;
    Ok(Received {
        fields,
        file,
        name: uses::clean_name(&name),
    })
}

/// Reads and discards the rest of a refused upload (the unfinished `part`,
/// then the other parts), up to `limit` bytes.
async fn drain(part: Option<actix_multipart::Field>, mut form: Multipart, limit: u64) {
    let mut seen = 0_u64;
    if let Some(mut part) = part {
        while let Some(Ok(chunk)) = part.next().await {
            seen += chunk.len() as u64;
            if seen > limit {
                return;
            }
        }
    }
    while let Some(Ok(mut next)) = form.next().await {
        while let Some(Ok(chunk)) = next.next().await {
            seen += chunk.len() as u64;
            if seen > limit {
                return;
            }
        }
    }
}

/// Records a received upload by `uploader` and stores its content (once per
/// distinct content). The row is written first and removed again if storing
/// fails, so a recorded upload always has its bytes.
pub(crate) async fn store(
    state: &AppState,
    uploader: &User,
    received: Received,
    scope_user: Option<UserId>,
) -> Result<StoredFile, UploadError> {
    let Received { file, name, .. } = received;
    let meta = file.meta.clone();
    let who = uploader.clone();
    let stored = state
        .run(move |conn, now| uses::record_upload(conn, &who, &meta, &name, scope_user, now))
        .await;
    let stored = match stored {
        Ok(stored) => stored,
        Err(e) => {
            file.discard().await;
            return Err(e.into());
        }
    };
    let put = state.store().ensure(&stored.meta.sha256, file.path()).await;
    file.discard().await;
    if let Err(e) = put {
        tracing::error!(error = %crate::error_chain::ErrorChain(&e), "storing an upload");
        let id = stored.id;
        if let Err(forget) = state
            .run(move |conn, _| uses::forget_upload(conn, id))
            .await
        {
            tracing::error!(error = %crate::error_chain::ErrorChain(&forget), "forgetting an unstored upload");
        }
        return Err(UploadError::Internal(CoreError::Unavailable(
            "file storage failed",
        )));
    }
    Ok(stored)
}

/// The origin file URLs start with: the configured public URL, or the
/// request's own scheme and host.
pub(crate) fn origin(req: &HttpRequest, state: &AppState) -> String {
    let configured = state.settings().files.public_url.trim_end_matches('/');
    if configured.is_empty() {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    } else {
        configured.to_owned()
    }
}

/// The path of an upload: its fid and its sniffed extension.
pub(crate) fn file_path(file: &StoredFile) -> String {
    file_path_of(&file.fid, &file.meta.extension)
}

/// [`file_path`] from its parts.
pub(crate) fn file_path_of(fid: &str, extension: &str) -> String {
    format!("/files/{fid}.{extension}")
}

/// The public id in a content string that refers to one of colloq's file
/// URLs (`/files/{fid}[.ext]`, relative or on `origin`); `None` for any other
/// content, which is kept as the client sent it.
pub(crate) fn referenced_fid<'a>(content: &'a str, origin: &str) -> Option<&'a str> {
    let content = content.trim();
    let path = match content.strip_prefix(origin) {
        Some(rest) => rest,
        None if content.starts_with("/files/") => content,
        None => return None,
    };
    let fid = fid_of(path.strip_prefix("/files/")?);
    (!fid.is_empty() && fid.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(fid)
}

/// The fid in a file name (`{fid}.{ext}` or a bare fid).
fn fid_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(fid, _ext)| fid)
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"code": 404, "msg": "file not found"}))
}

/// A 500 whose cause goes to the log only.
fn internal(what: &str, err: &dyn std::error::Error) -> HttpResponse {
    tracing::error!(error = %crate::error_chain::ErrorChain(err), "{what}");
    HttpResponse::InternalServerError()
        .json(serde_json::json!({"code": 500, "msg": "internal server error"}))
}

/// `GET /files/{name}`: the bytes of an upload. The fid in the name is the
/// capability; the extension is decoration.
pub(crate) async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let name = name.into_inner();
    let fid = name
        .split_once('.')
        .map_or(name.as_str(), |(fid, _)| fid)
        .to_owned();
    let found = state.run(move |conn, _| uses::find(conn, &fid)).await;
    let file = match found {
        Ok(Some(file)) => file,
        Ok(None) => return not_found(),
        Err(e) => return internal("looking up a file", &e),
    };
    let etag = format!("\"{}\"", file.meta.sha256);
    let size = file.meta.size;
    let headers = req.headers();
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    // A Range applies unless If-Range names another version.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(raw) if if_range_ok => match http_range_header::parse_range_header(raw) {
            Ok(parsed) => match parsed.validate(size) {
                Ok(ranges) if ranges.len() == 1 => ranges.into_iter().next(),
                // Several ranges: answer with the whole file (allowed by RFC 9110).
                Ok(_) => None,
                Err(_) => {
                    return HttpResponse::RangeNotSatisfiable()
                        .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                        .insert_header((header::ETAG, etag))
                        .finish();
                }
            },
            // Not a byte range we understand: ignore it, as RFC 9110 allows.
            Err(_) => None,
        },
        _ => None,
    };
    let disposition = ContentDisposition {
        disposition: if file.meta.kind == FileKind::Document {
            DispositionType::Attachment
        } else {
            DispositionType::Inline
        },
        parameters: disposition_names(&file.name),
    };
    let mut response = match &range {
        Some(r) => {
            let mut builder = HttpResponse::PartialContent();
            builder.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start(), r.end()),
            ));
            builder
        }
        None => HttpResponse::Ok(),
    };
    response
        .insert_header((header::CONTENT_TYPE, file.meta.mime.clone()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(disposition);
    let length = range.as_ref().map_or(size, |r| r.end() - r.start() + 1);
    if req.method() == actix_web::http::Method::HEAD {
        return response
            .insert_header((header::CONTENT_LENGTH, length))
            .finish();
    }
    let body = match state
        .store()
        .read(&file.meta.sha256, range.map(|r| *r.start()..r.end() + 1))
        .await
    {
        Ok(body) => body,
        Err(e) => return internal("reading a stored file", &e),
    };
    response.no_chunking(length).streaming(body)
}

/// Mounts the file route.
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/files/{name}")
            .route(web::get().to(download))
            .route(web::head().to(download)),
    );
}

/// A file's name for `Content-Disposition` (RFC 6266): an ASCII `filename`
/// for old clients (other characters as `_`) and the name itself as
/// `filename*=UTF-8''…`. Cleaned again, as names stored before the cleaning
/// rules grew may hold what they now drop.
fn disposition_names(stored: &str) -> Vec<DispositionParam> {
    let name = uses::clean_name(stored);
    let ascii = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    vec![
        DispositionParam::Filename(ascii),
        DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: name.into_bytes(),
        }),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_go_out_as_ascii_and_as_utf_8() {
        let header = actix_web::http::header::ContentDisposition {
            disposition: actix_web::http::header::DispositionType::Attachment,
            parameters: super::disposition_names("报告\u{202E}fdp.exe\"x"),
        };
        assert_eq!(
            header.to_string(),
            "attachment; filename=\"__fdp.exe_x\"; filename*=UTF-8''%E6%8A%A5%E5%91%8Afdp.exe%22x"
        );
    }

    use super::*;

    #[test]
    fn only_colloq_file_urls_are_references() {
        let origin = "https://chat.example.com";
        let fid = "AbCdEfGhIjKlMnOpQrStUv";
        assert_eq!(
            referenced_fid(&format!("{origin}/files/{fid}.png"), origin),
            Some(fid)
        );
        assert_eq!(referenced_fid(&format!("/files/{fid}"), origin), Some(fid));
        assert_eq!(
            referenced_fid(&format!("https://cdn.example.org/files/{fid}.png"), origin),
            None
        );
        assert_eq!(referenced_fid("https://example.org/a.png", origin), None);
        assert_eq!(referenced_fid("/files/../etc", origin), None);
    }
}
