//! Messages on a thread: list a page, send one.

mod list;
mod send;

pub use list::list_order_messages;
pub(crate) use list::not_here;
pub use send::{SendMessage, send_order_message};
