//! Text that both storage engines hold alike. PostgreSQL refuses a NUL
//! character in `text` (`invalid byte sequence for encoding "UTF8": 0x00`)
//! where SQLite stores it, so both dialects refuse NUL in any parameter,
//! naming it, before it reaches a use case. Every other character a Rust
//! string can hold (Unicode scalar values) both engines store.

use serde_json::{Map, Value};

/// The path (`title`, `images[2]`, `order_extra.note`) of the first name or
/// string in `map` that holds a NUL character.
pub(crate) fn nul_path(map: &Map<String, Value>) -> Option<String> {
    map.iter().find_map(|(key, value)| {
        if key.contains('\0') {
            return Some(key.replace('\0', "\\u0000"));
        }
        in_value(value).map(|rest| format!("{key}{rest}"))
    })
}

/// The path below `value` to a NUL, `""` when `value` is the string itself.
fn in_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| in_value(v).map(|rest| format!("[{i}]{rest}"))),
        Value::Object(map) => nul_path(map).map(|path| format!(".{path}")),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// Whether a JSON text may hold a NUL: it can only be written `\u0000`, so a
/// body without that sequence needs no walk.
pub(crate) fn json_may_hold_nul(json: &[u8]) -> bool {
    json.windows(6).any(|w| w == b"\\u0000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(value: Value) -> Option<String> {
        match value {
            Value::Object(map) => nul_path(&map),
            _ => None,
        }
    }

    #[test]
    fn the_first_nul_is_found_by_its_path() {
        assert_eq!(
            path(json!({"title": "ok", "content": "a\u{0}b"})).as_deref(),
            Some("content")
        );
        assert_eq!(
            path(json!({"images": ["a", "b\u{0}"]})).as_deref(),
            Some("images[1]")
        );
        assert_eq!(
            path(json!({"order_extra": {"note": ["x", {"deep": "\u{0}"}]}})).as_deref(),
            Some("order_extra.note[1].deep")
        );
        assert_eq!(path(json!({"a\u{0}": 1})).as_deref(), Some("a\\u0000"));
        assert_eq!(path(json!({"title": "no nul", "n": 0})), None);
        assert!(json_may_hold_nul(br#"{"t":"a\u0000"}"#));
        assert!(!json_may_hold_nul(br#"{"t":"a\u0001"}"#));
    }
}
