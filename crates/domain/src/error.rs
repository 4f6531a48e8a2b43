//! Validation and rule failures of the domain.
//!
//! Policy: every variant is a client-facing 4xx-class failure. The message names
//! the field (in the domain's snake_case vocabulary) and the rule that failed, so
//! an adapter can show it as is. Nothing here carries an internal cause.

use crate::order::OrderStatus;

/// A value or an action the domain's rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value breaks its rule.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's name, e.g. `page_size`.
        field: &'static str,
        /// What is wrong, e.g. `must be between 1 and 100`.
        reason: String,
    },
    /// The order's current status does not allow the action.
    #[error("cannot {action} an order that is {current}")]
    IllegalTransition {
        /// What was attempted, e.g. `accept`.
        action: &'static str,
        /// The order's status at the time.
        current: OrderStatus,
    },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
