use colloq_domain::ids::OrderId;
use colloq_domain::message::Message;
use colloq_domain::page::{PageRequest, Paged};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, messages};

use crate::CoreError;

/// A page of an order's messages, oldest first, with the total. Listing changes
/// nothing.
///
/// The page is a seek on the thread's sequence numbers and the total is the
/// thread's counter, so page 1 and page 100,000 cost the same.
///
/// # Errors
/// [`CoreError::NotVisible`] for a missing order or someone else's.
pub fn list_order_messages(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    page: PageRequest,
) -> Result<Paged<Message>, CoreError> {
    let order = crate::orders::load_visible(conn, viewer, id)?;
    let (after, limit) = page.seq_window();
    let items = messages::after_seq(conn, id.thread(), after, limit)?;
    Ok(Paged {
        items,
        total: order.message_count,
    })
}
