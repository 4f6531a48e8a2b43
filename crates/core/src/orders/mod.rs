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
use colloq_domain::event::Change;
use colloq_domain::ids::{OrderId, UserId};
use colloq_domain::message::{Message, NewMessage};
use colloq_domain::order::{Order, OrderStatus};
use colloq_domain::user::Viewer;
use colloq_persistence::orders::Hold;
use colloq_persistence::{DbConn, messages, orders};

use crate::CoreError;
use crate::events::{Outbox, order_audience};

/// The order, if the viewer may see it; one error for "missing" and "not yours".
pub(crate) fn load_visible(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
) -> Result<Order, CoreError> {
    seen_by(viewer, orders::find(conn, id)?)
}

fn seen_by(viewer: &Viewer, order: Option<Order>) -> Result<Order, CoreError> {
    order
        .filter(|order| order.visible_to(viewer.user.id, viewer.as_staff))
        .ok_or(CoreError::NotVisible)
}

/// As [`load_visible`], for a write transaction that may change the order:
/// concurrent writes to it wait for this one (see [`orders::find_held`]).
pub(crate) fn load_for_write(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
) -> Result<Order, CoreError> {
    load_held(conn, viewer, id, Hold::Change)
}

/// As [`load_visible`], for a write transaction that appends to the order's
/// thread and, held as `hold` says, relies on or changes the order.
pub(crate) fn load_held(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    hold: Hold,
) -> Result<Order, CoreError> {
    seen_by(viewer, orders::find_held(conn, id, hold)?)
}

/// Moves `order` to `next`, records it in the thread, and tells the order's
/// audience that `actor` did.
pub(crate) fn transition(
    conn: &mut DbConn,
    outbox: &mut Outbox,
    order: &Order,
    next: OrderStatus,
    actor: UserId,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    orders::set_status(conn, order.id, order.status, next, now)?;
    let note = NewMessage::system(order.status.transition_note(next));
    let note = messages::append(conn, order.id.thread(), &note, now)?;
    outbox.push(
        &order_audience(order),
        order.id.thread(),
        Some(actor),
        Change::OrderStatusChanged {
            from: order.status,
            to: next,
            note: note.id,
        },
    );
    Ok(())
}

/// Appends a message to the order's thread and tells its audience.
pub(crate) fn append(
    conn: &mut DbConn,
    outbox: &mut Outbox,
    order: &Order,
    message: &NewMessage,
    now: DateTime<Utc>,
) -> Result<Message, CoreError> {
    let audience = order_audience(order);
    crate::threads::append(
        conn,
        outbox,
        order.id.thread(),
        &audience,
        message,
        None,
        now,
    )
}

/// Tells the order's audience that `actor` changed it.
pub(crate) fn tell(outbox: &mut Outbox, order: &Order, actor: UserId, change: Change) {
    outbox.push(
        &order_audience(order),
        order.id.thread(),
        Some(actor),
        change,
    );
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
