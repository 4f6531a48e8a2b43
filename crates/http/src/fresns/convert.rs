//! Between the Fresns wire and the domain: parameters validated with Laravel's
//! English messages (code 30000), and the response shapes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use colloq_domain::file::{FileKind, StoredFile, human_size};
use colloq_domain::ids::MessageId;
use colloq_domain::message::Message;
use colloq_domain::page::{Cursor, PageRequest};
use colloq_domain::user::User;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::codes::{Code, Lang};
use super::error::ApiError;
use super::time::{TimeText, TimeView};
use super::userinfo::{KeyFilter, Permission, placeholder, user_info};
use crate::params::Params;
use crate::settings::FresnsSettings;

/// The largest page Fresns serves (`between:1,30`) and its default.
const MAX_PAGE_SIZE: i64 = 30;
const DEFAULT_PAGE_SIZE: i64 = 15;

/// Laravel's attribute name: `pageSize` → `page size`.
fn label(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c == '_' {
            out.push(' ');
        } else if c.is_ascii_uppercase() {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn param_error(msg: String) -> ApiError {
    ApiError::Param(msg)
}

fn int_param(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match params.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_not_int| param_error(format!("The {} must be an integer.", label(name)))),
    }
}

/// `page` (≤ 0 means 1) and `pageSize` (1..=30, default 15).
pub(crate) fn page_params(params: &Params) -> Result<PageRequest, ApiError> {
    let size = int_param(params, "pageSize")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(param_error(format!(
            "The page size must be between 1 and {MAX_PAGE_SIZE}."
        )));
    }
    let page = int_param(params, "page")?.unwrap_or(1).max(1);
    PageRequest::new(page, size, MAX_PAGE_SIZE).map_err(|e| param_error(e.to_string()))
}

/// A page, or colloq's keyset extension: `before_id` / `after_id` (also
/// `beforeId` / `afterId`) with `pageSize` messages just before or after it.
pub(crate) fn cursor_params(params: &Params) -> Result<Cursor, ApiError> {
    let page = page_params(params)?;
    let anchor = |snake: &str, camel: &str| -> Result<Option<MessageId>, ApiError> {
        let name = if params.get(snake).is_some() {
            snake
        } else {
            camel
        };
        match int_param(params, name)? {
            None => Ok(None),
            Some(id) if id >= 1 => Ok(Some(MessageId(id))),
            Some(_) => Err(param_error(format!(
                "The {} must be at least 1.",
                label(name)
            ))),
        }
    };
    match (
        anchor("before_id", "beforeId")?,
        anchor("after_id", "afterId")?,
    ) {
        (Some(_), Some(_)) => Err(param_error(
            "The before id and after id cannot be used together.".to_owned(),
        )),
        (Some(id), None) => Ok(Cursor::Before {
            id,
            limit: page.size(),
        }),
        (None, Some(id)) => Ok(Cursor::After {
            id,
            limit: page.size(),
        }),
        (None, None) => Ok(Cursor::Page(page)),
    }
}

/// A parameter that must be one of `allowed` when given.
pub(crate) fn choice<'a>(
    params: &'a Params,
    name: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match params.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(_) => Err(param_error(format!(
            "The selected {} is invalid.",
            label(name)
        ))),
    }
}

/// The `pinned` filter: `1`/`0` (and `true`/`false`, which Laravel would refuse
/// in a query string but clients send anyway).
pub(crate) fn pinned_param(params: &Params) -> Result<Option<bool>, ApiError> {
    match params.get("pinned").map(str::trim) {
        None | Some("") => Ok(None),
        Some("1" | "true") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(_) => Err(param_error(
            "The pinned field must be true or false.".to_owned(),
        )),
    }
}

/// A boolean parameter as Laravel's `boolean` rule takes it: `true`, `false`,
/// `1`, `0` (and absent).
pub(crate) fn boolean_param(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match params.get(name).map(str::trim) {
        None | Some("") => Ok(None),
        Some("1" | "true") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(_) => Err(param_error(format!(
            "The {} field must be true or false.",
            label(name)
        ))),
    }
}

/// The `ip` parameter of `common/ip-info`, when given.
pub(crate) fn ip_param(params: &Params) -> Result<Option<std::net::IpAddr>, ApiError> {
    match params.get("ip").map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_bad| param_error("The ip must be a valid IP address.".to_owned())),
    }
}

pub(crate) fn key_filter(params: &Params) -> KeyFilter {
    KeyFilter::new(params.get("whitelistKeys"), params.get("blacklistKeys"))
}

/// The `{conversationId}` of a path: an integer, else 30000 (upstream crashes).
pub(crate) fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_not_int| param_error("The conversation id must be an integer.".to_owned()))
}

/// A body field as text: strings as they are, numbers written out.
pub(crate) fn text(input: &Map<String, Value>, name: &str) -> Option<String> {
    match input.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn required_text(input: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    text(input, name).ok_or_else(|| param_error(format!("The {} field is required.", label(name))))
}

/// An optional integer body field (a JSON number or a digit string).
pub(crate) fn int_field(input: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(Value::String(s)) if s.parse::<i64>().is_ok() => Ok(s.parse().ok()),
        Some(_) => Err(param_error(format!(
            "The {} must be an integer.",
            label(name)
        ))),
    }
}

/// `{pagination, list}` with upstream's rules: `currentPage` is the request's,
/// `lastPage` at least 1.
/// `user/panel` in upstream's shape (`UserController::panel`). colloq keeps
/// no notifications, drafts, features or extra profiles, so those are zero or
/// empty, with upstream's keys and types, as the official clients read them
/// (one computes `unreadNotifications.all - 1`).
pub(crate) fn panel(panel: &colloq_core::conversations::Panel) -> Value {
    let accept = |kind| colloq_storage::inspect::accept_list(kind);
    json!({
        "multiUser": {"status": false, "service": null},
        "features": [],
        "profiles": [],
        "conversations": {
            "conversationCount": panel.conversation_count,
            "unreadMessages": panel.unread_messages,
        },
        "unreadNotifications": {
            "systems": 0, "recommends": 0, "likes": 0, "dislikes": 0, "follows": 0,
            "blocks": 0, "mentions": 0, "comments": 0, "quotes": 0, "all": 0,
        },
        "draftCount": {"posts": 0, "comments": 0},
        "fileAccept": {
            "images": accept(FileKind::Image),
            "videos": accept(FileKind::Video),
            "audios": accept(FileKind::Audio),
            "documents": accept(FileKind::Document),
        },
    })
}

pub(crate) fn paginated<T: Serialize>(list: Vec<T>, total: i64, page: PageRequest) -> Paginated<T> {
    Paginated {
        pagination: Pagination {
            total,
            page_size: page.size(),
            current_page: page.page(),
            last_page: ((total + page.size() - 1) / page.size()).max(1),
        },
        list,
    }
}

/// A page of a list: `pagination`, then `list`.
#[derive(Debug, Serialize)]
pub(crate) struct Paginated<T> {
    pagination: Pagination,
    list: Vec<T>,
}

#[derive(Debug, Serialize)]
struct Pagination {
    total: i64,
    #[serde(rename = "pageSize")]
    page_size: i64,
    #[serde(rename = "currentPage")]
    current_page: i64,
    #[serde(rename = "lastPage")]
    last_page: i64,
}

/// Renders a user, or the placeholder when the profile is gone, serialised: a
/// page repeats the same one or two User Info objects on every item.
pub(crate) fn render_user(
    user: Option<&User>,
    permission: Permission,
    view: TimeView,
    settings: &FresnsSettings,
    filter: &KeyFilter,
) -> Box<RawValue> {
    // Serialising cannot fail: every map key is a string.
    let rendered = match (user, filter) {
        (Some(user), KeyFilter::None) => {
            serde_json::value::to_raw_value(&user_info(user, permission, view, settings))
        }
        (Some(user), filter) => serde_json::to_value(user_info(user, permission, view, settings))
            .and_then(|info| serde_json::value::to_raw_value(&filter.apply(info))),
        (None, _) => serde_json::value::to_raw_value(&placeholder(settings)),
    };
    rendered.unwrap_or_else(|_never| RawValue::NULL.to_owned())
}

/// User Info objects this server rendered recently, by everything they are
/// rendered from: the person (every field, so an edited profile is a new
/// entry), the viewer's permission code, the language and the time zone. A
/// message page renders the same one or two people on every request, and
/// serialising a 3 KB User Info twice was 5 % of the page's CPU. The settings
/// are the server's own, so one memo per server covers them.
#[derive(Debug, Default)]
pub(crate) struct UserInfoMemo {
    rendered: Mutex<HashMap<MemoKey, Arc<RawValue>>>,
}

/// The person, the permission code, the language and the UTC offset in seconds.
type MemoKey = (User, Code, Lang, i32);

/// Entries kept before the memo starts again: about 3 KB each.
const MEMO_ENTRIES: usize = 2048;

impl UserInfoMemo {
    /// [`render_user`] for a person shown without key filters, from the memo
    /// when it was rendered the same way before.
    pub(crate) fn render(
        &self,
        user: &User,
        permission: Permission,
        view: TimeView,
        settings: &FresnsSettings,
    ) -> Arc<RawValue> {
        let key = (
            user.clone(),
            permission.err().unwrap_or(Code::Success),
            view.lang,
            view.offset.local_minus_utc(),
        );
        let lock = || self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = lock().get(&key) {
            return Arc::clone(hit);
        }
        let rendered: Arc<RawValue> =
            render_user(Some(user), permission, view, settings, &KeyFilter::None).into();
        let mut memo = lock();
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(key, Arc::clone(&rendered));
        rendered
    }
}

/// A conversation in the conversation list, keys in upstream's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationItem {
    pub(crate) id: i64,
    pub(crate) user: Box<RawValue>,
    pub(crate) latest_message: Value,
    pub(crate) pinned: bool,
    pub(crate) message_count: i64,
    pub(crate) unread_count: i64,
}

/// One conversation's detail, keys in upstream's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConversationDetail {
    pub(crate) id: i64,
    pub(crate) user: Box<RawValue>,
    pub(crate) message_count: i64,
    pub(crate) unread_count: i64,
}

/// Fresns message type: 1 text, 2 file.
fn message_type(m: &Message) -> i32 {
    if m.file.is_some() || m.kind == colloq_domain::message::MessageType::File {
        2
    } else {
        1
    }
}

/// A message as the messages list and send-message show it, keys in order.
///
/// `user` is pre-serialised: a page repeats the same one or two User Info
/// objects (about 3 KB each) on every item, and building and cloning them as
/// `Value` trees was most of a page's cost.
#[derive(Debug, Serialize)]
pub(crate) struct MessageItem<'a> {
    id: i64,
    user: Option<&'a RawValue>,
    #[serde(rename = "isMe")]
    is_me: bool,
    #[serde(rename = "type")]
    kind: i32,
    content: Option<&'a str>,
    file: Value,
    datetime: TimeText,
    #[serde(rename = "datetimeFormat")]
    datetime_format: TimeText,
    #[serde(rename = "timeAgo")]
    time_ago: TimeText,
    #[serde(rename = "readStatus")]
    read_status: bool,
}

pub(crate) fn message_item<'a>(
    m: &'a Message,
    user: Option<&'a RawValue>,
    file: Value,
    me: &User,
    view: TimeView,
) -> MessageItem<'a> {
    let (datetime, datetime_format, time_ago) = view.triple(m.created_at);
    let kind = message_type(m);
    MessageItem {
        id: m.id.get(),
        user,
        is_me: m.sender == Some(me.id),
        kind,
        content: (kind == 1 && !m.body.is_empty()).then_some(m.body.as_str()),
        file,
        datetime,
        datetime_format,
        time_ago,
        read_status: m.read,
    }
}

/// File Info (research note §4.3): the common keys, then only the keys of the
/// file's own type. colloq makes no thumbnails or transcodes, so every image
/// size URL is the file itself and media are always "transcoded" (3).
pub(crate) fn file_info(file: &StoredFile, origin: &str) -> Value {
    let url = format!("{origin}{}", crate::files::file_path(file));
    let meta = &file.meta;
    let mut info = json!({
        "fid": file.fid,
        "type": meta.kind.code(),
        "status": true,
        "substitutionImageUrl": "",
        "sensitive": false,
        "name": file.name,
        "mime": meta.mime,
        "extension": meta.extension,
        "size": human_size(meta.size),
        "md5": meta.md5,
        "sha": meta.sha256,
        "shaType": "sha256",
        "moreJson": null,
    });
    let extra = match meta.kind {
        FileKind::Image => {
            let (width, height) = meta.dimensions.unwrap_or_default();
            json!({
                "imageWidth": width,
                "imageHeight": height,
                // Upstream's rule for "long" images (shown cropped in feeds).
                "imageLong": width >= 700 && u64::from(height) >= 3 * u64::from(width),
                "imageConfigUrl": url,
                "imageRatioUrl": url,
                "imageSquareUrl": url,
                "imageBigUrl": url,
            })
        }
        FileKind::Video => json!({
            "videoTime": null,
            "videoPosterUrl": "",
            "videoUrl": url,
            "transcodingState": 3,
        }),
        FileKind::Audio => json!({
            "audioTime": null,
            "audioUrl": url,
            "transcodingState": 3,
        }),
        FileKind::Document => json!({ "documentPreviewUrl": url }),
    };
    if let (Some(target), Value::Object(extra)) = (info.as_object_mut(), extra) {
        target.extend(extra);
    }
    info
}

/// `file` of a message item: File Info when the message carries a file.
pub(crate) fn message_file(m: &Message, files: &[StoredFile], origin: &str) -> Value {
    m.file
        .and_then(|id| files.iter().find(|f| f.id == id))
        .map_or(Value::Null, |f| file_info(f, origin))
}

/// `latestMessage` of a list item; every field null when there is none.
pub(crate) fn latest_message(m: Option<&Message>, view: TimeView) -> Value {
    match m {
        None => {
            json!({"id": null, "type": null, "message": null, "datetime": null, "datetimeFormat": null, "timeAgo": null})
        }
        Some(m) => {
            let (datetime, format, ago) = view.triple(m.created_at);
            let kind = message_type(m);
            let text = if kind == 2 {
                "Document".to_owned()
            } else {
                m.body.clone()
            };
            json!({"id": m.id.get(), "type": kind, "message": text, "datetime": datetime, "datetimeFormat": format, "timeAgo": ago})
        }
    }
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            format!("{}***@{domain}", local.chars().take(2).collect::<String>())
        }
        None => "***".to_owned(),
    }
}

fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() < 7 {
        return "****".to_owned();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Account Info (research note §3.4), with the account's profiles.
pub(crate) fn account_info(account: &User, users: Vec<Box<RawValue>>, view: TimeView) -> Value {
    json!({
        "aid": account.aid,
        "countryCode": null,
        "purePhone": account.phone.as_deref().map(mask_phone),
        "phone": account.phone.as_deref().map(mask_phone),
        "email": account.email.as_deref().map(mask_email),
        "hasPassword": true,
        "verifyStatus": false,
        "verifyRealName": null,
        "verifyGender": 1,
        "verifyCertType": null,
        "verifyCertNumber": null,
        "verifyIdentityType": null,
        "verifyDateTime": null,
        "registerDateTime": view.datetime(account.created_at),
        "status": true,
        "waitDelete": false,
        "waitDeleteDateTime": null,
        "connects": [],
        "wallet": {"status": false, "currencyCode": "USD", "balance": "0.00", "freezeAmount": "0.00", "bankName": null, "swiftCode": null, "bankAddress": null, "bankAccount": null, "bankStatus": false},
        "users": users,
        "interaction": {"userName": "User", "userUidName": "UID", "userUsernameName": "Username", "userNicknameName": "Nickname", "userRoleName": "Role", "userBioName": "Bio"}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_masks() {
        assert_eq!(label("pageSize"), "page size");
        assert_eq!(label("uidOrUsername"), "uid or username");
        assert_eq!(mask_email("alice@example.com"), "al***@example.com");
        assert_eq!(mask_phone("13800001234"), "138****1234");
    }
}
