//! Query-string parameters, parsed leniently (invalid percent-encoding becomes
//! U+FFFD instead of an error) so every parameter problem is reported by the
//! dialect's own validation, with the parameter's name.

use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use serde_json::{Map, Value};

/// The parameters of `query` as `T`, whose fields are optional strings: a
/// name given twice counts once, the first time, and unknown names are
/// ignored.
///
/// # Errors
/// When `T` has a field that is not an optional string.
pub(crate) fn fields<T: DeserializeOwned>(query: &str) -> Result<T, serde_json::Error> {
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if !map.contains_key(key.as_ref()) {
            map.insert(key.into_owned(), Value::String(value.into_owned()));
        }
    }
    T::deserialize(MapDeserializer::new(map.into_iter()))
}
