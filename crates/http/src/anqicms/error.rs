//! The AnQiCMS error envelope. Every failure a client caused is HTTP 200 with a
//! code (upstream behaviour): `-1` with the reason, `1001` not logged in, `1002`
//! not authorised. Internal failures are HTTP 500 with a generic text; the cause
//! goes to the log only.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::error_chain::ErrorChain;
use colloq_core::{CoreError, Refusal};
use colloq_domain::page::Seek;

use super::dto::Envelope;

/// Code 0: success.
pub(super) const OK: i32 = 0;
/// Code -1: the request failed; `msg` says why.
pub(super) const FAILED: i32 = -1;
/// Code 1001: not logged in.
pub(super) const NOT_LOGGED_IN: i32 = 1001;
/// Code 1002: not authorised.
pub(super) const NOT_AUTHORISED: i32 = 1002;

/// Why an AnQiCMS request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// No valid token.
    #[error("this operation requires login, please log in and try again")]
    NotLoggedIn,
    /// The request is malformed; the text names the parameter.
    #[error("{0}")]
    BadRequest(String),
    /// The request body stopped arriving (HTTP 408).
    #[error("the request body did not arrive in time")]
    TimedOut,
    /// A use case refused or failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl crate::state::ConnectionLost for ApiError {
    fn connection_lost(&self) -> bool {
        matches!(self, Self::Core(err) if err.connection_lost())
    }
}

/// The answer to a client over one of the per-address limits (see `throttle`).
pub(crate) fn rate_limited(retry_after: std::time::Duration) -> HttpResponse {
    ApiError::Core(CoreError::RateLimited { retry_after }).error_response()
}

impl ApiError {
    fn code_and_message(&self) -> (i32, String) {
        match self {
            Self::NotLoggedIn => (NOT_LOGGED_IN, self.to_string()),
            Self::BadRequest(msg) => (FAILED, msg.clone()),
            Self::TimedOut => (FAILED, self.to_string()),
            Self::Core(err) => match err {
                CoreError::Domain(e) => (FAILED, e.to_string()),
                CoreError::Taken(field) => (FAILED, format!("{field} is already taken")),
                CoreError::InvalidCredentials => (
                    FAILED,
                    "login failed: the account or the password is wrong".to_owned(),
                ),
                CoreError::NotVisible => (
                    NOT_AUTHORISED,
                    "not authorised: the order does not exist or is not yours".to_owned(),
                ),
                CoreError::Forbidden(why) => (NOT_AUTHORISED, format!("not authorised: {why}")),
                CoreError::Refused(Refusal::AnchorElsewhere(seek)) => (
                    FAILED,
                    format!(
                        "{}: does not name a message of this thread",
                        match seek {
                            Seek::Before => "before_id",
                            Seek::After => "after_id",
                        }
                    ),
                ),
                CoreError::Conflict | CoreError::Refused(_) => (FAILED, err.to_string()),
                CoreError::Store(_) | CoreError::Unavailable(_) if err.is_transient() => (
                    FAILED,
                    "the service is briefly unavailable, please try again".to_owned(),
                ),
                CoreError::RateLimited { retry_after } => (
                    FAILED,
                    format!(
                        "too many requests, please try again in {} s",
                        crate::retry_after_secs(*retry_after)
                    ),
                ),
                CoreError::Store(_)
                | CoreError::Auth(_)
                | CoreError::Unavailable(_)
                | CoreError::Internal(_) => (FAILED, "internal server error".to_owned()),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotLoggedIn | Self::BadRequest(_) => StatusCode::OK,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::Core(err) => match err {
                CoreError::Domain(_)
                | CoreError::Taken(_)
                | CoreError::InvalidCredentials
                | CoreError::NotVisible
                | CoreError::Forbidden(_)
                | CoreError::Refused(_)
                | CoreError::Conflict => StatusCode::OK,
                CoreError::Store(_) | CoreError::Unavailable(_) if err.is_transient() => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                CoreError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                CoreError::Store(_)
                | CoreError::Auth(_)
                | CoreError::Unavailable(_)
                | CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %ErrorChain(self), "request failed");
        }
        let (code, msg) = self.code_and_message();
        let mut builder = HttpResponse::build(status);
        match self {
            Self::Core(CoreError::RateLimited { retry_after }) => {
                builder.insert_header((header::RETRY_AFTER, crate::retry_after_secs(*retry_after)));
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                builder.insert_header((header::RETRY_AFTER, crate::RETRY_AFTER_SECS));
            }
            _ => {}
        }
        Envelope::<()>::error(code, msg).respond(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloq_domain::DomainError;
    use colloq_persistence::StoreError;

    #[test]
    fn client_errors_are_200_with_codes() {
        let cases = [
            (ApiError::NotLoggedIn, NOT_LOGGED_IN),
            (ApiError::BadRequest("x".to_owned()), FAILED),
            (CoreError::NotVisible.into(), NOT_AUTHORISED),
            (CoreError::Forbidden("staff only").into(), NOT_AUTHORISED),
            (
                CoreError::Domain(DomainError::invalid("title", "is required")).into(),
                FAILED,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.status_code(), StatusCode::OK);
            assert_eq!(err.code_and_message().0, code);
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err: ApiError = CoreError::Store(StoreError::Corrupt("secret table")).into();
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let (code, msg) = err.code_and_message();
        assert_eq!((code, msg.as_str()), (FAILED, "internal server error"));
    }
}
