//! Client apps: the keys with which an app identifies itself and signs its
//! requests.

/// What a key may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The main API (upstream's key type 1): the only purpose colloq serves.
    Api,
    /// Another purpose (upstream's admin or plugin keys), kept as stored.
    Other(i32),
}

impl KeyPurpose {
    /// The stored code.
    pub fn code(self) -> i32 {
        match self {
            Self::Api => 1,
            Self::Other(code) => code,
        }
    }

    /// The purpose a stored code names.
    pub fn from_code(code: i32) -> Self {
        if code == 1 {
            Self::Api
        } else {
            Self::Other(code)
        }
    }
}

/// An app key. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AppKey {
    /// The public app id.
    pub app_id: String,
    /// The signing secret.
    pub app_secret: String,
    /// The platform it is for (1 Other … 11 Quick App, as upstream numbers them).
    pub platform_id: i32,
    /// A label for operators.
    pub name: String,
    /// What it may call.
    pub purpose: KeyPurpose,
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
            .field("purpose", &self.purpose)
            .field("is_enabled", &self.is_enabled)
            .field("is_read_only", &self.is_read_only)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_debug_hides_the_secret() {
        for code in [1, 2, 3] {
            assert_eq!(KeyPurpose::from_code(code).code(), code);
        }
        assert_eq!(KeyPurpose::from_code(1), KeyPurpose::Api);
        let key = AppKey {
            app_id: "app".to_owned(),
            app_secret: "s3cret-value".to_owned(),
            platform_id: 4,
            name: String::new(),
            purpose: KeyPurpose::Api,
            is_enabled: true,
            is_read_only: false,
            token_ttl_secs: None,
        };
        assert!(!format!("{key:?}").contains("s3cret"));
    }
}
