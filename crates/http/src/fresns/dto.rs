//! The Fresns wire shapes. Requests take every field as an optional [`Field`]
//! so the validation in `convert` can answer with Laravel's message for the
//! field (a JSON body may carry `conversationId` as a number or a string, a
//! form or query string only strings); unknown fields are ignored. Responses
//! keep upstream's key order.

use std::borrow::Cow;

use colloq_domain::file::FileKind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::time::TimeText;

/// One request parameter as sent: text (all a query string or a form can
/// carry), a JSON number, or anything else (a boolean, a list, an object),
/// which no Fresns parameter colloq reads accepts. A JSON `null` is absent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field {
    /// A string.
    Text(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// Any other JSON value.
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => Self::Text(s),
            serde_json::Value::Number(n) => Self::Number(n),
            _ => Self::Other,
        })
    }
}

// Only the published schema serialises requests (utoipa writes the defaults
// of a `#[serde(default)]` struct).
impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(s) => serializer.serialize_str(s),
            Self::Number(n) => n.serialize(serializer),
            Self::Other => serializer.serialize_none(),
        }
    }
}

impl PartialSchema for Field {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("Text, or a JSON number where the body is JSON"))
            .into()
    }
}

impl ToSchema for Field {}

/// User Info (docs/fresns.md): a profile as upstream renders it. It is
/// written pre-serialised; this type only names its schema.
pub(super) enum UserInfo {}

impl PartialSchema for UserInfo {
    fn schema() -> RefOr<Schema> {
        // A key filter that keeps nothing leaves PHP's empty array, `[]`.
        let nothing = ArrayBuilder::new().max_items(Some(0));
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(nothing)
            .description(Some(
                "User Info: uid, username, nickname, avatar, status and the rest of upstream's \
                 keys; `[]` when a key filter keeps none",
            ))
            .into()
    }
}

impl ToSchema for UserInfo {}

impl Field {
    /// The field as text: strings as they are, numbers written out.
    pub(super) fn to_text(&self) -> Option<String> {
        match self {
            Self::Text(s) => Some(s.clone()),
            Self::Number(n) => Some(n.to_string()),
            Self::Other => None,
        }
    }

    /// The field as an integer: a JSON integer or a string of one.
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Self::Text(s) => s.parse().ok(),
            Self::Number(n) => n.as_i64(),
            Self::Other => None,
        }
    }
}

/// A secret parameter (a password): `Debug` never shows it.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Option<String>, format = Password)]
pub(super) struct Hidden(pub(super) Option<Field>);

/// A secret is never written out, not even to a schema's default.
impl Serialize for Hidden {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_none()
    }
}

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "[hidden]" } else { "None" })
    }
}

/// `POST /api/v2/account/login`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct LoginRequest {
    #[serde(rename = "type")]
    pub(super) kind: Option<Field>,
    pub(super) account: Option<Field>,
    pub(super) country_code: Option<Field>,
    /// Base64 of the password.
    pub(super) password: Hidden,
    pub(super) verify_code: Option<Field>,
}

/// `POST /api/v2/user/auth`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct AuthUserRequest {
    pub(super) uid_or_username: Option<Field>,
    /// Base64 of the profile's own password, when it has one.
    pub(super) password: Hidden,
}

/// `POST /api/v2/conversation/send-message`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SendMessageRequest {
    pub(super) uid_or_username: Option<Field>,
    pub(super) message: Option<Field>,
    pub(super) fid: Option<Field>,
}

/// `PUT /api/v2/conversation/mark-as-read` and `DELETE /api/v2/conversation/delete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SelectionRequest {
    #[serde(rename = "type")]
    pub(super) kind: Option<Field>,
    pub(super) conversation_id: Option<Field>,
    pub(super) message_ids: Option<Field>,
}

/// `PUT /api/v2/conversation/pin`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct PinRequest {
    pub(super) conversation_id: Option<Field>,
}

/// `whitelistKeys` / `blacklistKeys`: which User Info keys to keep or drop.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct KeysQuery {
    pub(super) whitelist_keys: Option<Field>,
    pub(super) blacklist_keys: Option<Field>,
}

/// `GET /api/v2/conversation/list`. (Its paging and key-filter fields are
/// spelt out rather than flattened from shared structs: serde's `flatten`
/// buffers every field, a visible cost on the hottest pages.)
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    pub(super) page: Option<Field>,
    pub(super) page_size: Option<Field>,
    pub(super) pinned: Option<Field>,
    pub(super) whitelist_keys: Option<Field>,
    pub(super) blacklist_keys: Option<Field>,
}

/// `GET /api/v2/conversation/{conversationId}/messages`, with colloq's keyset
/// extension (`beforeId` / `afterId`; the AnQiCMS spelling `before_id` / `after_id` too).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct MessagesQuery {
    pub(super) order_direction: Option<Field>,
    pub(super) page_list_direction: Option<Field>,
    pub(super) page: Option<Field>,
    pub(super) page_size: Option<Field>,
    #[serde(rename = "before_id")]
    pub(super) before_id_snake: Option<Field>,
    pub(super) before_id: Option<Field>,
    #[serde(rename = "after_id")]
    pub(super) after_id_snake: Option<Field>,
    pub(super) after_id: Option<Field>,
    pub(super) whitelist_keys: Option<Field>,
    pub(super) blacklist_keys: Option<Field>,
}

/// `GET /api/v2/global/configs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ConfigsQuery {
    pub(super) keys: Option<Field>,
    pub(super) tags: Option<Field>,
}

/// `GET /api/v2/global/code-messages`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct CodeMessagesQuery {
    pub(super) fskey: Option<Field>,
    pub(super) is_all: Option<Field>,
    pub(super) codes: Option<Field>,
}

/// `GET /api/v2/common/ip-info`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct IpInfoQuery {
    pub(super) ip: Option<Field>,
}

/// The text fields of `POST /api/v2/common/upload-file` (a multipart form).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct UploadForm {
    pub(super) table_name: Option<Field>,
    pub(super) table_column: Option<Field>,
    pub(super) table_key: Option<Field>,
    #[serde(rename = "type")]
    pub(super) kind: Option<Field>,
    pub(super) upload_mode: Option<Field>,
}

/// The success envelope, serialised straight from `data`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Envelope<'a, T> {
    pub(super) code: i32,
    pub(super) message: &'a str,
    // Inline: a generic argument is not registered as a named schema.
    #[schema(inline)]
    pub(super) data: T,
}

/// A page of a list: `pagination`, then `list`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Paginated<T> {
    pub(super) pagination: Pagination,
    #[schema(inline)]
    pub(super) list: Vec<T>,
}

/// Upstream's pagination: `currentPage` is the request's, `lastPage` at least 1.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Pagination {
    pub(super) total: i64,
    pub(super) page_size: i64,
    pub(super) current_page: i64,
    pub(super) last_page: i64,
}

/// A conversation in the conversation list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConversationItem {
    pub(super) id: i64,
    #[schema(value_type = UserInfo)]
    pub(super) user: Box<RawValue>,
    pub(super) latest_message: LatestMessage,
    pub(super) pinned: bool,
    pub(super) message_count: i64,
    pub(super) unread_count: i64,
}

/// `latestMessage` of a list item; every field null when there is none.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LatestMessage {
    pub(super) id: Option<i64>,
    #[serde(rename = "type")]
    pub(super) kind: Option<i32>,
    pub(super) message: Option<String>,
    #[schema(value_type = Option<String>)]
    pub(super) datetime: Option<TimeText>,
    #[schema(value_type = Option<String>)]
    pub(super) datetime_format: Option<TimeText>,
    #[schema(value_type = Option<String>)]
    pub(super) time_ago: Option<TimeText>,
}

/// One conversation's detail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConversationDetail {
    pub(super) id: i64,
    #[schema(value_type = UserInfo)]
    pub(super) user: Box<RawValue>,
    pub(super) message_count: i64,
    pub(super) unread_count: i64,
}

/// A message as the messages list and send-message show it.
///
/// `user` is pre-serialised: a page repeats the same one or two User Info
/// objects (about 3 KB each) on every item, and building and cloning them as
/// `Value` trees was most of a page's cost.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageItem<'a> {
    pub(super) id: i64,
    #[schema(value_type = Option<UserInfo>)]
    pub(super) user: Option<Cow<'a, RawValue>>,
    pub(super) is_me: bool,
    #[serde(rename = "type")]
    pub(super) kind: i32,
    pub(super) content: Option<&'a str>,
    pub(super) file: Option<FileInfo<'a>>,
    #[schema(value_type = String)]
    pub(super) datetime: TimeText,
    #[schema(value_type = String)]
    pub(super) datetime_format: TimeText,
    #[schema(value_type = String)]
    pub(super) time_ago: TimeText,
    pub(super) read_status: bool,
}

/// File Info as upstream renders a file: the common keys, then only the keys of the
/// file's own type.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct FileInfo<'a> {
    pub(super) fid: &'a str,
    #[serde(rename = "type")]
    pub(super) kind: i32,
    pub(super) status: bool,
    pub(super) substitution_image_url: &'static str,
    pub(super) sensitive: bool,
    pub(super) name: &'a str,
    pub(super) mime: &'a str,
    pub(super) extension: &'a str,
    pub(super) size: String,
    pub(super) md5: &'a str,
    pub(super) sha: &'a str,
    pub(super) sha_type: &'static str,
    #[schema(value_type = Option<Object>)]
    pub(super) more_json: Option<()>,
    #[serde(flatten)]
    pub(super) of_kind: FileOfKind,
}

/// The File Info keys of one kind of file.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(super) enum FileOfKind {
    /// An image and its size URLs.
    #[serde(rename_all = "camelCase")]
    Image {
        image_width: u32,
        image_height: u32,
        image_long: bool,
        image_config_url: String,
        image_ratio_url: String,
        image_square_url: String,
        image_big_url: String,
    },
    /// A video.
    #[serde(rename_all = "camelCase")]
    Video {
        video_time: Option<u32>,
        video_poster_url: &'static str,
        video_url: String,
        transcoding_state: i32,
    },
    /// An audio file.
    #[serde(rename_all = "camelCase")]
    Audio {
        audio_time: Option<u32>,
        audio_url: String,
        transcoding_state: i32,
    },
    /// A document.
    #[serde(rename_all = "camelCase")]
    Document { document_preview_url: String },
}

/// `sessionToken` of login and user/auth: `aid` or `uid`, then the token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionToken<'a> {
    #[serde(flatten)]
    pub(super) holder: Holder<'a>,
    pub(super) token: &'a str,
    pub(super) expired_hours: Option<i64>,
    pub(super) expired_days: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub(super) expired_date_time: Option<TimeText>,
}

/// Whose session a token is.
#[derive(Debug, Serialize, ToSchema)]
pub(super) enum Holder<'a> {
    /// An account's.
    #[serde(rename = "aid")]
    Account(&'a str),
    /// A user's.
    #[serde(rename = "uid")]
    User(i64),
}

/// The answer of login and user/auth.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionReply<'a, D> {
    pub(super) session_token: SessionToken<'a>,
    #[schema(inline)]
    pub(super) detail: D,
}

/// Account Info as upstream's login answer renders an account, with its profiles.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountInfo {
    pub(super) aid: String,
    pub(super) country_code: Option<String>,
    pub(super) pure_phone: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) has_password: bool,
    pub(super) verify_status: bool,
    pub(super) verify_real_name: Option<String>,
    pub(super) verify_gender: i32,
    pub(super) verify_cert_type: Option<String>,
    pub(super) verify_cert_number: Option<String>,
    pub(super) verify_identity_type: Option<String>,
    pub(super) verify_date_time: Option<String>,
    #[schema(value_type = String)]
    pub(super) register_date_time: TimeText,
    pub(super) status: bool,
    pub(super) wait_delete: bool,
    pub(super) wait_delete_date_time: Option<String>,
    /// Always empty: colloq connects no outside accounts.
    #[schema(value_type = Vec<Object>)]
    pub(super) connects: [(); 0],
    pub(super) wallet: Wallet,
    #[schema(value_type = Vec<UserInfo>)]
    pub(super) users: Vec<Box<RawValue>>,
    pub(super) interaction: AccountInteraction,
}

/// An account's wallet: colloq keeps none, so it is off and empty.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Wallet {
    pub(super) status: bool,
    pub(super) currency_code: &'static str,
    pub(super) balance: &'static str,
    pub(super) freeze_amount: &'static str,
    pub(super) bank_name: Option<String>,
    pub(super) swift_code: Option<String>,
    pub(super) bank_address: Option<String>,
    pub(super) bank_account: Option<String>,
    pub(super) bank_status: bool,
}

/// The names a client shows for an account's user fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountInteraction {
    pub(super) user_name: &'static str,
    pub(super) user_uid_name: &'static str,
    pub(super) user_username_name: &'static str,
    pub(super) user_nickname_name: &'static str,
    pub(super) user_role_name: &'static str,
    pub(super) user_bio_name: &'static str,
}

/// `GET /api/v2/user/panel` in upstream's shape (`UserController::panel`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Panel {
    pub(super) multi_user: MultiUser,
    /// Always empty: colloq has no plugin features.
    #[schema(value_type = Vec<Object>)]
    pub(super) features: [(); 0],
    /// Always empty: colloq has no extra profile pages.
    #[schema(value_type = Vec<Object>)]
    pub(super) profiles: [(); 0],
    pub(super) conversations: PanelConversations,
    pub(super) unread_notifications: UnreadNotifications,
    pub(super) draft_count: DraftCount,
    pub(super) file_accept: FileAccept,
}

/// `multiUser`: colloq has no multi-user service.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MultiUser {
    pub(super) status: bool,
    pub(super) service: Option<String>,
}

/// The panel's conversation counters.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct PanelConversations {
    pub(super) conversation_count: i64,
    pub(super) unread_messages: i64,
}

/// Unread notifications by kind; colloq keeps none.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(super) struct UnreadNotifications {
    pub(super) systems: i64,
    pub(super) recommends: i64,
    pub(super) likes: i64,
    pub(super) dislikes: i64,
    pub(super) follows: i64,
    pub(super) blocks: i64,
    pub(super) mentions: i64,
    pub(super) comments: i64,
    pub(super) quotes: i64,
    pub(super) all: i64,
}

/// Drafts by kind; colloq keeps none.
#[derive(Debug, Default, Serialize, ToSchema)]
pub(super) struct DraftCount {
    pub(super) posts: i64,
    pub(super) comments: i64,
}

/// The `accept` attribute of a file input, per kind.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FileAccept {
    pub(super) images: String,
    pub(super) videos: String,
    pub(super) audios: String,
    pub(super) documents: String,
}

impl FileAccept {
    /// Every kind's list, from what the store can recognise.
    pub(super) fn new(accept: impl Fn(FileKind) -> String) -> Self {
        Self {
            images: accept(FileKind::Image),
            videos: accept(FileKind::Video),
            audios: accept(FileKind::Audio),
            documents: accept(FileKind::Document),
        }
    }
}

/// A refusal: `data` is null, or for a header problem the reason in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Failed<'a> {
    pub(crate) code: i32,
    pub(crate) message: &'a str,
    pub(crate) data: Option<[&'a str; 1]>,
}
