use colloq_domain::ids::OrderId;
use colloq_domain::message::Message;
use colloq_domain::page::{Cursor, Paged, Seek};
use colloq_domain::user::ViewerId;
use colloq_persistence::{DbConn, messages};

use crate::{CoreError, threads};

/// A slice of an order's messages, oldest first, with the total. Listing changes
/// nothing.
///
/// A page is a seek on the thread's sequence numbers and the total is the
/// thread's counter, so page 1 and page 100,000 cost the same; `before`/`after`
/// cursors are seeks too.
///
/// # Errors
/// [`CoreError::NotVisible`] for a missing order or someone else's;
/// [`crate::Refusal::AnchorElsewhere`] when the anchor is not in this order.
pub fn list_order_messages(
    conn: &mut DbConn,
    viewer: ViewerId,
    id: OrderId,
    cursor: Cursor,
) -> Result<Paged<Message>, CoreError> {
    let (_, total) = colloq_persistence::orders::owner_and_count(conn, id)?
        .filter(|(owner, _)| viewer.as_staff || *owner == viewer.user)
        .ok_or(CoreError::NotVisible)?;
    let thread = id.thread();
    let items = match cursor {
        Cursor::Page(page) => {
            let (after, limit) = page.seq_window();
            messages::after_seq(conn, thread, after, limit)?
        }
        Cursor::Before { id: anchor, limit } => {
            let seq = threads::anchor(conn, thread, Seek::Before, anchor)?;
            messages::before_seq(conn, thread, seq, limit)?
        }
        Cursor::After { id: anchor, limit } => {
            let seq = threads::anchor(conn, thread, Seek::After, anchor)?;
            messages::after_seq(conn, thread, seq, limit)?
        }
    };
    Ok(Paged { items, total })
}
