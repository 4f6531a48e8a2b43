//! People: one account (credentials) with a primary user profile.

use chrono::{DateTime, Utc};

use crate::DomainError;
use crate::ids::{AccountId, UserId};

/// A login name: 3 to 32 characters of letters, digits, `_`, `-` or `.`, not all digits
/// (an all-digit name could be mistaken for a numeric uid by Fresns clients).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Validates a user name.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `user_name` when the rule above is broken.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let len = name.chars().count();
        if !(3..=32).contains(&len) {
            return Err(DomainError::invalid(
                "user_name",
                "must be 3 to 32 characters",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(DomainError::invalid(
                "user_name",
                "may contain only letters, digits, '_', '-' and '.'",
            ));
        }
        if name.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::invalid("user_name", "must not be all digits"));
        }
        Ok(Self(name.to_owned()))
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, lower-cased. Only the shape is checked; proving ownership
/// is not colloq's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Validates an e-mail address.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `email`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !email.chars().any(char::is_whitespace);
        if valid {
            Ok(Self(email))
        } else {
            Err(DomainError::invalid(
                "email",
                "is not a valid e-mail address",
            ))
        }
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A phone number: digits with an optional leading `+`, 5 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Validates a phone number; spaces and dashes are dropped.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `phone`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let cleaned: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
        if (5..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(cleaned))
        } else {
            Err(DomainError::invalid("phone", "is not a valid phone number"))
        }
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainPassword(String);

impl PlainPassword {
    /// The minimum length AnQiCMS enforces at registration.
    pub const MIN_CHARS: usize = 6;
    /// Argon2 would take any length; a bound keeps hashing cost predictable.
    pub const MAX_CHARS: usize = 128;

    /// Validates a new password's length.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `password`.
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(DomainError::invalid(
                "password",
                "must be at least 6 characters",
            ));
        }
        if len > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "password",
                "must be at most 128 characters",
            ));
        }
        Ok(Self(raw))
    }

    /// Wraps a password offered at login without judging it: a login must fail the
    /// same way for a short password as for a wrong one.
    pub fn offered(raw: String) -> Self {
        Self(raw)
    }

    /// The secret itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PlainPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainPassword(<redacted>)")
    }
}

/// What a person types to say who they are at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    /// By user name.
    Username(String),
    /// By e-mail address.
    Email(Email),
    /// By phone number.
    Phone(Phone),
}

/// Everything needed to create an account with its primary profile.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The login name, also the profile's username.
    pub username: Username,
    /// The password as typed.
    pub password: PlainPassword,
    /// Optional e-mail (at least one of e-mail and phone is required from the API).
    pub email: Option<Email>,
    /// Optional phone.
    pub phone: Option<Phone>,
    /// Display name; defaults to the username.
    pub nickname: Option<String>,
    /// Whether this is a staff account (may use the staff API).
    pub is_staff: bool,
}

/// A person as the dialects see them: account and primary profile together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    /// The profile id (AnQiCMS `id`, `sender_id`).
    pub id: UserId,
    /// The public numeric profile id (Fresns `uid`).
    pub uid: i64,
    /// The account.
    pub account_id: AccountId,
    /// The public account id (Fresns `aid`).
    pub aid: String,
    /// The profile's username.
    pub username: String,
    /// The display name.
    pub nickname: String,
    /// Avatar URL, empty when none.
    pub avatar_url: String,
    /// E-mail address, if any.
    pub email: Option<String>,
    /// Phone number, if any.
    pub phone: Option<String>,
    /// Staff may use the staff API and read every order.
    pub is_staff: bool,
    /// Who may start messaging this user.
    pub conversation_limit: crate::conversation::ConversationLimit,
    /// `false` when banned.
    pub enabled: bool,
    /// A verified profile.
    pub verified: bool,
    /// The profile was deleted; it only shows as a placeholder.
    pub deleted: bool,
    /// The profile has its own password (asked for when switching to it).
    pub has_password: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the profile last changed.
    pub updated_at: DateTime<Utc>,
}

/// How a request is authenticated: the person, and whether they act as staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// Who is asking.
    pub user: User,
    /// `true` only for a staff token (AnQiCMS `admin` header), never for a staff
    /// member's ordinary customer token.
    pub as_staff: bool,
}

impl Viewer {
    /// A customer acting for themselves.
    pub fn customer(user: User) -> Self {
        Self {
            user,
            as_staff: false,
        }
    }

    /// A staff member acting as staff.
    pub fn staff(user: User) -> Self {
        Self {
            user,
            as_staff: true,
        }
    }

    /// Who is asking, by id.
    pub fn id(&self) -> ViewerId {
        ViewerId {
            user: self.user.id,
            account: self.user.account_id,
            as_staff: self.as_staff,
        }
    }
}

/// A [`Viewer`] by id, without the profile: all that a read which only checks
/// access needs (listing an order's messages), so its token check need not
/// load the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerId {
    /// The profile.
    pub user: UserId,
    /// Its account.
    pub account: AccountId,
    /// As for [`Viewer::as_staff`].
    pub as_staff: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rule() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("  bob_1.x ").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("12345").is_err());
        assert!(Username::parse("has space").is_err());
        assert!(Username::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").map(|e| e.as_ref().to_owned()),
            Ok("alice@example.com".to_owned())
        );
        for bad in ["", "a@b", "@x.io", "a@.io", "a b@x.io", "a@x.io."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_accept_digits_and_plus() {
        assert!(Phone::parse("+86 138-0000-0000").is_ok());
        assert!(Phone::parse("1234").is_err());
        assert!(Phone::parse("12a45678").is_err());
    }

    #[test]
    fn passwords_have_bounds_and_hide_in_debug() {
        assert!(PlainPassword::parse("12345".to_owned()).is_err());
        let ok = PlainPassword::parse("secret-pw".to_owned());
        assert!(ok.is_ok());
        assert!(!format!("{ok:?}").contains("secret-pw"));
    }
}
