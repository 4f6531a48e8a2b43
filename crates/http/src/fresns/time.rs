//! `datetime`, `datetimeFormat` and `timeAgo` in upstream's formats, computed with
//! real date values in the client's UTC offset (fractional offsets included).

use std::fmt::Write as _;

use arrayvec::ArrayString;
use chrono::{DateTime, Datelike, FixedOffset, Offset as _, Timelike, Utc};

use super::codes::Lang;

/// One formatted time, kept inline: a message page writes three per item, and
/// allocating each showed in the page's profile. The longest is a `timeAgo`
/// of 29 bytes (a 19-digit count and "个月前").
pub(crate) type TimeText = ArrayString<32>;

/// How a request wants times shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeView {
    pub(crate) lang: Lang,
    /// The client's offset; UTC when it sent none (colloq stores UTC).
    pub(crate) offset: FixedOffset,
    pub(crate) now: DateTime<Utc>,
}

impl TimeView {
    pub(crate) fn new(lang: Lang, offset_minutes: Option<i32>, now: DateTime<Utc>) -> Self {
        let offset = offset_minutes
            .and_then(|m| FixedOffset::east_opt(m * 60))
            .unwrap_or_else(|| Utc.fix());
        Self { lang, offset, now }
    }

    /// The client's offset from UTC, in minutes.
    pub(crate) fn offset_minutes(self) -> Option<i32> {
        Some(self.offset.local_minus_utc() / 60)
    }

    /// `<date format> H:i:s` in the client's offset.
    pub(crate) fn datetime(self, t: DateTime<Utc>) -> TimeText {
        let l = t.with_timezone(&self.offset);
        // Written digit by digit: a message page formats about fifty times, and
        // both strftime patterns and `format!` cost more than the page's reads.
        let mut out = TimeText::new();
        match self.lang {
            Lang::En => {
                digits(&mut out, l.month(), 2, '/');
                digits(&mut out, l.day(), 2, '/');
                digits(&mut out, year(l.year()), 4, ' ');
            }
            Lang::ZhHans | Lang::ZhHant => {
                digits(&mut out, year(l.year()), 4, '-');
                digits(&mut out, l.month(), 2, '-');
                digits(&mut out, l.day(), 2, ' ');
            }
        }
        digits(&mut out, l.hour(), 2, ':');
        digits(&mut out, l.minute(), 2, ':');
        digits(&mut out, l.second(), 2, '\0');
        out
    }

    /// The short form: full in another year, date without year and `H:i` in
    /// another day, `H:i` on the same day.
    pub(crate) fn datetime_format(self, t: DateTime<Utc>) -> TimeText {
        let local = t.with_timezone(&self.offset);
        let now = self.now.with_timezone(&self.offset);
        if local.year() != now.year() {
            return self.datetime(t);
        }
        let mut out = TimeText::new();
        if local.date_naive() != now.date_naive() {
            let sep = match self.lang {
                Lang::En => '/',
                Lang::ZhHans | Lang::ZhHant => '-',
            };
            digits(&mut out, local.month(), 2, sep);
            digits(&mut out, local.day(), 2, ' ');
        }
        digits(&mut out, local.hour(), 2, ':');
        digits(&mut out, local.minute(), 2, '\0');
        out
    }

    /// "n unit ago" with upstream's buckets (28-day months, 336-day years) and
    /// n never below 1.
    pub(crate) fn time_ago(self, t: DateTime<Utc>) -> TimeText {
        let s = (self.now - t).num_seconds();
        let (n, unit) = if s < 3600 {
            (s / 60, 0)
        } else if s < 86_400 {
            (s / 3600, 1)
        } else if s < 30 * 86_400 {
            (s / 86_400, 2)
        } else if s < 336 * 86_400 {
            (s / (28 * 86_400), 3)
        } else {
            (s / (336 * 86_400), 4)
        };
        let n = n.max(1);
        let unit = match (self.lang, unit) {
            (Lang::En, 0) => "minute ago",
            (Lang::En, 1) => "hour ago",
            (Lang::En, 2) => "day ago",
            (Lang::En, 3) => "month ago",
            (Lang::En, _) => "year ago",
            (Lang::ZhHans, 0) => "分钟前",
            (Lang::ZhHans, 1) => "小时前",
            (Lang::ZhHant, 0) => "分鐘前",
            (Lang::ZhHant, 1) => "小時前",
            (_, 2) => "天前",
            (Lang::ZhHans, 3) => "个月前",
            (Lang::ZhHant, 3) => "個月前",
            (_, _) => "年前",
        };
        let mut out = TimeText::new();
        // Cannot overflow: see [`TimeText`].
        write!(out, "{n} {unit}").ok();
        out
    }

    /// The three keys of a message or event time.
    pub(crate) fn triple(self, t: DateTime<Utc>) -> (TimeText, TimeText, TimeText) {
        (self.datetime(t), self.datetime_format(t), self.time_ago(t))
    }
}

/// A year as PHP's `Y` shows it for the years colloq stores (0 to 9999).
fn year(y: i32) -> u32 {
    u32::try_from(y).unwrap_or(0)
}

/// Appends `n` zero-padded to `width` digits, then `sep` (none for `'\0'`).
/// At most 20 bytes go into one [`TimeText`], so no push can fail.
fn digits(out: &mut TimeText, n: u32, width: u32, sep: char) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.try_push(char::from_digit(digit, 10).unwrap_or('0'))
            .ok();
    }
    if sep != '\0' {
        out.try_push(sep).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ago(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        now - chrono::Duration::seconds(seconds)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn dates_follow_language_and_offset() {
        let now = at("2026-11-22T10:00:00Z");
        let t = at("2026-11-22T09:30:15Z");
        let en = TimeView::new(Lang::En, None, now);
        assert_eq!(en.datetime(t).as_str(), "11/22/2026 09:30:15");
        let zh = TimeView::new(Lang::ZhHans, Some(480), now);
        assert_eq!(zh.datetime(t).as_str(), "2026-11-22 17:30:15");
        let india = TimeView::new(Lang::En, Some(330), now);
        assert_eq!(india.datetime(t).as_str(), "11/22/2026 15:00:15");
        let nepal = TimeView::new(Lang::En, Some(345), now);
        assert_eq!(nepal.datetime(t).as_str(), "11/22/2026 15:15:15");
        let newfoundland = TimeView::new(Lang::En, Some(-210), now);
        assert_eq!(newfoundland.datetime(t).as_str(), "11/22/2026 06:00:15");
    }

    #[test]
    fn short_form_depends_on_day_and_year_in_the_clients_zone() {
        let now = at("2026-11-22T10:00:00Z");
        let en = TimeView::new(Lang::En, None, now);
        assert_eq!(
            en.datetime_format(at("2026-11-22T01:02:00Z")).as_str(),
            "01:02"
        );
        assert_eq!(
            en.datetime_format(at("2026-11-20T01:02:00Z")).as_str(),
            "11/20 01:02"
        );
        assert_eq!(
            en.datetime_format(at("2025-11-20T01:02:00Z")).as_str(),
            "11/20/2025 01:02:00"
        );
        let zh = TimeView::new(Lang::ZhHant, Some(-600), now);
        assert_eq!(
            zh.datetime_format(at("2026-11-22T01:02:00Z")).as_str(),
            "11-21 15:02"
        );
    }

    #[test]
    fn time_ago_buckets() {
        let now = at("2026-11-22T10:00:00Z");
        let en = TimeView::new(Lang::En, None, now);
        let cases = [
            (0, "1 minute ago"),
            (-500, "1 minute ago"),
            (119, "1 minute ago"),
            (3599, "59 minute ago"),
            (3600, "1 hour ago"),
            (86_399, "23 hour ago"),
            (86_400, "1 day ago"),
            (29 * 86_400, "29 day ago"),
            (30 * 86_400, "1 month ago"),
            (335 * 86_400, "11 month ago"),
            (336 * 86_400, "1 year ago"),
            (800 * 86_400, "2 year ago"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(
                en.time_ago(ago(now, seconds)).as_str(),
                expected,
                "{seconds}"
            );
        }
        let zh = TimeView::new(Lang::ZhHans, None, now);
        assert_eq!(zh.time_ago(ago(now, 7200)).as_str(), "2 小时前");
    }
}
