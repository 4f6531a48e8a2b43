use chrono::{DateTime, Utc};
use colloq_domain::event::Change;
use colloq_domain::order::{NewOrder, Order};
use colloq_domain::user::Viewer;
use colloq_persistence::{DbConn, orders, write_transaction};

use crate::CoreError;
use crate::events::Outbox;

/// Opens a new order for the viewer, in status `pending`.
///
/// # Errors
/// [`CoreError::Forbidden`] for a staff token (staff answer orders, customers
/// open them); storage failures.
pub fn create_order(
    conn: &mut DbConn,
    viewer: &Viewer,
    order: &NewOrder,
    now: DateTime<Utc>,
) -> Result<Order, CoreError> {
    if viewer.as_staff {
        return Err(CoreError::Forbidden("staff cannot open orders"));
    }
    write_transaction(conn, |conn| {
        let created = orders::create(conn, viewer.user.id, order, now)?;
        let mut outbox = Outbox::default();
        super::tell(&mut outbox, &created, viewer.user.id, Change::OrderCreated);
        outbox.record(conn, now)?;
        Ok(created)
    })
}
