//! Fresns app keys: the app id and secret clients sign requests with.

use chrono::{DateTime, Utc};
use colloq_domain::client::{AppKey, KeyPurpose};
use diesel::prelude::*;

use crate::schema::app_keys;
use crate::{DbConn, StoreError, to_db_time};

/// An `app_keys` row. (`Debug` is not derived: it holds the secret.)
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = app_keys)]
pub(crate) struct AppKeyRow {
    app_id: String,
    app_secret: String,
    platform_id: i32,
    name: String,
    key_type: i32,
    is_enabled: bool,
    is_read_only: bool,
    token_ttl_secs: Option<i64>,
}

impl From<AppKeyRow> for AppKey {
    fn from(row: AppKeyRow) -> Self {
        Self {
            app_id: row.app_id,
            app_secret: row.app_secret,
            platform_id: row.platform_id,
            name: row.name,
            purpose: KeyPurpose::from_code(row.key_type),
            is_enabled: row.is_enabled,
            is_read_only: row.is_read_only,
            token_ttl_secs: row.token_ttl_secs,
        }
    }
}

/// Stores a new key.
///
/// # Errors
/// [`StoreError::Conflict`] when the app id is taken.
pub fn insert(conn: &mut DbConn, key: &AppKey, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::insert_into(app_keys::table)
        .values((
            app_keys::app_id.eq(&key.app_id),
            app_keys::app_secret.eq(&key.app_secret),
            app_keys::platform_id.eq(key.platform_id),
            app_keys::name.eq(&key.name),
            app_keys::key_type.eq(key.purpose.code()),
            app_keys::is_enabled.eq(key.is_enabled),
            app_keys::is_read_only.eq(key.is_read_only),
            app_keys::token_ttl_secs.eq(key.token_ttl_secs),
            app_keys::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The key with this app id.
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, app_id: &str) -> Result<Option<AppKey>, StoreError> {
    native!(conn, |c| app_keys::table
        .filter(app_keys::app_id.eq(app_id))
        .select(AppKeyRow::as_select())
        .first(c)
        .optional())
    .map(|row| row.map(AppKey::from))
    .map_err(StoreError::from)
}

/// Enables or disables a key.
///
/// # Errors
/// Query failures.
pub fn set_enabled(conn: &mut DbConn, app_id: &str, enabled: bool) -> Result<(), StoreError> {
    diesel::update(app_keys::table.filter(app_keys::app_id.eq(app_id)))
        .set(app_keys::is_enabled.eq(enabled))
        .execute(conn)?;
    Ok(())
}
