//! Paging. A thread's messages carry a gap-free per-thread sequence number
//! (`seq`, 1-based), so page `p` of size `n` in oldest-first order is exactly the
//! rows with `seq` in `((p-1)·n, p·n]`: an index seek whatever the depth, with no
//! OFFSET scan and no COUNT (the thread keeps its count).

use crate::DomainError;

/// A page number (1-based) and a page size, both validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: i64,
    size: i64,
}

impl PageRequest {
    /// Validates a page request; `max_size` is the dialect's cap.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `page` or `page_size`.
    pub fn new(page: i64, size: i64, max_size: i64) -> Result<Self, DomainError> {
        if page < 1 {
            return Err(DomainError::invalid("page", "must be at least 1"));
        }
        if !(1..=max_size).contains(&size) {
            return Err(DomainError::invalid(
                "page_size",
                format!("must be between 1 and {max_size}"),
            ));
        }
        Ok(Self { page, size })
    }

    /// The page number.
    pub fn page(self) -> i64 {
        self.page
    }

    /// The page size.
    pub fn size(self) -> i64 {
        self.size
    }

    /// Page 1 at the same size.
    #[must_use]
    pub fn first(self) -> Self {
        Self { page: 1, ..self }
    }

    /// Rows to skip, saturating so absurd page numbers just land past the end.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.size)
    }

    /// The `seq` values of this page in oldest-first order: `(after, limit)`
    /// means rows with `seq > after`, at most `limit` of them.
    pub fn seq_window(self) -> (i64, i64) {
        (self.offset(), self.size)
    }
}

/// One page of results and the total across all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items of the page.
    pub items: Vec<T>,
    /// How many items all pages hold together.
    pub total: i64,
}

impl<T> Paged<T> {
    /// Maps the items, keeping the total.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        assert!(PageRequest::new(1, 1, 100).is_ok());
        assert!(PageRequest::new(1, 100, 100).is_ok());
        assert!(PageRequest::new(0, 10, 100).is_err());
        assert!(PageRequest::new(1, 0, 100).is_err());
        assert!(PageRequest::new(1, 101, 100).is_err());
    }

    #[test]
    fn windows_follow_the_page() {
        let p = PageRequest::new(3, 10, 100).map(PageRequest::seq_window);
        assert_eq!(p, Ok((20, 10)));
        let far = PageRequest::new(i64::MAX, 100, 100).map(PageRequest::offset);
        assert_eq!(far, Ok(i64::MAX));
    }
}

/// Which side of an anchor message a keyset read looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// The messages before the anchor.
    Before,
    /// The messages after the anchor.
    After,
}

/// Which slice of a thread to read: a numbered page, or — colloq's keyset
/// extension to both dialects — the messages just before or after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// A numbered page.
    Page(PageRequest),
    /// Up to `limit` messages just before this one.
    Before {
        /// The anchor message.
        id: crate::ids::MessageId,
        /// How many.
        limit: i64,
    },
    /// Up to `limit` messages just after this one.
    After {
        /// The anchor message.
        id: crate::ids::MessageId,
        /// How many.
        limit: i64,
    },
}
