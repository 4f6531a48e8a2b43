//! Conversations: direct messages between two users. Every read checks that the
//! viewer takes part; deletes, reads and pins act on the viewer's side only.

mod read;
mod send;

pub use read::{
    ConversationSummary, MessagePage, Panel, Participants, conversation_detail,
    conversation_message, conversation_messages, delete_messages, list_conversations, mark_read,
    messaging_permission, messaging_permissions, panel, toggle_pin,
};
pub use send::{DirectContent, DirectMessage, send_direct_message};

pub use colloq_persistence::conversations::Selection;
