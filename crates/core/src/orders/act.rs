use chrono::{DateTime, Utc};
use colloq_domain::ids::OrderId;
use colloq_domain::order::{Order, OrderAction};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, orders, write_transaction};

use crate::CoreError;
use crate::events::Outbox;

/// Applies a lifecycle action that needs no further input: the customer's accept,
/// reject and cancel, and staff's cancel and reopen.
///
/// # Errors
/// [`CoreError::NotVisible`]; [`CoreError::Forbidden`] when the action is the
/// other side's; an illegal transition naming the current status.
pub fn act_on_order(
    conn: &mut DbConn,
    viewer: &Viewer,
    id: OrderId,
    action: OrderAction,
    now: DateTime<Utc>,
) -> Result<Order, CoreError> {
    let staff_action = matches!(action, OrderAction::StaffCancel | OrderAction::Reopen);
    write_transaction(conn, |conn| {
        let mut outbox = Outbox::default();
        let order = super::load_for_write(conn, viewer, id)?;
        if staff_action != viewer.as_staff {
            return Err(CoreError::Forbidden(if staff_action {
                "this action is for staff only"
            } else {
                "only the customer can do this"
            }));
        }
        if let Some(next) = order.status.apply(action)? {
            super::transition(conn, &mut outbox, &order, next, viewer.user.id, now)?;
        }
        if staff_action {
            orders::set_admin(conn, id, viewer.user.id)?;
        }
        outbox.record(conn, now)?;
        super::reload(conn, id)
    })
}
