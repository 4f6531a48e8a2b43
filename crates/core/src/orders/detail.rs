use colloq_domain::ids::OrderId;
use colloq_domain::message::Message;
use colloq_domain::order::Order;
use colloq_domain::user::{User, Viewer};
use colloq_persistence::{DbConn, accounts, messages};

use crate::CoreError;

/// How many of the latest messages an order's detail embeds; the full history
/// is paged through the messages endpoint.
pub const DETAIL_MESSAGES: i64 = 20;

/// An order with its customer and its latest messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    /// The order.
    pub order: Order,
    /// Its customer.
    pub owner: User,
    /// The latest [`DETAIL_MESSAGES`] messages, oldest first.
    pub messages: Vec<Message>,
}

/// One order, if the viewer may see it.
///
/// # Errors
/// [`CoreError::NotVisible`] for a missing order or someone else's.
pub fn order_detail(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
) -> Result<OrderDetail, CoreError> {
    let order = super::load_visible(conn, viewer, id)?;
    let owner = accounts::find(conn, order.owner)?.ok_or(CoreError::NotVisible)?;
    let messages = messages::latest(conn, order.id.thread(), DETAIL_MESSAGES)?;
    Ok(OrderDetail {
        order,
        owner,
        messages,
    })
}
