//! The Fresns envelope for failures: `{code, message, data}`, HTTP 200 and
//! `application/json` for everything a client caused (never the text/html that
//! upstream sends for header errors). Internal failures are HTTP 500 with a
//! generic message; the cause goes to the log.
//!
//! Responses are rendered in English here; the `localize` middleware re-renders
//! them in the request's language from the [`Failure`] left in the response.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use super::dto::Failed;
use crate::error_chain::ErrorChain;
use colloq_core::{CoreError, Refusal};
use colloq_domain::conversation::MessagingRefusal;
use colloq_domain::file::FileKind;
use colloq_domain::page::Seek;

use super::codes::{Code, Lang};

/// Why a Fresns request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A header failed validation (21005), with the validator's message.
    #[error("{0}")]
    Header(String),
    /// A parameter failed validation (30000), with a message naming it.
    #[error("{0}")]
    Param(String),
    /// The request body stopped arriving: HTTP 408, 30000.
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// A Fresns code with its standard message.
    #[error("code {0:?}")]
    Code(Code),
    /// A use case refused or failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl crate::state::ConnectionLost for ApiError {
    fn connection_lost(&self) -> bool {
        matches!(self, Self::Core(err) if err.connection_lost())
    }
}

/// The code a messaging refusal is reported with.
pub(crate) fn messaging_code(refusal: MessagingRefusal) -> Code {
    match refusal {
        MessagingRefusal::SelfMessage => Code::UserUnknown,
        MessagingRefusal::RecipientDeleted => Code::UserDeactivated,
        MessagingRefusal::Disabled => Code::UserBanned,
        MessagingRefusal::RecipientRefusesAll => Code::RecipientRefusesAll,
        MessagingRefusal::RequiresFollow => Code::RequiresFollow,
        MessagingRefusal::RequiresFollowOrVerified => Code::RequiresFollowOrVerified,
    }
}

/// The code that refuses a kind of file in conversations (36109–36112).
pub(crate) fn kind_refused(kind: FileKind) -> ApiError {
    ApiError::Code(match kind {
        FileKind::Image => Code::ImagesRefused,
        FileKind::Video => Code::VideosRefused,
        FileKind::Audio => Code::AudiosRefused,
        FileKind::Document => Code::DocumentsRefused,
    })
}

/// The answer to a client over one of the per-address limits (see
/// `throttle`), in the request's language.
pub(crate) fn rate_limited(lang: Lang, retry_after: std::time::Duration) -> HttpResponse {
    ApiError::Core(CoreError::RateLimited { retry_after })
        .failure()
        .render(lang)
}

/// How a refused or failed upload is reported.
pub(crate) fn upload_error(err: crate::files::UploadError) -> ApiError {
    use crate::files::UploadError;
    use colloq_storage::IngestError;
    match err {
        UploadError::Refused(IngestError::NotAllowed(kind)) => kind_refused(kind),
        UploadError::Refused(IngestError::Unsupported) => ApiError::Code(Code::FileTypeUnsupported),
        UploadError::Refused(IngestError::Io(e)) => {
            tracing::error!(error = %ErrorChain(&e), "receiving an upload");
            ApiError::Core(CoreError::Internal("receiving the upload failed"))
        }
        UploadError::Internal(e) => ApiError::Core(e),
        UploadError::TimedOut => ApiError::TimedOut,
        other => ApiError::Param(format!("The file is invalid: {other}.")),
    }
}

fn refusal_code(refusal: Refusal) -> Code {
    match refusal {
        Refusal::UnknownAccount => Code::AccountUnknown,
        Refusal::TooManyAttempts => Code::TooManyAttempts,
        // Reported as a parameter error with its own text (see `failure`).
        Refusal::IdempotencyKeyReused => Code::ParamInvalid,
        Refusal::WrongPassword => Code::PasswordWrong,
        Refusal::UnknownUser => Code::UserUnknown,
        Refusal::UserNotOfAccount => Code::UserNotOfAccount,
        Refusal::PasswordRequired => Code::PasswordMissing,
        Refusal::WrongUserPassword => Code::UserPasswordWrong,
        Refusal::AccountTokenInvalid => Code::AccountTokenWrong,
        Refusal::UserTokenInvalid => Code::UserTokenWrong,
        Refusal::TokenPlatformMismatch => Code::PlatformSessionMismatch,
        Refusal::TokenExpired => Code::TokenExpired,
        Refusal::UnknownConversation => Code::ConversationUnknown,
        Refusal::NotParticipant => Code::ConversationNotYours,
        Refusal::SelfConversation => Code::SelfConversation,
        Refusal::Messaging(m) => messaging_code(m),
        Refusal::BlockedWords => Code::BlockedWords,
        // Reported as parameter errors with their own text (see `failure`).
        Refusal::File(_) | Refusal::AnchorElsewhere(_) => Code::ParamInvalid,
    }
}

/// What a failed response says, kept so it can be re-rendered in another language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    code: Code,
    /// The validator's text for 21005 and 30000.
    detail: Option<String>,
    /// 200 for what a client caused (upstream's way), 500 for internal
    /// failures; 408, 429 and 503, which clients and proxies act on.
    status: StatusCode,
    /// Seconds for `Retry-After` (429 and 503).
    retry_after: Option<u64>,
}

impl Failure {
    pub(crate) fn render(&self, lang: Lang) -> HttpResponse {
        let standard = self.code.message(lang);
        let (text, data) = match (&self.detail, self.code) {
            (Some(reason), Code::HeaderInvalid) => (
                format!("[Fresns][checkHeaders]: {standard}, reason: {reason}"),
                Some([reason.as_str()]),
            ),
            (Some(reason), _) => (reason.clone(), None),
            (None, _) => (standard.to_owned(), None),
        };
        let mut builder = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, secs));
        }
        let mut res = builder.json(Failed {
            code: self.code.number(),
            message: &text,
            data,
        });
        res.extensions_mut().insert(self.clone());
        crate::ops::mark(&mut res, super::NAME, self.code.number());
        res
    }
}

impl ApiError {
    fn failure(&self) -> Failure {
        let (code, detail) = match self {
            Self::Header(reason) => (Code::HeaderInvalid, Some(reason.clone())),
            Self::Param(reason) => (Code::ParamInvalid, Some(reason.clone())),
            Self::TimedOut => {
                return Failure {
                    code: Code::ParamInvalid,
                    detail: Some("The request body did not arrive in time.".to_owned()),
                    status: StatusCode::REQUEST_TIMEOUT,
                    retry_after: None,
                };
            }
            Self::Code(code) => (*code, None),
            Self::Core(err) => match err {
                CoreError::Domain(e) => (Code::ParamInvalid, Some(e.to_string())),
                CoreError::Taken(field) => (
                    Code::ParamInvalid,
                    Some(format!("The {field} has already been taken.")),
                ),
                CoreError::InvalidCredentials => (Code::PasswordWrong, None),
                CoreError::NotVisible | CoreError::Forbidden(_) => {
                    (Code::ConversationNotYours, None)
                }
                // Laravel's `exists` rule text, whatever the reason, so fids of
                // other people's files cannot be probed.
                CoreError::Refused(Refusal::File(_)) => (
                    Code::ParamInvalid,
                    Some("The selected fid is invalid.".to_owned()),
                ),
                CoreError::Refused(Refusal::IdempotencyKeyReused) => (
                    Code::ParamInvalid,
                    Some("The Idempotency-Key was used for a different message.".to_owned()),
                ),
                CoreError::Refused(Refusal::AnchorElsewhere(seek)) => (
                    Code::ParamInvalid,
                    Some(format!(
                        "The {} does not name a message of this conversation.",
                        match seek {
                            Seek::Before => "before id",
                            Seek::After => "after id",
                        }
                    )),
                ),
                CoreError::Refused(refusal) => (refusal_code(*refusal), None),
                CoreError::Conflict => (
                    Code::ParamInvalid,
                    Some("The object changed meanwhile, please try again.".to_owned()),
                ),
                CoreError::Store(_) | CoreError::Unavailable(_) if err.is_transient() => {
                    return Failure {
                        code: Code::Internal,
                        detail: Some(
                            "The service is briefly unavailable, please try again.".to_owned(),
                        ),
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        retry_after: Some(crate::RETRY_AFTER_SECS),
                    };
                }
                CoreError::RateLimited { retry_after } => {
                    return Failure {
                        code: Code::TooManyRequests,
                        detail: None,
                        status: StatusCode::TOO_MANY_REQUESTS,
                        retry_after: Some(crate::retry_after_secs(*retry_after)),
                    };
                }
                CoreError::Store(_)
                | CoreError::Auth(_)
                | CoreError::Unavailable(_)
                | CoreError::Internal(_) => (Code::Internal, None),
            },
        };
        let status = if code == Code::Internal {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        Failure {
            code,
            detail,
            status,
            retry_after: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.failure().status
    }

    fn error_response(&self) -> HttpResponse {
        let failure = self.failure();
        if failure.status.is_server_error() {
            tracing::error!(error = %ErrorChain(self), "request failed");
        }
        failure.render(Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloq_persistence::StoreError;

    #[test]
    fn refusals_get_their_codes_and_internals_stay_hidden() {
        assert_eq!(
            ApiError::Code(Code::SignatureWrong).failure().code,
            Code::SignatureWrong
        );
        assert_eq!(
            ApiError::from(CoreError::Refused(Refusal::NotParticipant))
                .failure()
                .code,
            Code::ConversationNotYours
        );
        let internal = ApiError::from(CoreError::Store(StoreError::Corrupt("secret")));
        assert_eq!(internal.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(internal.failure().detail, None);
    }
}
