//! The clock upstream Fresns checks signature timestamps against.
//!
//! Upstream v2.21.4 computes "now" as `strtotime(now('UTC'))`: Carbon prints
//! the UTC wall time, and PHP reads that text back in its default zone, which
//! Laravel sets from the site's `DB_TIMEZONE`. On a site in `Asia/Shanghai`
//! "now" is therefore 8 hours behind true Unix time, and the official clients
//! sign with `Date.now() - 8 h` to match. [`SignatureZone`] names that zone so
//! colloq's window sits where the site's own server put it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset as _, Utc};

/// The zone an existing Fresns site runs in (its `DB_TIMEZONE`): an IANA name
/// (daylight saving applied as upstream's PHP applies it) or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SignatureZone {
    /// An IANA zone such as `Asia/Shanghai`, or `UTC`.
    Named(chrono_tz::Tz),
    /// A fixed offset such as `+08:00`.
    Fixed(FixedOffset),
}

impl Default for SignatureZone {
    fn default() -> Self {
        Self::Named(chrono_tz::UTC)
    }
}

impl FromStr for SignatureZone {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if let Ok(zone) = raw.parse::<chrono_tz::Tz>() {
            return Ok(Self::Named(zone));
        }
        parse_offset(raw).map(Self::Fixed).ok_or_else(|| {
            format!(
                "`{raw}` is neither an IANA time zone (e.g. Asia/Shanghai) nor an offset \
                 (e.g. +08:00)"
            )
        })
    }
}

/// `+08:00`, `+0800`, `+8`, `-05:30`, `UTC+8`.
fn parse_offset(raw: &str) -> Option<FixedOffset> {
    let raw = raw
        .strip_prefix("UTC")
        .or_else(|| raw.strip_prefix("GMT"))
        .unwrap_or(raw);
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, raw.get(1..)?),
        b'-' => (-1, raw.get(1..)?),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => (rest.get(..2)?, rest.get(2..)?),
        None => (rest, "0"),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

impl TryFrom<String> for SignatureZone {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        raw.parse()
    }
}

impl From<SignatureZone> for String {
    fn from(zone: SignatureZone) -> Self {
        zone.to_string()
    }
}

impl fmt::Display for SignatureZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(zone) => f.write_str(zone.name()),
            Self::Fixed(offset) => write!(f, "{offset}"),
        }
    }
}

impl SignatureZone {
    /// Upstream's "now", in whole seconds: the UTC wall time of `now` read as a
    /// wall time of this zone.
    pub fn upstream_now(&self, now: DateTime<Utc>) -> i64 {
        let wall = now.naive_utc();
        let read = match self {
            Self::Named(zone) => local_to_unix(*zone, wall),
            Self::Fixed(offset) => local_to_unix(*offset, wall),
        };
        read.unwrap_or_else(|| now.timestamp())
    }
}

/// The Unix time of wall time `wall` in `zone`; in a daylight-saving gap,
/// the time that many seconds after the gap's start, as PHP reads it.
fn local_to_unix<Z: chrono::TimeZone>(zone: Z, wall: NaiveDateTime) -> Option<i64> {
    match zone.from_local_datetime(&wall) {
        chrono::LocalResult::Single(t) => Some(t.timestamp()),
        chrono::LocalResult::Ambiguous(first, _) => Some(first.timestamp()),
        chrono::LocalResult::None => {
            // The offset before the gap.
            let before = zone.offset_from_utc_datetime(&wall).fix();
            Some(wall.and_utc().timestamp() - i64::from(before.local_minus_utc()))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::SignatureZone;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn zone(raw: &str) -> SignatureZone {
        raw.parse().unwrap_or_default()
    }

    #[test]
    fn utc_is_true_unix_time_in_whole_seconds() {
        let now = at("2026-12-02T10:00:00.900Z");
        assert_eq!(SignatureZone::default().upstream_now(now), now.timestamp());
        assert_eq!(zone("UTC").upstream_now(now), now.timestamp());
    }

    #[test]
    fn a_zone_east_of_utc_puts_upstream_now_behind() {
        let now = at("2026-12-02T10:00:00Z");
        for raw in [
            "Asia/Shanghai",
            "Asia/Singapore",
            "+08:00",
            "+0800",
            "+8",
            "UTC+8",
        ] {
            assert_eq!(
                zone(raw).upstream_now(now),
                now.timestamp() - 8 * 3600,
                "{raw}"
            );
        }
        assert_eq!(
            zone("-05:30").upstream_now(now),
            now.timestamp() + 5 * 3600 + 1800
        );
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let winter = at("2026-01-15T12:00:00Z");
        let summer = at("2026-07-15T12:00:00Z");
        let berlin = zone("Europe/Berlin");
        assert_eq!(berlin.upstream_now(winter), winter.timestamp() - 3600);
        assert_eq!(berlin.upstream_now(summer), summer.timestamp() - 7200);
    }

    #[test]
    fn unknown_zones_are_refused_with_what_was_read() {
        for raw in ["Asia/Shangai", "+25:00", "8", "", "+08:0x"] {
            let refused = raw.parse::<SignatureZone>();
            assert!(refused.is_err(), "{raw}");
        }
        let message = "Mars/Olympus"
            .parse::<SignatureZone>()
            .err()
            .unwrap_or_default();
        assert!(message.contains("Mars/Olympus"), "{message}");
    }

    #[test]
    fn a_zone_reads_back_as_it_was_written() {
        assert_eq!(zone("Asia/Shanghai").to_string(), "Asia/Shanghai");
        assert_eq!(zone("+08:00").to_string(), "+08:00");
    }
}
