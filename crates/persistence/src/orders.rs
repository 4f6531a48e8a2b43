//! Communication orders. An order's id is its thread's id, so its messages are
//! found without a join.

use chrono::{DateTime, Utc};
use colloq_domain::ids::{OrderId, UserId};
use colloq_domain::order::{
    NewOrder, Order, OrderEdit, OrderExtra, OrderImages, OrderStatus, Quote,
};
use colloq_domain::page::{PageRequest, Paged};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use crate::schema::{comm_orders, threads};
use crate::stamp::Stamp;
use crate::{DbConn, Fixed, StoreError, from_db_time, to_db_time};

/// The `threads.kind` of communication orders.
pub(crate) const THREAD_KIND_ORDER: i32 = 1;

#[derive(Queryable, Selectable)]
#[diesel(table_name = comm_orders)]
struct OrderRow {
    id: i64,
    user_id: i64,
    archive_id: i64,
    order_id: i64,
    title: String,
    content: String,
    phone: String,
    images: String,
    sketch_images: String,
    finished_images: String,
    event_date: String,
    status: i32,
    admin_id: Option<i64>,
    quote_price: String,
    quote_content: String,
    order_extra: String,
    created_at: Stamp,
    updated_at: Stamp,
}

fn json_list(raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|_json| StoreError::Corrupt("comm_orders image list"))
}

fn to_order((row, message_count): (OrderRow, i64)) -> Result<Order, StoreError> {
    Ok(Order {
        id: OrderId(row.id),
        owner: UserId(row.user_id),
        shop_order_id: row.order_id,
        archive_id: row.archive_id,
        title: row.title,
        content: row.content,
        phone: row.phone,
        images: json_list(&row.images)?,
        sketch_images: json_list(&row.sketch_images)?,
        finished_images: json_list(&row.finished_images)?,
        event_date: row.event_date,
        status: OrderStatus::from_code(i64::from(row.status))
            .map_err(|_status| StoreError::Corrupt("comm_orders.status"))?,
        admin: row.admin_id.map(UserId),
        quote_price: row.quote_price,
        quote_content: row.quote_content,
        order_extra: serde_json::from_str::<OrderExtra>(&row.order_extra)
            .map_err(|_json| StoreError::Corrupt("comm_orders.order_extra"))?,
        message_count,
        created_at: from_db_time(row.created_at),
        updated_at: from_db_time(row.updated_at),
    })
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serialising string lists and string maps cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Creates an order and its thread. Call inside a transaction.
///
/// # Errors
/// [`StoreError::Conflict`] when the owner does not exist.
pub fn create(
    conn: &mut DbConn,
    owner: UserId,
    order: &NewOrder,
    now: DateTime<Utc>,
) -> Result<Order, StoreError> {
    let now = to_db_time(now);
    let id = crate::messages::create_thread(conn, THREAD_KIND_ORDER, now)?;
    diesel::insert_into(comm_orders::table)
        .values((
            comm_orders::id.eq(id),
            comm_orders::user_id.eq(owner.get()),
            comm_orders::archive_id.eq(order.archive_id),
            comm_orders::title.eq(&order.title),
            comm_orders::content.eq(&order.content),
            comm_orders::phone.eq(&order.phone),
            comm_orders::images.eq(to_json(&order.images)),
            comm_orders::order_extra.eq(to_json(&order.order_extra)),
            comm_orders::status.eq(OrderStatus::Pending.code()),
            comm_orders::created_at.eq(now),
            comm_orders::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, OrderId(id))?.ok_or(StoreError::NotFound)
}

/// The order with this id.
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, id: OrderId) -> Result<Option<Order>, StoreError> {
    // On the engine's own connection, as every send makes it (see `native!`).
    native!(conn, |c| comm_orders::table
        .inner_join(threads::table)
        .filter(comm_orders::id.eq(id.get()))
        .select((OrderRow::as_select(), threads::message_count))
        .first(c)
        .optional())?
    .map(to_order)
    .transpose()
}

/// How a write transaction holds an order until it ends (PostgreSQL;
/// SQLite writers already hold the database's write lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The transaction changes the order (its status, fields, staff): every
    /// other write to it waits, and then decides on what this one left.
    /// Without it, two staff replies to a pending order would both try to
    /// open it.
    Change,
    /// The transaction adds to the order's thread and relies on its status
    /// (a customer's message): writes like it go on side by side, meeting
    /// only at the thread's row, while a change waits for them all, and they
    /// for it.
    Rely,
}

/// The order with this id, held as `hold` says until the transaction ends.
/// Only the order is held here; a write that appends takes its thread's
/// row next, so every order write takes the two in the same order.
///
/// # Errors
/// Query failures.
pub fn find_held(conn: &mut DbConn, id: OrderId, hold: Hold) -> Result<Option<Order>, StoreError> {
    let DbConn::Postgres(c) = conn else {
        return find(conn, id);
    };
    // The hold is a transaction-level advisory lock on the order (shared to
    // rely on it, exclusive to change it), taken by the statement that reads
    // it. A row lock shared by several transactions at once (`FOR SHARE`)
    // would write the row and a MultiXact of its holders for every
    // customer's message: with many customers writing to one order, each
    // message rewrote a list of them all. The advisory lock lives in the
    // lock manager's memory alone. Its key is the schema's (several colloqs
    // may share a database) and the order's id; ids beyond 31 bits share
    // keys, which only makes writes to two orders wait for each other.
    let lock = match hold {
        Hold::Change => "pg_advisory_xact_lock(hashtext(current_schema()), (",
        Hold::Rely => "pg_advisory_xact_lock_shared(hashtext(current_schema()), (",
    };
    let held = diesel::dsl::sql::<Bool>(lock)
        .bind::<BigInt, _>(id.get())
        .sql(" & 2147483647)::int4) IS NOT NULL");
    // One statement. The thread's count comes from a subquery, which no
    // lock reaches: every send to the order takes the thread's row next.
    let count = threads::table
        .find(id.get())
        .select(threads::message_count)
        .single_value()
        .assume_not_null();
    let order = comm_orders::table
        .find(id.get())
        .filter(held)
        .select((OrderRow::as_select(), count));
    // A change also locks the row: it is about to write it anyway, and
    // changes are rare.
    match hold {
        Hold::Change => Fixed(order.for_update()).get_result(c),
        Hold::Rely => Fixed(order).get_result(c),
    }
    .optional()?
    .map(to_order)
    .transpose()
}

/// Which orders a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFilter {
    /// One customer's orders.
    Owner(UserId),
    /// Every order (staff), optionally of one status.
    All(Option<OrderStatus>),
}

/// A page of orders, newest first, with the total.
///
/// # Errors
/// Query failures.
pub fn list(
    conn: &mut DbConn,
    filter: OrderFilter,
    page: PageRequest,
) -> Result<Paged<Order>, StoreError> {
    let base = || {
        let q = comm_orders::table.into_boxed();
        match filter {
            OrderFilter::Owner(owner) => q.filter(comm_orders::user_id.eq(owner.get())),
            OrderFilter::All(Some(status)) => q.filter(comm_orders::status.eq(status.code())),
            OrderFilter::All(None) => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let ids: Vec<i64> = base()
        .select(comm_orders::id)
        .order(comm_orders::id.desc())
        .limit(page.size())
        .offset(page.offset())
        .load(conn)?;
    let rows: Vec<(OrderRow, i64)> = comm_orders::table
        .inner_join(threads::table)
        .filter(comm_orders::id.eq_any(&ids))
        .order(comm_orders::id.desc())
        .select((OrderRow::as_select(), threads::message_count))
        .load(conn)?;
    let items = rows.into_iter().map(to_order).collect::<Result<_, _>>()?;
    Ok(Paged { items, total })
}

#[derive(AsChangeset)]
#[diesel(table_name = comm_orders)]
struct EditChanges<'a> {
    title: Option<&'a str>,
    content: Option<&'a str>,
    order_extra: Option<String>,
    updated_at: Stamp,
}

/// Applies a customer's edit.
///
/// # Errors
/// [`StoreError::NotFound`] when the order is gone.
pub fn edit(
    conn: &mut DbConn,
    id: OrderId,
    edit: &OrderEdit,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changes = EditChanges {
        title: edit.title.as_deref(),
        content: edit.content.as_deref(),
        order_extra: edit.order_extra.as_ref().map(to_json),
        updated_at: to_db_time(now),
    };
    let n = diesel::update(comm_orders::table.find(id.get()))
        .set(&changes)
        .execute(conn)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Moves an order from `from` to `to`, only if it is still at `from` (an
/// optimistic check: two concurrent transitions cannot both win).
///
/// # Errors
/// [`StoreError::Conflict`] when the status changed meanwhile.
pub fn set_status(
    conn: &mut DbConn,
    id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = diesel::update(
        comm_orders::table
            .find(id.get())
            .filter(comm_orders::status.eq(from.code())),
    )
    .set((
        comm_orders::status.eq(to.code()),
        comm_orders::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if n == 0 {
        Err(StoreError::Conflict {
            constraint: "comm_orders.status".to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Records who on staff handles the order.
///
/// # Errors
/// Query failures.
pub fn set_admin(conn: &mut DbConn, id: OrderId, admin: UserId) -> Result<(), StoreError> {
    diesel::update(comm_orders::table.find(id.get()))
        .set(comm_orders::admin_id.eq(admin.get()))
        .execute(conn)?;
    Ok(())
}

/// Stores a quote's price and text.
///
/// # Errors
/// Query failures.
pub fn set_quote(
    conn: &mut DbConn,
    id: OrderId,
    quote: &Quote,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(comm_orders::table.find(id.get()))
        .set((
            comm_orders::quote_price.eq(&quote.price),
            comm_orders::quote_content.eq(&quote.content),
            comm_orders::updated_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(AsChangeset)]
#[diesel(table_name = comm_orders)]
struct ImageChanges {
    sketch_images: Option<String>,
    finished_images: Option<String>,
    updated_at: Stamp,
}

/// Replaces staff's image lists that are given.
///
/// # Errors
/// Query failures.
pub fn set_images(
    conn: &mut DbConn,
    id: OrderId,
    images: &OrderImages,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changes = ImageChanges {
        sketch_images: images.sketch_images.as_deref().map(to_json),
        finished_images: images.finished_images.as_deref().map(to_json),
        updated_at: to_db_time(now),
    };
    diesel::update(comm_orders::table.find(id.get()))
        .set(&changes)
        .execute(conn)?;
    Ok(())
}

/// The owner and message count of an order: all a message page needs to know
/// about it.
///
/// # Errors
/// Query failures.
pub fn owner_and_count(
    conn: &mut DbConn,
    id: OrderId,
) -> Result<Option<(UserId, i64)>, StoreError> {
    native!(conn, |c| comm_orders::table
        .inner_join(threads::table)
        .filter(comm_orders::id.eq(id.get()))
        .select((comm_orders::user_id, threads::message_count))
        .first::<(i64, i64)>(c)
        .optional())
    .map(|row| row.map(|(owner, count)| (UserId(owner), count)))
    .map_err(StoreError::from)
}
