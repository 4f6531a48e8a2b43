//! [`Stamp`]: a stored timestamp, read and written fast.
//!
//! SQLite keeps timestamps as text. diesel reads them by trying up to eighteen
//! strftime formats, and chrono compiles each format string again on every
//! call, a visible share of a Fresns message page, which reads about twenty
//! timestamps (docs/benchmarks.md, "Profiles behind the code"). Writing one
//! goes through the same compiling of `%F %T%.f`, six times in a direct
//! message's write, in the writer thread that every SQLite write queues for.
//! colloq writes that one format, so a [`Stamp`] writes it and reads it by
//! position, and hands anything else (a value written by hand or by another
//! tool) to diesel's reader.
//! PostgreSQL's binary timestamps go to diesel as they are.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use crate::conn::{MultiBackend, MultiRawValue};

/// A timestamp column as read or written: UTC without a zone: colloq stores
/// every time in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub(crate) struct Stamp(pub(crate) NaiveDateTime);

impl From<Stamp> for NaiveDateTime {
    fn from(stamp: Stamp) -> Self {
        stamp.0
    }
}

/// `%F %T%.f` as diesel writes it: `YYYY-MM-DD HH:MM:SS` and an optional
/// fraction of 1 to 9 digits. Read by position: chrono's general parser,
/// even with its items compiled once, still showed in a page's profile.
/// Any other shape is `None` and goes to diesel's reader.
fn parse_written(text: &str) -> Option<NaiveDateTime> {
    let (whole, fraction) = text.as_bytes().split_at_checked(19)?;
    let number = |range: std::ops::Range<usize>| decimal(whole.get(range)?);
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, c)| whole.get(at) != Some(&c)) {
        return None;
    }
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            decimal(digits)? * 10_u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

/// `at` as diesel writes it (`%F %T%.f`: a fraction of 3, 6 or 9 digits,
/// the fewest that hold it exactly, or none), or `None` for what chrono
/// writes differently (a year outside 0..=9999, a leap second).
fn write(at: &NaiveDateTime) -> Option<String> {
    let (date, time) = (at.date(), at.time());
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let (fraction, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let mut text = String::with_capacity(29);
    let fields = [
        (year, 4, None),
        (date.month(), 2, Some('-')),
        (date.day(), 2, Some('-')),
        (time.hour(), 2, Some(' ')),
        (time.minute(), 2, Some(':')),
        (time.second(), 2, Some(':')),
        (fraction, digits, Some('.')),
    ];
    for (value, width, before) in fields.into_iter().filter(|&(_, width, _)| width > 0) {
        text.extend(before);
        for place in (0..width).rev() {
            text.extend(char::from_digit(value / 10_u32.pow(place) % 10, 10));
        }
    }
    Some(text)
}

/// The value of a run of at most nine ASCII digits.
fn decimal(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0_u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
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

impl ToSql<Timestamp, Sqlite> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        match write(&self.0) {
            Some(text) => {
                out.set_value(text);
                Ok(IsNull::No)
            }
            None => <NaiveDateTime as ToSql<Timestamp, Sqlite>>::to_sql(&self.0, out),
        }
    }
}

impl ToSql<Timestamp, Pg> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, &mut out.reborrow())
    }
}

impl ToSql<Timestamp, MultiBackend> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Timestamp, self));
        Ok(IsNull::No)
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
    fn reads_every_fraction_length_and_refuses_impossible_dates() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%F %T%.f").unwrap();
        for text in [
            "2026-11-22 10:00:00.1",
            "2026-11-22 10:00:00.123",
            "2026-11-22 10:00:00.123456",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
            "2024-02-29 12:30:45.5",
        ] {
            assert_eq!(parse_written(text), Some(at(text)), "{text}");
        }
        for text in [
            "2026-02-30 10:00:00",
            "2026-11-22 24:00:00",
            "2026-11-22 10:00:00.",
            "2026-11-22 10:00:00.1234567890",
            "2026-11-22 10:00:0x",
            "2026-1-22 10:00:00",
            "+2026-11-22 10:00:00",
        ] {
            assert_eq!(parse_written(text), None, "{text}");
        }
    }

    #[test]
    fn writes_what_diesel_writes() {
        let mut seconds = 1_763_800_000_i64;
        let mut nanos = 0_u32;
        for step in 0..20_000_u32 {
            // Whole seconds, milli-, micro- and nanosecond fractions, and
            // fractions with trailing zeros in each width.
            let fraction = match step % 5 {
                0 => 0,
                1 => nanos / 1_000_000 * 1_000_000,
                2 => nanos / 1_000 * 1_000,
                3 => nanos / 10 * 10,
                _ => nanos,
            };
            let at = chrono::DateTime::from_timestamp(seconds, fraction)
                .unwrap()
                .naive_utc();
            let written = at.format("%F %T%.f").to_string();
            assert_eq!(write(&at).as_deref(), Some(written.as_str()));
            assert_eq!(parse_written(&written), Some(at));
            seconds = seconds.wrapping_mul(48_271).rem_euclid(253_402_300_799);
            nanos = nanos.wrapping_mul(69_069).wrapping_add(1) % 1_000_000_000;
        }
        let earliest = NaiveDate::from_ymd_opt(0, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(write(&earliest).as_deref(), Some("0000-01-01 00:00:00"));
        // What chrono writes otherwise is left to it.
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(write(&far), None);
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(write(&leap), None);
    }

    #[test]
    fn leaves_other_shapes_to_diesel() {
        assert_eq!(parse_written("2026-11-22T10:00:00"), None);
        assert_eq!(parse_written("2026-11-22 10:00:00+00:00"), None);
        assert_eq!(parse_written("2461001.5"), None);
    }
}
