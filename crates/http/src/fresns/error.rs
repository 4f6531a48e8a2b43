//! The Fresns envelope for failures: `{code, message, data}`, HTTP 200 and
//! `application/json` for everything a client caused (never the text/html that
//! upstream sends for header errors). Internal failures are HTTP 500 with a
//! generic message; the cause goes to the log.
//!
//! Responses are rendered in English here; the `localize` middleware re-renders
//! them in the request's language from the [`Failure`] left in the response.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::error_chain::ErrorChain;
use colloq_core::{CoreError, Refusal};
use colloq_domain::conversation::MessagingRefusal;
use serde_json::{Value, json};

use super::codes::{Lang, message};

/// Code of an internal failure (HTTP 500).
const INTERNAL: i32 = 500;

/// Why a Fresns request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A header failed validation (21005), with the validator's message.
    #[error("{0}")]
    Header(String),
    /// A parameter failed validation (30000), with a message naming it.
    #[error("{0}")]
    Param(String),
    /// A Fresns code with its standard message.
    #[error("code {0}")]
    Code(i32),
    /// A use case refused or failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<colloq_persistence::QueryError> for ApiError {
    fn from(err: colloq_persistence::QueryError) -> Self {
        Self::Core(err.into())
    }
}

/// The code a messaging refusal is reported with.
pub(crate) fn messaging_code(refusal: MessagingRefusal) -> i32 {
    match refusal {
        MessagingRefusal::SelfMessage => 31602,
        MessagingRefusal::RecipientDeleted => 35203,
        MessagingRefusal::Disabled => 35202,
        MessagingRefusal::RecipientRefusesAll => 36608,
        MessagingRefusal::RequiresFollow => 36606,
        MessagingRefusal::RequiresFollowOrVerified => 36607,
    }
}

fn refusal_code(refusal: Refusal) -> i32 {
    match refusal {
        Refusal::UnknownAccount => 31502,
        Refusal::TooManyAttempts => 34306,
        Refusal::WrongPassword => 34304,
        Refusal::UnknownUser => 31602,
        Refusal::UserNotOfAccount => 35201,
        Refusal::PasswordRequired => 34111,
        Refusal::WrongUserPassword => 35204,
        Refusal::AccountTokenInvalid => 31505,
        Refusal::UserTokenInvalid => 31603,
        Refusal::TokenPlatformMismatch => 31103,
        Refusal::TokenExpired => 31504,
        Refusal::UnknownConversation => 36601,
        Refusal::NotParticipant => 36602,
        Refusal::SelfConversation => 36603,
        Refusal::Messaging(m) => messaging_code(m),
        Refusal::BlockedWords => 36605,
        // Reported as a parameter error with its own text (see `failure`).
        Refusal::File(_) => 30000,
    }
}

/// What a failed response says, kept so it can be re-rendered in another language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    code: i32,
    /// The validator's text for 21005 and 30000.
    detail: Option<String>,
}

impl Failure {
    pub(crate) fn render(&self, lang: Lang) -> HttpResponse {
        let standard = message(self.code, lang);
        let (text, data) = match (&self.detail, self.code) {
            (Some(reason), 21005) => (
                format!("[Fresns][checkHeaders]: {standard}, reason: {reason}"),
                json!([reason]),
            ),
            (Some(reason), _) => (reason.clone(), Value::Null),
            (None, _) => (standard.to_owned(), Value::Null),
        };
        let status = if self.code == INTERNAL {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        let mut res = HttpResponse::build(status)
            .json(json!({"code": self.code, "message": text, "data": data}));
        res.extensions_mut().insert(self.clone());
        crate::ops::mark(&mut res, super::DIALECT, self.code);
        res
    }
}

impl ApiError {
    fn failure(&self) -> Failure {
        let (code, detail) = match self {
            Self::Header(reason) => (21005, Some(reason.clone())),
            Self::Param(reason) => (30000, Some(reason.clone())),
            Self::Code(code) => (*code, None),
            Self::Core(err) => match err {
                CoreError::Domain(e) => (30000, Some(e.to_string())),
                CoreError::Taken(field) => {
                    (30000, Some(format!("The {field} has already been taken.")))
                }
                CoreError::InvalidCredentials => (34304, None),
                CoreError::NotVisible | CoreError::Forbidden(_) => (36602, None),
                // Laravel's `exists` rule text, whatever the reason, so fids of
                // other people's files cannot be probed.
                CoreError::Refused(Refusal::File(_)) => {
                    (30000, Some("The selected fid is invalid.".to_owned()))
                }
                CoreError::Refused(refusal) => (refusal_code(*refusal), None),
                CoreError::Conflict => (
                    30000,
                    Some("The object changed meanwhile, please try again.".to_owned()),
                ),
                CoreError::Store(_) | CoreError::Auth(_) | CoreError::Unavailable(_) => {
                    (INTERNAL, None)
                }
            },
        };
        Failure { code, detail }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        if self.failure().code == INTERNAL {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }

    fn error_response(&self) -> HttpResponse {
        let failure = self.failure();
        if failure.code == INTERNAL {
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
        assert_eq!(ApiError::Code(31302).failure().code, 31302);
        assert_eq!(
            ApiError::from(CoreError::Refused(Refusal::NotParticipant))
                .failure()
                .code,
            36602
        );
        let internal = ApiError::from(CoreError::Store(StoreError::Corrupt("secret")));
        assert_eq!(internal.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(internal.failure().detail, None);
    }
}
