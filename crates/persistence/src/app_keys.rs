//! Fresns app keys: the app id and secret clients sign requests with.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::app_keys;
use crate::{DbConn, StoreError, to_db_time};

/// A stored app key. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = app_keys)]
pub struct AppKey {
    /// The public app id (`X-Fresns-App-Id`).
    pub app_id: String,
    /// The signing secret.
    pub app_secret: String,
    /// The platform it is for (`X-Fresns-Client-Platform-Id`).
    pub platform_id: i32,
    /// A label for operators.
    pub name: String,
    /// 1 = main API; other types may not call it.
    pub key_type: i32,
    /// Disabled keys are refused.
    pub is_enabled: bool,
    /// Read-only keys may not send.
    pub is_read_only: bool,
    /// Lifetime of tokens issued through this key; `None` = until logout.
    pub token_ttl_secs: Option<i64>,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("app_id", &self.app_id)
            .field("platform_id", &self.platform_id)
            .field("name", &self.name)
            .field("key_type", &self.key_type)
            .field("is_enabled", &self.is_enabled)
            .field("is_read_only", &self.is_read_only)
            .finish_non_exhaustive()
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
            app_keys::key_type.eq(key.key_type),
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
        .select(AppKey::as_select())
        .first(c)
        .optional())
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
