use chrono::{DateTime, Utc};
use colloq_domain::event::Change;
use colloq_domain::ids::OrderId;
use colloq_domain::message::{MessageBody, MessageType, NewMessage, SenderRole};
use colloq_domain::order::{Order, OrderAction, OrderImages, Quote};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, orders, write_transaction};

use crate::CoreError;
use crate::events::Outbox;

/// Staff quotes a price: stores it, posts a `quote` message with its text, and
/// moves the order to `quoted`.
///
/// # Errors
/// [`CoreError::NotVisible`], [`CoreError::Forbidden`] for non-staff, or an
/// illegal transition naming the status.
pub fn quote_order(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    quote: &Quote,
    now: DateTime<Utc>,
) -> Result<Order, CoreError> {
    super::require_staff(viewer)?;
    write_transaction(conn, |conn| {
        let order = super::load_for_write(conn, viewer, id)?;
        let next = order
            .status
            .apply(OrderAction::Quote)?
            .unwrap_or(order.status);
        orders::set_quote(conn, id, quote, now)?;
        orders::set_admin(conn, id, viewer.user.id)?;
        let message = NewMessage {
            sender: Some(viewer.user.id),
            role: SenderRole::Staff,
            sender_name: viewer.user.username.clone(),
            kind: MessageType::Quote,
            body: MessageBody::system(quote.content.clone()),
            file: None,
        };
        let mut outbox = Outbox::default();
        let actor = viewer.user.id;
        super::tell(&mut outbox, &order, actor, Change::OrderUpdated);
        super::append(conn, &mut outbox, &order, &message, now)?;
        if next != order.status {
            super::transition(conn, &mut outbox, &order, next, actor, now)?;
        }
        outbox.record(conn, now)?;
        super::reload(conn, id)
    })
}

/// Staff replaces the sketch and/or finished images of an order.
///
/// # Errors
/// [`CoreError::NotVisible`], [`CoreError::Forbidden`] for non-staff, or an
/// illegal transition for a cancelled order.
pub fn set_order_images(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    images: &OrderImages,
    now: DateTime<Utc>,
) -> Result<Order, CoreError> {
    super::require_staff(viewer)?;
    write_transaction(conn, |conn| {
        let order = super::load_for_write(conn, viewer, id)?;
        let mut outbox = Outbox::default();
        // Setting images is a staff action: it opens a pending order like a reply.
        if let Some(next) = order.status.apply(OrderAction::StaffReply)? {
            super::transition(conn, &mut outbox, &order, next, viewer.user.id, now)?;
        }
        orders::set_images(conn, id, images, now)?;
        orders::set_admin(conn, id, viewer.user.id)?;
        super::tell(&mut outbox, &order, viewer.user.id, Change::OrderUpdated);
        outbox.record(conn, now)?;
        super::reload(conn, id)
    })
}
