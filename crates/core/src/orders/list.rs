use colloq_domain::order::{Order, OrderStatus};
use colloq_domain::page::{PageRequest, Paged};
use colloq_domain::user::Viewer;
use colloq_persistence::DbConn;
use colloq_persistence::orders::{self, OrderFilter};

use crate::CoreError;

/// A page of orders, newest first: a customer's own, or every order (optionally
/// of one status) for staff.
///
/// # Errors
/// Storage failures.
pub fn list_orders(
    conn: &mut DbConn,
    viewer: &Viewer,
    status: Option<OrderStatus>,
    page: PageRequest,
) -> Result<Paged<Order>, CoreError> {
    let filter = if viewer.as_staff {
        OrderFilter::All(status)
    } else {
        OrderFilter::Owner(viewer.user.id)
    };
    Ok(orders::list(conn, filter, page)?)
}
