//! Client app keys (Fresns): created by operators with the CLI.

use chrono::{DateTime, Utc};
use colloq_auth::token::random_string;
use colloq_domain::client::{AppKey, KeyPurpose};
use colloq_persistence::app_keys;
use colloq_persistence::{DbConn, write_transaction};

use crate::CoreError;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// What an operator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppKey {
    /// Fresns platform id, 1..=11.
    pub platform_id: i32,
    /// A label.
    pub name: String,
    /// Refuse sending with this key.
    pub read_only: bool,
    /// Lifetime of tokens issued through the key; `None` = until logout.
    pub token_ttl_secs: Option<i64>,
}

/// Creates a main-API key with a fresh 8-character app id and 32-character secret.
///
/// # Errors
/// [`CoreError::Domain`] for a platform id outside 1..=11; storage failures.
pub fn create_app_key(
    conn: &mut DbConn,
    new: NewAppKey,
    now: DateTime<Utc>,
) -> Result<AppKey, CoreError> {
    if !(1..=11).contains(&new.platform_id) {
        return Err(
            colloq_domain::DomainError::invalid("platform_id", "must be between 1 and 11").into(),
        );
    }
    let key = AppKey {
        app_id: random_string(ALPHANUMERIC, 8)?,
        app_secret: random_string(ALPHANUMERIC, 32)?,
        platform_id: new.platform_id,
        name: new.name,
        purpose: KeyPurpose::Api,
        is_enabled: true,
        is_read_only: new.read_only,
        token_ttl_secs: new.token_ttl_secs,
    };
    write_transaction(conn, |conn| app_keys::insert(conn, &key, now))?;
    Ok(key)
}

/// The key with this app id.
///
/// # Errors
/// Storage failures.
pub fn find_app_key(conn: &mut DbConn, app_id: &str) -> Result<Option<AppKey>, CoreError> {
    Ok(app_keys::find(conn, app_id)?)
}
