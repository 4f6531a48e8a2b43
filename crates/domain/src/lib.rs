//! The domain of colloq: the types and rules both API dialects share.
//!
//! This crate does no I/O and depends on no web framework, database driver or
//! password hasher (CI checks that with `cargo tree -i`), so other services can
//! reuse it. Everything that reaches it from outside is validated here once:
//! [`user::Username`], [`message::MessageBody`], [`page::PageRequest`], the
//! [`order::OrderStatus`] state machine, and so on. Failures are
//! [`DomainError`]s in the caller's vocabulary; the dialects decide how to show them.
//!
//! Layout:
//! - [`ids`]: typed 64-bit identifiers.
//! - [`user`]: people (account + profile) and their credentials' shapes.
//! - [`order`]: AnQiCMS communication orders and their lifecycle.
//! - [`conversation`]: Fresns conversations and who may message whom.
//! - [`message`]: messages of every kind of thread.
//! - [`file`](mod@file): uploaded files, what their bytes say, and where they may be attached.
//! - [`page`]: page requests, pages, and the per-thread sequence window.
//! - [`event`]: the change feed: what changed, and who hears of it.

pub mod client;
pub mod conversation;
pub mod error;
pub mod event;
pub mod file;
pub mod ids;
pub mod message;
pub mod order;
pub mod page;
pub mod user;

pub use error::DomainError;
