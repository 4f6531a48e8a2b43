use chrono::{DateTime, Utc};
use colloq_domain::ids::OrderId;
use colloq_domain::order::{Order, OrderAction};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, orders, write_transaction};

use crate::CoreError;

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
        let order = super::load_visible(conn, viewer, id)?;
        if staff_action != viewer.as_staff {
            return Err(CoreError::Forbidden(if staff_action {
                "this action is for staff only"
            } else {
                "only the customer can do this"
            }));
        }
        if let Some(next) = order.status.apply(action)? {
            super::transition(conn, &order, next, now)?;
        }
        if staff_action {
            orders::set_admin(conn, id, viewer.user.id)?;
        }
        super::reload(conn, id)
    })
}
