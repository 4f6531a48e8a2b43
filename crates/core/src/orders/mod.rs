//! Communication orders: create, list, read, edit, and move through the
//! lifecycle. Every status change appends a `system` message in the same
//! transaction, so the thread always tells how the order got where it is.

mod act;
mod create;
mod detail;
mod list;
mod staff;
mod update;

pub use act::act_on_order;
pub use create::create_order;
pub use detail::{DETAIL_MESSAGES, OrderDetail, order_detail};
pub use list::list_orders;
pub use staff::{quote_order, set_order_images};
pub use update::update_order;

use chrono::{DateTime, Utc};
use colloq_domain::ids::OrderId;
use colloq_domain::message::NewMessage;
use colloq_domain::order::{Order, OrderStatus};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, messages, orders};

use crate::CoreError;

/// The order, if the viewer may see it; one error for "missing" and "not yours".
pub(crate) fn load_visible(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
) -> Result<Order, CoreError> {
    orders::find(conn, id)?
        .filter(|order| order.visible_to(viewer.user.id, viewer.as_staff))
        .ok_or(CoreError::NotVisible)
}

/// Moves `order` to `next` and records it in the thread.
pub(crate) fn transition(
    conn: &mut DbConn,
    order: &Order,
    next: OrderStatus,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    orders::set_status(conn, order.id, order.status, next, now)?;
    let note = NewMessage::system(order.status.transition_note(next));
    messages::append(conn, order.id.thread(), &note, now)?;
    Ok(())
}

/// The order as stored now.
pub(crate) fn reload(conn: &mut DbConn, id: OrderId) -> Result<Order, CoreError> {
    orders::find(conn, id)?.ok_or(CoreError::NotVisible)
}

/// Refuses staff-only actions from anyone else.
pub(crate) fn require_staff(viewer: &Viewer) -> Result<(), CoreError> {
    if viewer.as_staff {
        Ok(())
    } else {
        Err(CoreError::Forbidden("this action is for staff only"))
    }
}
