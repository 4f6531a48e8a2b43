//! The use cases of colloq, shared by both API dialects.
//!
//! Each use case is a synchronous function that takes a `&mut DbConn`, domain
//! inputs and the current time, and returns domain values or a [`CoreError`]. They
//! know nothing of HTTP, envelopes or serde names: the dialect adapters translate
//! their wire formats into these calls and back. Callers run them off the async
//! workers (they do database I/O and password hashing).
//!
//! Depends on `colloq-domain`, `colloq-persistence` and `colloq-auth`; never on a
//! web framework.
//!
//! - [`accounts`]: register, log in, look up.
//! - [`sessions`]: issue, check and revoke tokens.
//! - [`app_keys`]: client app keys (Fresns).
//! - [`conversations`]: direct messages between two users.
//! - [`orders`]: communication orders and their lifecycle.
//! - [`messages`]: list and send messages on a thread.
//! - [`events`]: the change feed every write use case adds to.

pub mod accounts;
pub mod app_keys;
mod clock;
pub mod conversations;
mod error;
pub mod events;
pub mod files;
pub mod health;
pub mod idempotency;
pub mod messages;
pub mod orders;
pub mod sessions;
pub mod snapshot;
mod telemetry;
mod threads;
pub mod throttle;

pub use clock::Clock;
pub use error::{CoreError, Refusal};
