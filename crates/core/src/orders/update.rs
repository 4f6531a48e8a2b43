use chrono::{DateTime, Utc};
use colloq_domain::event::Change;
use colloq_domain::ids::OrderId;
use colloq_domain::order::{Order, OrderAction, OrderEdit};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, orders, write_transaction};

use crate::CoreError;
use crate::events::Outbox;

/// Applies the customer's edit of title, content or extra fields. Allowed until
/// the order is accepted or cancelled.
///
/// # Errors
/// [`CoreError::NotVisible`], [`CoreError::Forbidden`] for staff tokens, or an
/// illegal transition naming the status.
pub fn update_order(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    edit: &OrderEdit,
    now: DateTime<Utc>,
) -> Result<Order, CoreError> {
    write_transaction(conn, |conn| {
        let order = super::load_for_write(conn, viewer, id)?;
        if viewer.as_staff {
            return Err(CoreError::Forbidden("only the customer can edit an order"));
        }
        order.status.apply(OrderAction::Update)?;
        orders::edit(conn, id, edit, now)?;
        let mut outbox = Outbox::default();
        super::tell(&mut outbox, &order, viewer.user.id, Change::OrderUpdated);
        outbox.record(conn, now)?;
        super::reload(conn, id)
    })
}
