//! Messages on a thread: list a page, send one.

mod list;
mod send;

pub use list::list_order_messages;
pub use send::{SendMessage, send_order_message};
