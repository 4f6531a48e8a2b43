//! The `X-Fresns-*` request headers: validation (code 21005 with the validator's
//! message), the device-info header, the client time zone, and the MD5 signature.

use actix_web::http::header::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

/// The validated headers of a request. `Debug` never shows the tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientHeaders {
    pub(crate) app_id: String,
    pub(crate) platform_id: i32,
    pub(crate) version: String,
    pub(crate) aid: Option<String>,
    pub(crate) aid_token: Option<String>,
    pub(crate) uid: Option<i64>,
    /// The uid header as sent, for the signature.
    pub(crate) uid_raw: Option<String>,
    pub(crate) uid_token: Option<String>,
    pub(crate) signature: String,
    pub(crate) timestamp: String,
    /// The client's UTC offset in minutes, when it sent a time zone.
    pub(crate) offset_minutes: Option<i32>,
}

impl std::fmt::Debug for ClientHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHeaders")
            .field("app_id", &self.app_id)
            .field("platform_id", &self.platform_id)
            .field("version", &self.version)
            .field("aid", &self.aid)
            .field("uid", &self.uid)
            .field("timestamp", &self.timestamp)
            .field("offset_minutes", &self.offset_minutes)
            .finish_non_exhaustive()
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Why the headers are unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// A validation failure (21005) with the validator's message.
    Invalid(String),
    /// The time zone is not a UTC offset colloq knows (31402).
    Timezone,
}

fn required(headers: &HeaderMap, name: &str, label: &str) -> Result<String, HeaderProblem> {
    header(headers, name)
        .ok_or_else(|| HeaderProblem::Invalid(format!("The {label} field is required.")))
}

/// Validates the headers in the order of upstream's rules.
pub(crate) fn parse(headers: &HeaderMap) -> Result<ClientHeaders, HeaderProblem> {
    let app_id = required(headers, "x-fresns-app-id", "app id")?;
    let platform_raw = required(headers, "x-fresns-client-platform-id", "platform id")?;
    let platform_id: i32 = platform_raw.parse().map_err(|_not_int| {
        HeaderProblem::Invalid("The platform id must be an integer.".to_owned())
    })?;
    if !(1..=11).contains(&platform_id) {
        return Err(HeaderProblem::Invalid(
            "The platform id must be between 1 and 11.".to_owned(),
        ));
    }
    let version = required(headers, "x-fresns-client-version", "version")?;
    let device = required(headers, "x-fresns-client-device-info", "device info")?;
    check_device_info(&device).map_err(HeaderProblem::Invalid)?;
    let aid = header(headers, "x-fresns-aid");
    let aid_token = header(headers, "x-fresns-aid-token");
    if aid.is_some() && aid_token.is_none() {
        return Err(HeaderProblem::Invalid(
            "The aid token field is required when aid is present.".to_owned(),
        ));
    }
    let uid_raw = header(headers, "x-fresns-uid");
    let uid = uid_raw
        .as_deref()
        .map(|raw| {
            raw.parse::<i64>().map_err(|_not_int| {
                HeaderProblem::Invalid("The uid must be an integer.".to_owned())
            })
        })
        .transpose()?;
    let uid_token = header(headers, "x-fresns-uid-token");
    if uid.is_some() && uid_token.is_none() {
        return Err(HeaderProblem::Invalid(
            "The uid token field is required when uid is present.".to_owned(),
        ));
    }
    let signature = required(headers, "x-fresns-signature", "signature")?;
    let timestamp = required(headers, "x-fresns-signature-timestamp", "timestamp")?;
    if !(10..=13).contains(&timestamp.len()) || !timestamp.chars().all(|c| c.is_ascii_digit()) {
        return Err(HeaderProblem::Invalid(
            "The timestamp must be between 10 and 13 digits.".to_owned(),
        ));
    }
    let offset_minutes = header(headers, "x-fresns-client-timezone")
        .map(|tz| parse_offset(&tz).ok_or(HeaderProblem::Timezone))
        .transpose()?;
    Ok(ClientHeaders {
        app_id,
        platform_id,
        version,
        aid,
        aid_token,
        uid,
        uid_raw,
        uid_token,
        signature,
        timestamp,
        offset_minutes,
    })
}

/// `X-Fresns-Client-Device-Info`: base64 of a JSON object naming a valid
/// `networkIpv4` or `networkIpv6`.
pub(crate) fn check_device_info(raw: &str) -> Result<(), String> {
    let invalid = || "The device info must be base64 encoded JSON.".to_owned();
    let bytes = STANDARD.decode(raw).map_err(|_b64| invalid())?;
    let info: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_json| invalid())?;
    let object = info.as_object().ok_or_else(invalid)?;
    let ip = |key: &str| object.get(key).and_then(serde_json::Value::as_str);
    let v4 = ip("networkIpv4").is_some_and(|v| v.parse::<std::net::Ipv4Addr>().is_ok());
    let v6 = ip("networkIpv6").is_some_and(|v| v.parse::<std::net::Ipv6Addr>().is_ok());
    if v4 || v6 {
        Ok(())
    } else {
        Err(
            "The network ipv4 field must be a valid IPv4 address when network ipv6 is not present."
                .to_owned(),
        )
    }
}

/// A UTC offset such as `+8`, `-5`, `+5.5`, `+5.75`, `-3.5` or `0`, between −12 and
/// +14 in quarter hours, as minutes.
pub(crate) fn parse_offset(raw: &str) -> Option<i32> {
    let (sign, rest) = match raw.as_bytes().first() {
        Some(b'+') => (1, &raw[1..]),
        Some(b'-') => (-1, &raw[1..]),
        _ => (1, raw),
    };
    let (hours, fraction) = rest.split_once('.').unwrap_or((rest, "0"));
    if hours.is_empty() || hours.len() > 2 || !hours.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let quarter = match fraction.trim_end_matches('0') {
        "" => 0,
        "25" => 15,
        "5" => 30,
        "75" => 45,
        _ => return None,
    };
    let minutes = sign * (hours.parse::<i32>().ok()? * 60 + quarter);
    (-12 * 60..=14 * 60).contains(&minutes).then_some(minutes)
}

/// PHP `urlencode` (RFC 1738 form encoding), which upstream's `http_build_query`
/// uses, fed to `out` in pieces: runs of unreserved bytes as they are, the rest
/// escaped. (`form_urlencoded` leaves `*` unescaped, PHP does not.) Every Fresns
/// request is signed, so this streams into the hash rather than building strings.
fn php_urlencode_into(value: &str, out: &mut impl FnMut(&[u8])) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            continue;
        }
        out(&bytes[run..i]);
        if b == b' ' {
            out(b"+");
        } else {
            out(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        run = i + 1;
    }
    out(&bytes[run..]);
}

/// The signature of a request: the signed headers that are not empty (PHP's
/// `array_filter`, so `"0"` counts as empty), sorted by name, form-encoded, then
/// `&AppSecret=<secret>`, MD5 as lowercase hex.
pub(crate) fn signature(pairs: &[(&str, Option<&str>)], app_secret: &str) -> String {
    let mut kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(name, value)| {
            value
                .filter(|v| !v.is_empty() && *v != "0")
                .map(|v| (*name, v))
        })
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut md5 = Md5::new();
    let mut feed = |bytes: &[u8]| md5.update(bytes);
    for (i, (name, value)) in kept.iter().enumerate() {
        if i > 0 {
            feed(b"&");
        }
        php_urlencode_into(name, &mut feed);
        feed(b"=");
        php_urlencode_into(value, &mut feed);
    }
    feed(b"&AppSecret=");
    feed(app_secret.as_bytes());
    hex::encode(md5.finalize())
}

impl ClientHeaders {
    /// The signature these headers should carry for `app_secret`.
    pub(crate) fn expected_signature(&self, app_secret: &str) -> String {
        let platform = self.platform_id.to_string();
        signature(
            &[
                ("X-Fresns-App-Id", Some(&self.app_id)),
                ("X-Fresns-Client-Platform-Id", Some(&platform)),
                ("X-Fresns-Client-Version", Some(&self.version)),
                ("X-Fresns-Aid", self.aid.as_deref()),
                ("X-Fresns-Aid-Token", self.aid_token.as_deref()),
                ("X-Fresns-Uid", self.uid_raw.as_deref()),
                ("X-Fresns-Uid-Token", self.uid_token.as_deref()),
                ("X-Fresns-Signature-Timestamp", Some(&self.timestamp)),
            ],
            app_secret,
        )
    }

    /// Whether the timestamp is within upstream's window of `now` (upstream's
    /// "now" in whole seconds, see [`super::SignatureZone`]): ±600 for 10
    /// digits, read as seconds; else ±600,000 against `now × 1000`, as
    /// milliseconds. The edges are accepted, as upstream's `>` refuses only
    /// beyond them.
    pub(crate) fn timestamp_fresh(&self, now: i64) -> bool {
        let Ok(value) = self.timestamp.parse::<i64>() else {
            return false;
        };
        if self.timestamp.len() == 10 {
            (now - value).abs() <= 600
        } else {
            (now.saturating_mul(1000) - value).abs() <= 600_000
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(timestamp: &str) -> ClientHeaders {
        ClientHeaders {
            timestamp: timestamp.to_owned(),
            ..ClientHeaders::default()
        }
    }

    /// Upstream refuses `abs(now - timestamp) > window`: the edges pass.
    #[test]
    fn the_window_edges_are_upstreams() {
        let now = 1_764_670_000_i64;
        assert!(stamped(&(now - 600).to_string()).timestamp_fresh(now));
        assert!(stamped(&(now + 600).to_string()).timestamp_fresh(now));
        assert!(!stamped(&(now - 601).to_string()).timestamp_fresh(now));
        assert!(!stamped(&(now + 601).to_string()).timestamp_fresh(now));
        let ms = now * 1000;
        assert!(stamped(&(ms - 600_000).to_string()).timestamp_fresh(now));
        assert!(stamped(&(ms + 600_000).to_string()).timestamp_fresh(now));
        assert!(!stamped(&(ms - 600_001).to_string()).timestamp_fresh(now));
        assert!(!stamped(&(ms + 600_001).to_string()).timestamp_fresh(now));
    }

    #[test]
    fn the_documented_signature_example_is_reproduced() {
        let sig = signature(
            &[
                ("X-Fresns-App-Id", Some("yh1OJ7WL")),
                ("X-Fresns-Client-Platform-Id", Some("2")),
                ("X-Fresns-Client-Version", Some("2.0.0")),
                ("X-Fresns-Aid", Some("wIfu6jaF")),
                (
                    "X-Fresns-Aid-Token",
                    Some("uoX1hk6SHUgB2MFGJwNx38dem9DA7Vsz"),
                ),
                ("X-Fresns-Uid", Some("782622")),
                (
                    "X-Fresns-Uid-Token",
                    Some("PqBpwPLJgfd1sH0X5JffYFGxTSc8RW7c"),
                ),
                ("X-Fresns-Signature-Timestamp", Some("1674161913192")),
            ],
            "qUiEaDNQh2IpvGHOKlTMx7ujn8t1CZWX",
        );
        assert_eq!(sig, "2174eaeab76fb6a3790ed4f7ebb2edfb");
    }

    #[test]
    fn empty_and_zero_headers_are_left_out_of_the_signature() {
        let with = signature(
            &[
                ("A", Some("1")),
                ("B", Some("")),
                ("C", Some("0")),
                ("D", None),
            ],
            "s",
        );
        let without = signature(&[("A", Some("1"))], "s");
        assert_eq!(with, without);
        let mut encoded = Vec::new();
        php_urlencode_into("a b/é~*-_.Z9", &mut |b: &[u8]| {
            encoded.extend_from_slice(b)
        });
        assert_eq!(encoded, b"a+b%2F%C3%A9%7E%2A-_.Z9");
    }

    #[test]
    fn device_info_needs_an_ip() {
        let enc = |s: &str| STANDARD.encode(s);
        assert!(check_device_info(&enc(r#"{"networkIpv4":"127.0.0.1"}"#)).is_ok());
        assert!(check_device_info(&enc(r#"{"networkIpv6":"::1","agent":"x"}"#)).is_ok());
        assert!(check_device_info(&enc(r#"{"networkIpv4":"999.1.1.1"}"#)).is_err());
        assert!(check_device_info(&enc(r#"{"agent":"x"}"#)).is_err());
        assert!(check_device_info(&enc("[1]")).is_err());
        assert!(check_device_info("%%%").is_err());
    }

    #[test]
    fn offsets_include_fractions() {
        assert_eq!(parse_offset("+8"), Some(480));
        assert_eq!(parse_offset("-5"), Some(-300));
        assert_eq!(parse_offset("+5.5"), Some(330));
        assert_eq!(parse_offset("+5.75"), Some(345));
        assert_eq!(parse_offset("-3.5"), Some(-210));
        assert_eq!(parse_offset("0"), Some(0));
        assert_eq!(parse_offset("+14"), Some(840));
        for bad in ["+15", "-13", "+5.3", "abc", "+", "8:00", "+100"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }
}
