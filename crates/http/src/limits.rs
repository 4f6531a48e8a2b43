//! Time limits on request bodies. actix-web times out a request head
//! (`http.request_head_timeout_secs`) but lets a body take as long as the
//! client likes, so a client that sends a head and a few body bytes holds a
//! connection, a file descriptor and a handler open for ever. [`body_deadline`]
//! wraps every request body in a stream that fails with [`timed_out`] when no
//! byte arrives for `http.body_idle_timeout_secs` or the whole body takes
//! longer than `http.body_timeout_secs`; each dialect answers that with HTTP
//! 408 in its envelope, and the connection is closed.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::rt::time::{Instant, Sleep, sleep};
use actix_web::web::{self, Bytes};
use futures_util::Stream;

use crate::AppState;

/// The error a body that stalled ends with.
fn timed_out() -> PayloadError {
    PayloadError::Io(io::Error::new(
        io::ErrorKind::TimedOut,
        "the request body did not arrive in time",
    ))
}

/// Whether `err` is a body that did not arrive in time.
pub(crate) fn is_timeout(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

/// Puts the configured time limits on the request's body, when it has one.
pub(crate) async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let limits = req.app_data::<web::Data<AppState>>().map(|state| {
        let http = &state.settings().http;
        (
            Duration::from_secs(http.body_idle_timeout_secs),
            Duration::from_secs(http.body_timeout_secs),
        )
    });
    if let (true, Some((idle, total))) = (has_body, limits) {
        let inner = req.take_payload();
        req.set_payload(Payload::Stream {
            payload: Box::pin(Deadline {
                inner,
                idle,
                idle_timer: Box::pin(sleep(idle)),
                total_timer: Box::pin(sleep(total)),
                expired: false,
            }),
        });
    }
    next.call(req).await
}

/// A body stream that fails once it stalls or runs out of time.
struct Deadline {
    inner: Payload,
    idle: Duration,
    idle_timer: Pin<Box<Sleep>>,
    total_timer: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let next = Instant::now() + self.idle;
                self.idle_timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let idle = self.idle_timer.as_mut().poll(cx).is_ready();
                if idle || self.total_timer.as_mut().poll(cx).is_ready() {
                    self.expired = true;
                    metrics::counter!("colloq_http_body_timeouts_total").increment(1);
                    Poll::Ready(Some(Err(timed_out())))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}
