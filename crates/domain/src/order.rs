//! AnQiCMS communication orders: a customer and the site's staff discuss a
//! customisation request. The lifecycle:
//!
//! ```text
//! 0 pending --staff reply/action--> 1 communicating --staff quote--> 2 quoted
//! 2 quoted --customer--> 3 accepted | 4 rejected --staff quote--> 2 quoted
//! customer cancel from 0/1/2/4, staff cancel from anything but -1  --> -1 cancelled
//! ```
//!
//! Every change of status appends a `system` message; the caller does that with
//! [`OrderStatus::transition_note`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::DomainError;
use crate::ids::{OrderId, UserId};

/// The status of a communication order, with AnQiCMS's integer codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// `-1`: cancelled by the customer or staff. Terminal.
    Cancelled,
    /// `0`: created, nobody from staff has answered yet.
    Pending,
    /// `1`: staff and customer are talking.
    Communicating,
    /// `2`: staff sent a quote, the customer has to answer.
    Quoted,
    /// `3`: the customer accepted the quote.
    Accepted,
    /// `4`: the customer rejected the quote.
    Rejected,
}

impl OrderStatus {
    /// The wire code.
    pub fn code(self) -> i32 {
        match self {
            Self::Cancelled => -1,
            Self::Pending => 0,
            Self::Communicating => 1,
            Self::Quoted => 2,
            Self::Accepted => 3,
            Self::Rejected => 4,
        }
    }

    /// The status for a wire code.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `status` for an unknown code.
    pub fn from_code(code: i64) -> Result<Self, DomainError> {
        Ok(match code {
            -1 => Self::Cancelled,
            0 => Self::Pending,
            1 => Self::Communicating,
            2 => Self::Quoted,
            3 => Self::Accepted,
            4 => Self::Rejected,
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    "must be one of -1, 0, 1, 2, 3, 4",
                ));
            }
        })
    }

    /// A human name, used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::Pending => "pending",
            Self::Communicating => "communicating",
            Self::Quoted => "quoted",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// Whether messages may still be sent on the order.
    pub fn accepts_messages(self) -> bool {
        self != Self::Cancelled
    }

    /// The status after `action`, or `None` when the action leaves it unchanged
    /// (a staff reply on an order already past `pending`).
    ///
    /// # Errors
    /// [`DomainError::IllegalTransition`] naming the current status.
    pub fn apply(self, action: OrderAction) -> Result<Option<Self>, DomainError> {
        use OrderAction as A;
        use OrderStatus as S;
        let illegal = || DomainError::IllegalTransition {
            action: action.verb(),
            current: self,
        };
        let next = match (action, self) {
            (_, S::Cancelled) => return Err(illegal()),
            (A::StaffReply, S::Pending) => S::Communicating,
            (A::StaffReply, _) => return Ok(None),
            (A::Quote, S::Pending | S::Communicating | S::Quoted | S::Rejected) => S::Quoted,
            (A::Accept, S::Quoted) => S::Accepted,
            (A::Reject, S::Quoted) => S::Rejected,
            (A::CustomerCancel, S::Pending | S::Communicating | S::Quoted | S::Rejected) => {
                S::Cancelled
            }
            (A::StaffCancel, _) => S::Cancelled,
            (A::Reopen, S::Pending | S::Rejected) => S::Communicating,
            (A::Update, S::Pending | S::Communicating | S::Quoted | S::Rejected) => {
                return Ok(None);
            }
            _ => return Err(illegal()),
        };
        Ok(Some(next))
    }

    /// The text of the `system` message recording a change from `self` to `next`.
    pub fn transition_note(self, next: Self) -> String {
        format!(
            "Order status changed from {} to {}",
            self.name(),
            next.name()
        )
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// Something somebody does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// Staff sends a message.
    StaffReply,
    /// Staff sends a quote.
    Quote,
    /// The customer accepts the quote.
    Accept,
    /// The customer rejects the quote.
    Reject,
    /// The customer cancels.
    CustomerCancel,
    /// Staff cancels.
    StaffCancel,
    /// Staff sets the order (back) to communicating.
    Reopen,
    /// The customer edits title, content or extra fields.
    Update,
}

impl OrderAction {
    fn verb(self) -> &'static str {
        match self {
            Self::StaffReply => "reply to",
            Self::Quote => "quote",
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::CustomerCancel | Self::StaffCancel => "cancel",
            Self::Reopen => "reopen",
            Self::Update => "update",
        }
    }

    /// The action staff asks for by setting a status code on the staff API.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `status` for a status staff cannot set
    /// directly (quoted, accepted and rejected come from quotes and customers).
    pub fn from_staff_status(target: OrderStatus) -> Result<Self, DomainError> {
        match target {
            OrderStatus::Communicating => Ok(Self::Reopen),
            OrderStatus::Cancelled => Ok(Self::StaffCancel),
            _ => Err(DomainError::invalid(
                "status",
                "staff can set only 1 (communicating) or -1 (cancelled); quotes and customers set the others",
            )),
        }
    }
}

/// Free key → value extra fields of an order (`order_extra`).
pub type OrderExtra = BTreeMap<String, String>;

/// A validated title (1..=200 characters).
fn title(raw: &str) -> Result<String, DomainError> {
    bounded("title", raw, 200)
}

/// A validated description (1..=10,000 characters).
fn content(raw: &str) -> Result<String, DomainError> {
    bounded("content", raw, 10_000)
}

fn bounded(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An order's contact phone, kept as the customer wrote it: digits, with an
/// optional leading `+` and the separators people write (spaces, dashes,
/// dots, parentheses); 5 to 20 digits, at most 32 characters.
fn contact_phone(raw: &str) -> Result<String, DomainError> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Err(DomainError::invalid("phone", "is required"));
    }
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let written = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !written || !(5..=20).contains(&digits) || phone.chars().count() > 32 {
        return Err(DomainError::invalid(
            "phone",
            "must be a phone number: 5 to 20 digits, an optional leading +, \
             and spaces, dashes, dots or parentheses between them",
        ));
    }
    Ok(phone.to_owned())
}

/// A quote's price: a non-negative amount in the site's currency with at
/// most two decimals and at most twelve digits before the point (`0`,
/// `9900`, `12.5`, `0.99`), kept as written (AnQiCMS keeps it a string).
fn price(raw: &str) -> Result<String, DomainError> {
    let price = raw.trim();
    if price.is_empty() {
        return Err(DomainError::invalid("quote_price", "is required"));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, cents) = match price.split_once('.') {
        Some((whole, cents)) => (whole, Some(cents)),
        None => (price, None),
    };
    let fine = digits(whole)
        && whole.len() <= 12
        && (whole == "0" || !whole.starts_with('0'))
        && cents.is_none_or(|c| digits(c) && c.len() <= 2);
    if !fine {
        return Err(DomainError::invalid(
            "quote_price",
            "must be an amount of at least 0 with at most two decimals, such as 9900 or 12.50",
        ));
    }
    Ok(price.to_owned())
}

fn images(field: &'static str, urls: Vec<String>) -> Result<Vec<String>, DomainError> {
    const MAX_IMAGES: usize = 50;
    if urls.len() > MAX_IMAGES {
        return Err(DomainError::invalid(
            field,
            format!("may hold at most {MAX_IMAGES} images"),
        ));
    }
    if urls.iter().any(|u| u.trim().is_empty() || u.len() > 2048) {
        return Err(DomainError::invalid(
            field,
            "each image must be a non-empty URL of at most 2048 characters",
        ));
    }
    Ok(urls)
}

fn extra(raw: OrderExtra) -> Result<OrderExtra, DomainError> {
    if raw.len() > 100 || raw.iter().any(|(k, v)| k.len() > 100 || v.len() > 10_000) {
        return Err(DomainError::invalid(
            "order_extra",
            "may hold at most 100 fields with keys up to 100 and values up to 10000 bytes",
        ));
    }
    Ok(raw)
}

/// A customer's request for a new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The product or document the request is about.
    pub archive_id: i64,
    /// Short title.
    pub title: String,
    /// What the customer wants.
    pub content: String,
    /// Contact phone.
    pub phone: String,
    /// Reference images.
    pub images: Vec<String>,
    /// Extra fields.
    pub order_extra: OrderExtra,
}

impl NewOrder {
    /// Validates a new order.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the first bad field.
    pub fn parse(
        archive_id: i64,
        title_raw: &str,
        content_raw: &str,
        phone_raw: &str,
        images_raw: Vec<String>,
        extra_raw: OrderExtra,
    ) -> Result<Self, DomainError> {
        if archive_id < 0 {
            return Err(DomainError::invalid("archive_id", "must not be negative"));
        }
        Ok(Self {
            archive_id,
            title: title(title_raw)?,
            content: content(content_raw)?,
            phone: contact_phone(phone_raw)?,
            images: images("images", images_raw)?,
            order_extra: extra(extra_raw)?,
        })
    }
}

/// A customer's partial edit: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderEdit {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub content: Option<String>,
    /// New extra fields (replacing the old map).
    pub order_extra: Option<OrderExtra>,
}

impl OrderEdit {
    /// Validates an edit.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the first bad field.
    pub fn parse(
        title_raw: Option<&str>,
        content_raw: Option<&str>,
        extra_raw: Option<OrderExtra>,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            title: title_raw.map(title).transpose()?,
            content: content_raw.map(content).transpose()?,
            order_extra: extra_raw.map(extra).transpose()?,
        })
    }
}

/// Staff's quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The price, as text (AnQiCMS keeps it a string).
    pub price: String,
    /// What the price covers; also the `quote` message's content.
    pub content: String,
}

impl Quote {
    /// Validates a quote.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `quote_price` or `quote_content`.
    pub fn parse(price_raw: &str, content_raw: &str) -> Result<Self, DomainError> {
        Ok(Self {
            price: price(price_raw)?,
            content: bounded("quote_content", content_raw, 10_000)?,
        })
    }
}

/// Staff's images on an order; `None` leaves a list as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderImages {
    /// Drafts.
    pub sketch_images: Option<Vec<String>>,
    /// Final images.
    pub finished_images: Option<Vec<String>>,
}

impl OrderImages {
    /// Validates image lists.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the bad list.
    pub fn parse(
        sketch: Option<Vec<String>>,
        finished: Option<Vec<String>>,
    ) -> Result<Self, DomainError> {
        if sketch.is_none() && finished.is_none() {
            return Err(DomainError::invalid(
                "sketch_images",
                "sketch_images or finished_images is required",
            ));
        }
        Ok(Self {
            sketch_images: sketch.map(|s| images("sketch_images", s)).transpose()?,
            finished_images: finished.map(|f| images("finished_images", f)).transpose()?,
        })
    }
}

/// A stored communication order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id (also its thread's id).
    pub id: OrderId,
    /// The customer.
    pub owner: UserId,
    /// The linked shop order, 0 when none.
    pub shop_order_id: i64,
    /// See [`NewOrder`].
    pub archive_id: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub content: String,
    /// Contact phone.
    pub phone: String,
    /// The customer's images.
    pub images: Vec<String>,
    /// Staff's drafts.
    pub sketch_images: Vec<String>,
    /// Staff's final images.
    pub finished_images: Vec<String>,
    /// Event date, free text.
    pub event_date: String,
    /// Where the order stands.
    pub status: OrderStatus,
    /// The staff member handling it, if any.
    pub admin: Option<UserId>,
    /// The latest quote's price, empty before any quote.
    pub quote_price: String,
    /// The latest quote's text.
    pub quote_content: String,
    /// Extra fields.
    pub order_extra: OrderExtra,
    /// Messages on the order.
    pub message_count: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Order {
    /// Whether `viewer_id` (acting as staff or not) may see this order.
    pub fn visible_to(&self, viewer_id: UserId, as_staff: bool) -> bool {
        as_staff || self.owner == viewer_id
    }
}

#[cfg(test)]
mod tests {
    use super::OrderAction as A;
    use super::OrderStatus as S;
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in [
            S::Cancelled,
            S::Pending,
            S::Communicating,
            S::Quoted,
            S::Accepted,
            S::Rejected,
        ] {
            assert_eq!(S::from_code(i64::from(s.code())), Ok(s));
        }
        assert!(S::from_code(5).is_err());
    }

    #[test]
    fn happy_path() {
        assert_eq!(S::Pending.apply(A::StaffReply), Ok(Some(S::Communicating)));
        assert_eq!(S::Communicating.apply(A::StaffReply), Ok(None));
        assert_eq!(S::Communicating.apply(A::Quote), Ok(Some(S::Quoted)));
        assert_eq!(S::Quoted.apply(A::Accept), Ok(Some(S::Accepted)));
        assert_eq!(S::Quoted.apply(A::Reject), Ok(Some(S::Rejected)));
        assert_eq!(S::Rejected.apply(A::Quote), Ok(Some(S::Quoted)));
        assert_eq!(S::Rejected.apply(A::Reopen), Ok(Some(S::Communicating)));
    }

    #[test]
    fn illegal_transitions_name_the_current_status() {
        let err = S::Pending.apply(A::Accept);
        assert_eq!(
            err,
            Err(DomainError::IllegalTransition {
                action: "accept",
                current: S::Pending
            })
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("cannot accept an order that is pending (0)".to_owned())
        );
        assert!(S::Accepted.apply(A::CustomerCancel).is_err());
        assert!(S::Cancelled.apply(A::StaffCancel).is_err());
        assert!(S::Cancelled.apply(A::StaffReply).is_err());
        assert!(S::Accepted.apply(A::Quote).is_err());
        assert_eq!(S::Accepted.apply(A::StaffCancel), Ok(Some(S::Cancelled)));
    }

    #[test]
    fn new_orders_are_validated() {
        let phone = "+86 138-0000-1234";
        let ok = NewOrder::parse(1, " t ", "c", phone, vec![], OrderExtra::new());
        assert_eq!(
            ok.map(|o| (o.title, o.phone)),
            Ok(("t".to_owned(), phone.to_owned()))
        );
        let err = NewOrder::parse(1, "", "c", phone, vec![], OrderExtra::new());
        assert_eq!(err, Err(DomainError::invalid("title", "is required")));
        assert!(NewOrder::parse(-1, "t", "c", phone, vec![], OrderExtra::new()).is_err());
        assert!(NewOrder::parse(1, "t", "c", " ", vec![], OrderExtra::new()).is_err());
    }

    #[test]
    fn contact_phones_are_phone_numbers() {
        for fine in ["13800001234", "+1 (555) 010-9999", "030.1234.5678", "12345"] {
            assert_eq!(contact_phone(fine).as_deref(), Ok(fine), "{fine}");
        }
        for bad in [
            "1234",
            "call me",
            "<b>138</b>",
            "++1380000",
            "138\u{0}0000",
            "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7",
        ] {
            assert!(contact_phone(bad).is_err(), "{bad}");
        }
        assert!(contact_phone(&"1".repeat(21)).is_err());
    }

    #[test]
    fn prices_are_amounts_with_at_most_two_decimals() {
        for fine in ["0", "9900", "12.5", "0.99", "999999999999.99"] {
            assert_eq!(price(fine).as_deref(), Ok(fine), "{fine}");
        }
        for bad in [
            "-1",
            "1e3",
            "9223372036854775808",
            "1.234",
            "01",
            ".5",
            "5.",
            "<b>1</b>",
            "",
            "1,000",
        ] {
            assert!(price(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn staff_can_set_only_two_statuses() {
        assert_eq!(
            OrderAction::from_staff_status(S::Communicating),
            Ok(A::Reopen)
        );
        assert_eq!(
            OrderAction::from_staff_status(S::Cancelled),
            Ok(A::StaffCancel)
        );
        assert!(OrderAction::from_staff_status(S::Accepted).is_err());
    }
}
