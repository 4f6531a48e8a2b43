//! [`Stamp`]: a stored timestamp, read fast.
//!
//! SQLite keeps timestamps as text. diesel reads them by trying up to eighteen
//! strftime formats, and chrono compiles each format string again on every
//! call; that was 5 % of a Fresns message page's CPU (one page reads about
//! twenty timestamps). colloq writes one format, diesel's `%F %T%.f`, so a
//! [`Stamp`] parses that with chrono's items compiled once, and hands anything
//! else (a value written by hand or by another tool) to diesel's reader.
//! PostgreSQL's binary timestamps go to diesel as they are.

use chrono::NaiveDateTime;
use chrono::format::{Fixed, Item, Numeric, Pad, Parsed};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use crate::conn::{MultiBackend, MultiRawValue};

/// A timestamp column as read: UTC without a zone (contract §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub(crate) struct Stamp(pub(crate) NaiveDateTime);

impl From<Stamp> for NaiveDateTime {
    fn from(stamp: Stamp) -> Self {
        stamp.0
    }
}

/// `%F %T%.f`, as diesel writes it.
const WRITTEN: &[Item<'static>] = &[
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal(" "),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
    Item::Fixed(Fixed::Nanosecond),
];

fn parse_written(text: &str) -> Option<NaiveDateTime> {
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, WRITTEN.iter()).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok()
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(at) = parse_written(value.read_text()) {
            return Ok(Self(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use chrono::Timelike;

    #[test]
    fn reads_what_diesel_writes_to_the_nanosecond() {
        let at = chrono::DateTime::from_timestamp(1_763_800_000, 123_456_789)
            .unwrap()
            .naive_utc();
        let written = at.format("%F %T%.f").to_string();
        assert_eq!(parse_written(&written), Some(at));
        let whole = at.with_nanosecond(0).unwrap();
        assert_eq!(
            parse_written(&whole.format("%F %T%.f").to_string()),
            Some(whole)
        );
    }

    #[test]
    fn leaves_other_shapes_to_diesel() {
        assert_eq!(parse_written("2026-11-22T10:00:00"), None);
        assert_eq!(parse_written("2026-11-22 10:00:00+00:00"), None);
        assert_eq!(parse_written("2461001.5"), None);
    }
}
