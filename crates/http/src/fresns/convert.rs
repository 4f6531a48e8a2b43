//! Between the Fresns wire and the domain: request DTOs validated into domain
//! input with Laravel's English messages (code 30000), the viewer's messaging
//! permission as a Fresns code, and the response shapes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use colloq_core::accounts::UserRef;
use colloq_core::conversations::{
    ConversationSummary, DirectContent, MessagePage, Participants, Selection,
};
use colloq_core::sessions::AppSession;
use colloq_domain::conversation::MessagingRefusal;
use colloq_domain::file::{FileKind, StoredFile, human_size};
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::message::{Message, MessageBody};
use colloq_domain::page::{Cursor, PageRequest, Paged};
use colloq_domain::user::{Email, LoginName, Phone, PlainPassword, User};
use serde_json::value::RawValue;

use super::codes::{Code, Lang};
use super::dto::{
    AccountInfo, AccountInteraction, AuthUserRequest, CodeMessagesQuery, ConfigsQuery,
    ConversationDetail, ConversationItem, DraftCount, Field, FileAccept, FileInfo, FileOfKind,
    Hidden, Holder, IpInfoQuery, KeysQuery, LatestMessage, ListQuery, LoginRequest, MessageItem,
    MessagesQuery, MultiUser, Paginated, Pagination, Panel, PanelConversations, PinRequest,
    SelectionRequest, SendMessageRequest, SessionToken, UnreadNotifications, UploadForm, Wallet,
};
use super::error::{ApiError, kind_refused, messaging_code};
use super::time::TimeView;
use super::userinfo::{KeyFilter, Permission, placeholder, user_info};
use crate::settings::FresnsSettings;

/// The largest page Fresns serves (`between:1,30`) and its default.
const MAX_PAGE_SIZE: i64 = 30;
const DEFAULT_PAGE_SIZE: i64 = 15;

/// Laravel's attribute name: `pageSize` → `page size`.
pub(crate) fn label(name: &str) -> String {
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

/// An optional integer parameter (a JSON number or a digit string).
fn int_of(field: Option<&Field>, name: &str) -> Result<Option<i64>, ApiError> {
    field
        .map(|f| {
            f.int()
                .ok_or_else(|| param_error(format!("The {} must be an integer.", label(name))))
        })
        .transpose()
}

/// A parameter as text, when given as a string or a number.
pub(crate) fn text_of(field: Option<&Field>) -> Option<String> {
    field.and_then(Field::to_text)
}

fn required(field: Option<&Field>, name: &str) -> Result<String, ApiError> {
    text_of(field).ok_or_else(|| param_error(format!("The {} field is required.", label(name))))
}

/// A parameter that must be one of `allowed` when given.
fn choice<'a>(
    field: Option<&Field>,
    name: &str,
    allowed: &[&'a str],
) -> Result<Option<&'a str>, ApiError> {
    match text_of(field) {
        None => Ok(None),
        Some(v) => allowed
            .iter()
            .find(|a| **a == v)
            .copied()
            .map(Some)
            .ok_or_else(|| param_error(format!("The selected {} is invalid.", label(name)))),
    }
}

/// A boolean as Laravel's `boolean` rule takes it: `true`, `false`, `1`, `0`
/// (`true`/`false` Laravel would refuse in a query string, but clients send
/// them anyway).
fn boolean(field: Option<&Field>, name: &str) -> Result<Option<bool>, ApiError> {
    match text_of(field).as_deref() {
        None => Ok(None),
        Some("1" | "true") => Ok(Some(true)),
        Some("0" | "false") => Ok(Some(false)),
        Some(_) => Err(param_error(format!(
            "The {} field must be true or false.",
            label(name)
        ))),
    }
}

/// `page` (≤ 0 means 1) and `pageSize` (1..=30, default 15).
fn page_request(page: Option<&Field>, page_size: Option<&Field>) -> Result<PageRequest, ApiError> {
    let size = int_of(page_size, "pageSize")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(param_error(format!(
            "The page size must be between 1 and {MAX_PAGE_SIZE}."
        )));
    }
    let page = int_of(page, "page")?.unwrap_or(1).max(1);
    PageRequest::new(page, size, MAX_PAGE_SIZE).map_err(|e| param_error(e.to_string()))
}

/// `whitelistKeys` / `blacklistKeys`.
fn key_filter(whitelist: Option<&Field>, blacklist: Option<&Field>) -> KeyFilter {
    KeyFilter::new(text_of(whitelist).as_deref(), text_of(blacklist).as_deref())
}

/// A conversation-list request: the page, the `pinned` filter and the
/// User Info key filter.
#[derive(Debug, Clone)]
pub(crate) struct ListRequest {
    pub(crate) page: PageRequest,
    pub(crate) pinned: Option<bool>,
    pub(crate) filter: KeyFilter,
}

impl TryFrom<ListQuery> for ListRequest {
    type Error = ApiError;

    fn try_from(query: ListQuery) -> Result<Self, ApiError> {
        Ok(Self {
            page: page_request(query.page.as_ref(), query.page_size.as_ref())?,
            pinned: boolean(query.pinned.as_ref(), "pinned")?,
            filter: key_filter(query.whitelist_keys.as_ref(), query.blacklist_keys.as_ref()),
        })
    }
}

impl TryFrom<KeysQuery> for KeyFilter {
    type Error = ApiError;

    fn try_from(keys: KeysQuery) -> Result<Self, ApiError> {
        Ok(key_filter(
            keys.whitelist_keys.as_ref(),
            keys.blacklist_keys.as_ref(),
        ))
    }
}

/// `global/configs`: the items named, or tagged.
#[derive(Debug)]
pub(crate) struct ConfigsRequest {
    pub(crate) keys: Option<String>,
    pub(crate) tags: Option<String>,
}

impl TryFrom<ConfigsQuery> for ConfigsRequest {
    type Error = ApiError;

    fn try_from(query: ConfigsQuery) -> Result<Self, ApiError> {
        Ok(Self {
            keys: text_of(query.keys.as_ref()),
            tags: text_of(query.tags.as_ref()),
        })
    }
}

/// `global/code-messages`: whose codes, all of them or which.
#[derive(Debug)]
pub(crate) struct CodeMessagesRequest {
    pub(crate) fskey: Option<String>,
    pub(crate) all: bool,
    pub(crate) codes: Option<String>,
}

impl TryFrom<CodeMessagesQuery> for CodeMessagesRequest {
    type Error = ApiError;

    fn try_from(query: CodeMessagesQuery) -> Result<Self, ApiError> {
        Ok(Self {
            fskey: text_of(query.fskey.as_ref()),
            all: boolean(query.is_all.as_ref(), "isAll")?.unwrap_or(false),
            codes: text_of(query.codes.as_ref()),
        })
    }
}

/// `common/ip-info`: the address asked about, when given.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpRequest(pub(crate) Option<std::net::IpAddr>);

impl TryFrom<IpInfoQuery> for IpRequest {
    type Error = ApiError;

    fn try_from(query: IpInfoQuery) -> Result<Self, ApiError> {
        text_of(query.ip.as_ref())
            .map(|raw| {
                raw.parse()
                    .map_err(|_bad| param_error("The ip must be a valid IP address.".to_owned()))
            })
            .transpose()
            .map(Self)
    }
}

/// The parameters of a messages page.
#[derive(Debug, Clone)]
pub(crate) struct MessagesRequest {
    pub(crate) id: ThreadId,
    pub(crate) newest_first: bool,
    /// `pageListDirection=oldest`: the page's items are listed oldest first.
    pub(crate) reverse_page: bool,
    pub(crate) page: PageRequest,
    pub(crate) cursor: Cursor,
    pub(crate) filter: KeyFilter,
}

impl MessagesRequest {
    /// The request for conversation `id` (the path's) with `query`.
    pub(crate) fn parse(id: &str, query: &MessagesQuery) -> Result<Self, ApiError> {
        let id = ThreadId(path_id(id)?);
        let order = choice(
            query.order_direction.as_ref(),
            "orderDirection",
            &["asc", "desc"],
        )?;
        let listing = choice(
            query.page_list_direction.as_ref(),
            "pageListDirection",
            &["latest", "oldest"],
        )?;
        let page = page_request(query.page.as_ref(), query.page_size.as_ref())?;
        let cursor = cursor(query, page)?;
        Ok(Self {
            id,
            newest_first: order != Some("asc"),
            reverse_page: listing == Some("oldest"),
            // A seek ignores `page`, so its pagination describes page 1.
            page: match cursor {
                Cursor::Page(_) => page,
                Cursor::Before { .. } | Cursor::After { .. } => page.first(),
            },
            cursor,
            filter: key_filter(query.whitelist_keys.as_ref(), query.blacklist_keys.as_ref()),
        })
    }
}

/// A page, or colloq's keyset extension: `beforeId` / `afterId` (also the
/// AnQiCMS spelling `before_id` / `after_id`) with `pageSize` messages just
/// before or after it.
fn cursor(query: &MessagesQuery, page: PageRequest) -> Result<Cursor, ApiError> {
    let anchor = |snake: &Option<Field>, camel: &Option<Field>, names: [&str; 2]| {
        let (field, name) = match snake {
            Some(_) => (snake, names[0]),
            None => (camel, names[1]),
        };
        match int_of(field.as_ref(), name)? {
            None => Ok(None),
            Some(id) if id >= 1 => Ok(Some(MessageId(id))),
            Some(_) => Err(param_error(format!(
                "The {} must be at least 1.",
                label(name)
            ))),
        }
    };
    let before = anchor(
        &query.before_id_snake,
        &query.before_id,
        ["before_id", "beforeId"],
    )?;
    let after = anchor(
        &query.after_id_snake,
        &query.after_id,
        ["after_id", "afterId"],
    )?;
    match (before, after) {
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

/// The `{conversationId}` of a path: an integer, else 30000 (upstream crashes).
pub(crate) fn path_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_not_int| param_error("The conversation id must be an integer.".to_owned()))
}

/// A base64 `password`, decoded.
fn base64_password(password: &Hidden) -> Result<Option<PlainPassword>, ApiError> {
    text_of(password.0.as_ref())
        .map(|encoded| {
            STANDARD
                .decode(encoded.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .map(PlainPassword::offered)
                .ok_or_else(|| {
                    param_error("The password must be a base64 encoded string.".to_owned())
                })
        })
        .transpose()
}

/// An account login: the names it may be stored under, and the password.
#[derive(Debug)]
pub(crate) struct Login {
    pub(crate) names: Vec<LoginName>,
    pub(crate) password: PlainPassword,
}

impl TryFrom<LoginRequest> for Login {
    type Error = ApiError;

    fn try_from(req: LoginRequest) -> Result<Self, ApiError> {
        let names = login_names(&req)?;
        let password = base64_password(&req.password)?.ok_or_else(|| {
            if text_of(req.verify_code.as_ref()).is_some() {
                // colloq sends no verification codes, so none can be right.
                ApiError::Code(Code::VerifyCodeWrong)
            } else {
                param_error(
                    "The password field is required when verify code is not present.".to_owned(),
                )
            }
        })?;
        Ok(Self { names, password })
    }
}

/// Who a login names: an e-mail, or a phone with its country code (accounts
/// registered through AnQiCMS may have stored the number without one).
fn login_names(req: &LoginRequest) -> Result<Vec<LoginName>, ApiError> {
    let kind = required(req.kind.as_ref(), "type")?;
    let account = required(req.account.as_ref(), "account")?;
    match kind.as_str() {
        "email" => Email::parse(&account)
            .map(|e| vec![LoginName::Email(e)])
            .map_err(|_invalid| {
                param_error("The account must be a valid email address.".to_owned())
            }),
        "phone" => {
            if !account.chars().all(|c| c.is_ascii_digit()) {
                return Err(param_error("The account must be an integer.".to_owned()));
            }
            let code = int_of(req.country_code.as_ref(), "countryCode")?.ok_or_else(|| {
                param_error("The country code field is required when type is phone.".to_owned())
            })?;
            Ok([
                format!("+{code}{account}"),
                format!("{code}{account}"),
                account,
            ]
            .iter()
            .filter_map(|p| Phone::parse(p).ok())
            .map(LoginName::Phone)
            .collect())
        }
        _ => Err(param_error("The selected type is invalid.".to_owned())),
    }
}

/// `user/auth`: the profile to act as, and its password when it has one.
#[derive(Debug)]
pub(crate) struct SwitchUser {
    pub(crate) to: UserRef,
    pub(crate) password: Option<PlainPassword>,
}

impl TryFrom<AuthUserRequest> for SwitchUser {
    type Error = ApiError;

    fn try_from(req: AuthUserRequest) -> Result<Self, ApiError> {
        Ok(Self {
            to: UserRef::parse(&required(req.uid_or_username.as_ref(), "uidOrUsername")?),
            password: base64_password(&req.password)?,
        })
    }
}

/// A direct message to send: to whom, and what.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) to: UserRef,
    pub(crate) content: DirectContent,
}

impl TryFrom<SendMessageRequest> for Outgoing {
    type Error = ApiError;

    fn try_from(req: SendMessageRequest) -> Result<Self, ApiError> {
        let to = UserRef::parse(&required(req.uid_or_username.as_ref(), "uidOrUsername")?);
        // As upstream: when both are given, the file wins and the text is ignored.
        let content = match text_of(req.fid.as_ref()) {
            Some(fid) => DirectContent::File(fid),
            None => DirectContent::Text(message_text(req.message)?),
        };
        Ok(Self { to, content })
    }
}

/// The `message` of a text message.
fn message_text(message: Option<Field>) -> Result<MessageBody, ApiError> {
    match message {
        None => Err(param_error(
            "The message field is required when fid is not present.".to_owned(),
        )),
        Some(Field::Text(s)) => MessageBody::parse(s).map_err(|_too_long| {
            param_error("The message must not be greater than 10000 characters.".to_owned())
        }),
        Some(Field::Number(_) | Field::Other) => {
            Err(param_error("The message must be a string.".to_owned()))
        }
    }
}

/// `type` + `conversationId` / `messageIds` of mark-as-read and delete.
impl TryFrom<SelectionRequest> for Selection {
    type Error = ApiError;

    fn try_from(req: SelectionRequest) -> Result<Self, ApiError> {
        match required(req.kind.as_ref(), "type")?.as_str() {
            "conversation" => {
                let id =
                    int_of(req.conversation_id.as_ref(), "conversationId")?.ok_or_else(|| {
                        param_error(
                            "The conversation id field is required when type is conversation."
                                .to_owned(),
                        )
                    })?;
                Ok(Self::Conversation(ThreadId(id)))
            }
            "message" => {
                let ids = text_of(req.message_ids.as_ref()).ok_or_else(|| {
                    param_error(
                        "The message ids field is required when type is message.".to_owned(),
                    )
                })?;
                Ok(Self::Messages(
                    ids.split(',')
                        .filter_map(|piece| piece.trim().parse().ok())
                        .collect(),
                ))
            }
            _ => Err(param_error("The selected type is invalid.".to_owned())),
        }
    }
}

/// `conversationId` of pin: digits only, else 30001 as upstream.
impl TryFrom<PinRequest> for ThreadId {
    type Error = ApiError;

    fn try_from(req: PinRequest) -> Result<Self, ApiError> {
        text_of(req.conversation_id.as_ref())
            .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
            .and_then(|v| v.parse::<i64>().ok())
            .map(ThreadId)
            .ok_or(ApiError::Code(Code::ParamValueInvalid))
    }
}

/// The recipient of a conversation upload (its `tableKey`), once the form's
/// fields are checked as upstream's DTO does and the file is of the kind the
/// form declares and one conversations accept.
pub(crate) fn upload_recipient(
    form: &UploadForm,
    allowed: &[FileKind],
    received: FileKind,
) -> Result<UserRef, ApiError> {
    let field = |f: &Option<Field>, name: &str| required(f.as_ref(), name);
    if field(&form.table_name, "tableName")? != "conversation_messages" {
        return Err(param_error(
            "The selected table name is invalid: colloq stores files of conversation_messages only.".to_owned(),
        ));
    }
    if field(&form.table_column, "tableColumn")? != "message_file_id" {
        return Err(param_error(
            "The selected table column is invalid.".to_owned(),
        ));
    }
    let kind = FileKind::parse(&field(&form.kind, "type")?)
        .ok_or_else(|| param_error("The selected type is invalid.".to_owned()))?;
    match field(&form.upload_mode, "uploadMode")?.as_str() {
        "file" => {}
        "fileInfo" => {
            return Err(param_error(
                "The upload mode fileInfo is not supported: colloq takes file details from the bytes.".to_owned(),
            ));
        }
        _ => {
            return Err(param_error(
                "The selected upload mode is invalid.".to_owned(),
            ));
        }
    }
    let to = UserRef::parse(&field(&form.table_key, "tableKey")?);
    if !allowed.contains(&kind) {
        return Err(kind_refused(kind));
    }
    if received != kind {
        return Err(ApiError::Code(Code::FileTypeUnsupported));
    }
    Ok(to)
}

/// The viewer's messaging permission as the Fresns code a User Info shows
/// (36600 for everyone while conversations are switched off).
pub(crate) fn permission(
    may: Result<(), MessagingRefusal>,
    settings: &FresnsSettings,
) -> Permission {
    if settings.conversation_enabled {
        may.map_err(messaging_code)
    } else {
        Err(Code::ConversationsDisabled)
    }
}

/// How a request's answer is rendered: in the caller's language and zone,
/// with the server's Fresns settings and the request's key filter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Render<'a> {
    pub(crate) view: TimeView,
    pub(crate) settings: &'a FresnsSettings,
    pub(crate) filter: &'a KeyFilter,
    /// User Info this server rendered recently.
    pub(crate) memo: &'a UserInfoMemo,
}

impl Render<'_> {
    /// A User Info (or the placeholder for a profile that is gone).
    fn user(&self, user: Option<&User>, permission: Permission) -> Box<RawValue> {
        render_user(user, permission, self.view, self.settings, self.filter)
    }

    /// The other participant of a conversation, as the viewer sees them.
    fn other(&self, summary: &ConversationSummary) -> Box<RawValue> {
        let may = permission(summary.may_message, self.settings);
        self.user(summary.other.as_ref(), may)
    }
}

/// `sessionToken` of a login or user/auth.
pub(crate) fn session_token<'a>(
    holder: Holder<'a>,
    session: &'a AppSession,
    ttl_secs: Option<i64>,
    view: TimeView,
) -> SessionToken<'a> {
    SessionToken {
        holder,
        token: session.token.secret(),
        expired_hours: ttl_secs.map(|s| s / 3600),
        expired_days: ttl_secs.map(|s| s / 86_400),
        expired_date_time: session.expires_at.map(|t| view.datetime(t)),
    }
}

/// The `detail` of a login: the account with its profiles.
pub(crate) fn login_detail(
    account: &User,
    profiles: &Participants,
    render: Render<'_>,
) -> AccountInfo {
    let users = profiles
        .iter()
        .map(|(user, may)| render.user(Some(user), permission(*may, render.settings)))
        .collect();
    account_info(account, users, render.view)
}

/// The `detail` of user/auth: upstream renders the profile without a viewer,
/// so its permission is 31601.
pub(crate) fn auth_detail(user: &User, render: Render<'_>) -> Box<RawValue> {
    render.user(Some(user), Err(Code::UserNotLoggedIn))
}

/// `{pagination, list}` of `list` for `page`.
pub(crate) fn paginated<T>(list: Vec<T>, total: i64, page: PageRequest) -> Paginated<T> {
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

/// A page of `me`'s conversation list.
pub(crate) fn conversation_list(
    found: &Paged<ConversationSummary>,
    me: UserId,
    page: PageRequest,
    render: Render<'_>,
) -> Paginated<ConversationItem> {
    let list = found
        .items
        .iter()
        .map(|item| {
            let side = item.conversation.side_of(me);
            ConversationItem {
                id: item.conversation.id.get(),
                user: render.other(item),
                latest_message: latest_message(item.latest.as_ref(), render.view),
                pinned: side.is_some_and(|s| s.pinned),
                message_count: side.map_or(0, |s| s.message_count),
                unread_count: side.map_or(0, |s| s.unread_count),
            }
        })
        .collect();
    paginated(list, found.total, page)
}

/// One conversation as `me` sees it.
pub(crate) fn conversation_detail(
    summary: &ConversationSummary,
    me: UserId,
    render: Render<'_>,
) -> ConversationDetail {
    let side = summary.conversation.side_of(me);
    ConversationDetail {
        id: summary.conversation.id.get(),
        user: render.other(summary),
        message_count: side.map_or(0, |s| s.message_count),
        unread_count: side.map_or(0, |s| s.unread_count),
    }
}

/// The message just sent, as its sender sees it.
pub(crate) fn sent_message<'a>(
    stored: &'a Message,
    file: Option<&'a StoredFile>,
    me: &User,
    origin: Option<String>,
    render: Render<'_>,
) -> MessageItem<'a> {
    // Upstream renders the sender's own profile with 31602 ("user unknown").
    let info = render.user(Some(me), Err(Code::UserUnknown));
    let file = file.map(|f| file_info(f, origin.as_deref().unwrap_or_default()));
    message_item(stored, Some(Cow::Owned(info)), file, me, render.view)
}

/// A page of messages, handed to `respond` with about how many bytes it takes
/// written out (a message page is tens of kilobytes, which a buffer growing
/// from empty would copy several times over). The page borrows the User Info
/// it renders once per person, so it only lives as long as this call.
/// `origin` gives the files' URL prefix, asked only when a message has a file.
pub(crate) fn message_page<R>(
    found: &MessagePage,
    request: &MessagesRequest,
    me: &User,
    origin: impl FnOnce() -> String,
    render: Render<'_>,
    respond: impl FnOnce(&Paginated<MessageItem<'_>>, usize) -> R,
) -> R {
    message_items(found, me, origin, render, |mut list, per_item| {
        if request.reverse_page {
            list.reverse();
        }
        let capacity = per_item * list.len() + 256;
        respond(
            &paginated(list, found.messages.total, request.page),
            capacity,
        )
    })
}

/// Hands `respond` the messages of a page as its list renders them for `me`,
/// and about how many bytes each takes.
pub(crate) fn message_items<R>(
    found: &MessagePage,
    me: &User,
    origin: impl FnOnce() -> String,
    render: Render<'_>,
    respond: impl FnOnce(Vec<MessageItem<'_>>, usize) -> R,
) -> R {
    let users: Vec<(UserId, Arc<RawValue>)> = found
        .participants
        .iter()
        .map(|(p, may)| {
            let perm = permission(*may, render.settings);
            let rendered = if *render.filter == KeyFilter::None {
                render.memo.render(p, perm, render.view, render.settings)
            } else {
                render.user(Some(p), perm).into()
            };
            (p.id, rendered)
        })
        .collect();
    let origin = if found.files.is_empty() {
        String::new()
    } else {
        origin()
    };
    let messages = &found.messages;
    let missing = messages
        .items
        .iter()
        .any(|m| !users.iter().any(|(id, _)| Some(*id) == m.sender))
        .then(|| render.user(None, Ok(())));
    let list: Vec<_> = messages
        .items
        .iter()
        .map(|m| {
            let sender = users
                .iter()
                .find(|(id, _)| Some(*id) == m.sender)
                .map_or(missing.as_deref(), |(_, raw)| Some(&**raw))
                .map(Cow::Borrowed);
            let file = message_file(m, &found.files, &origin);
            message_item(m, sender, file, me, render.view)
        })
        .collect();
    let per_item = users
        .iter()
        .map(|(_, raw)| raw.get().len())
        .max()
        .unwrap_or(0)
        + 512;
    respond(list, per_item)
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
/// serialising a 3 KB User Info on every item was a visible share of the
/// page's cost. The settings
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

/// Fresns message type: 1 text, 2 file.
fn message_type(m: &Message) -> i32 {
    if m.file.is_some() || m.kind == colloq_domain::message::MessageType::File {
        2
    } else {
        1
    }
}

/// A message as the messages list and send-message show it.
fn message_item<'a>(
    m: &'a Message,
    user: Option<Cow<'a, RawValue>>,
    file: Option<FileInfo<'a>>,
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

/// File Info. colloq makes no thumbnails or transcodes, so every image size
/// URL is the file itself and media are always "transcoded" (3).
pub(crate) fn file_info<'a>(file: &'a StoredFile, origin: &str) -> FileInfo<'a> {
    let url = format!("{origin}{}", crate::files::file_path(file));
    let meta = &file.meta;
    let of_kind = match meta.kind {
        FileKind::Image => {
            let (width, height) = meta.dimensions.unwrap_or_default();
            FileOfKind::Image {
                image_width: width,
                image_height: height,
                // Upstream's rule for "long" images (shown cropped in feeds).
                image_long: width >= 700 && u64::from(height) >= 3 * u64::from(width),
                image_config_url: url.clone(),
                image_ratio_url: url.clone(),
                image_square_url: url.clone(),
                image_big_url: url,
            }
        }
        FileKind::Video => FileOfKind::Video {
            video_time: None,
            video_poster_url: "",
            video_url: url,
            transcoding_state: 3,
        },
        FileKind::Audio => FileOfKind::Audio {
            audio_time: None,
            audio_url: url,
            transcoding_state: 3,
        },
        FileKind::Document => FileOfKind::Document {
            document_preview_url: url,
        },
    };
    FileInfo {
        fid: &file.fid,
        kind: meta.kind.code(),
        status: true,
        substitution_image_url: "",
        sensitive: false,
        name: &file.name,
        mime: &meta.mime,
        extension: &meta.extension,
        size: human_size(meta.size),
        md5: &meta.md5,
        sha: &meta.sha256,
        sha_type: "sha256",
        more_json: None,
        of_kind,
    }
}

/// `file` of a message item: File Info when the message carries a file.
fn message_file<'a>(m: &Message, files: &'a [StoredFile], origin: &str) -> Option<FileInfo<'a>> {
    m.file
        .and_then(|id| files.iter().find(|f| f.id == id))
        .map(|f| file_info(f, origin))
}

/// `latestMessage` of a list item; every field null when there is none.
fn latest_message(m: Option<&Message>, view: TimeView) -> LatestMessage {
    let Some(m) = m else {
        return LatestMessage::default();
    };
    let (datetime, format, ago) = view.triple(m.created_at);
    let kind = message_type(m);
    LatestMessage {
        id: Some(m.id.get()),
        kind: Some(kind),
        message: Some(if kind == 2 {
            "Document".to_owned()
        } else {
            m.body.clone()
        }),
        datetime: Some(datetime),
        datetime_format: Some(format),
        time_ago: Some(ago),
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

/// Account Info as upstream's login answer renders an account, with its profiles.
fn account_info(account: &User, users: Vec<Box<RawValue>>, view: TimeView) -> AccountInfo {
    let phone = account.phone.as_deref().map(mask_phone);
    AccountInfo {
        aid: account.aid.clone(),
        country_code: None,
        pure_phone: phone.clone(),
        phone,
        email: account.email.as_deref().map(mask_email),
        has_password: true,
        verify_status: false,
        verify_real_name: None,
        verify_gender: 1,
        verify_cert_type: None,
        verify_cert_number: None,
        verify_identity_type: None,
        verify_date_time: None,
        register_date_time: view.datetime(account.created_at),
        status: true,
        wait_delete: false,
        wait_delete_date_time: None,
        connects: [],
        wallet: Wallet {
            status: false,
            currency_code: "USD",
            balance: "0.00",
            freeze_amount: "0.00",
            bank_name: None,
            swift_code: None,
            bank_address: None,
            bank_account: None,
            bank_status: false,
        },
        users,
        interaction: AccountInteraction {
            user_name: "User",
            user_uid_name: "UID",
            user_username_name: "Username",
            user_nickname_name: "Nickname",
            user_role_name: "Role",
            user_bio_name: "Bio",
        },
    }
}

/// `user/panel` in upstream's shape (`UserController::panel`). colloq keeps
/// no notifications, drafts, features or extra profiles, so those are zero or
/// empty, with upstream's keys and types, as the official clients read them
/// (one computes `unreadNotifications.all - 1`).
pub(crate) fn panel(panel: &colloq_core::conversations::Panel) -> Panel {
    Panel {
        multi_user: MultiUser {
            status: false,
            service: None,
        },
        features: [],
        profiles: [],
        conversations: PanelConversations {
            conversation_count: panel.conversation_count,
            unread_messages: panel.unread_messages,
        },
        unread_notifications: UnreadNotifications::default(),
        draft_count: DraftCount::default(),
        file_accept: FileAccept::new(colloq_storage::inspect::accept_list),
    }
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

    fn request<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    fn message(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        match result {
            Err(ApiError::Param(msg)) => msg,
            other => panic!("not a parameter error: {other:?}"),
        }
    }

    #[test]
    fn a_conversation_id_is_read_from_a_number_or_a_string() {
        for id in [serde_json::json!(7), serde_json::json!("7")] {
            let req: SelectionRequest =
                request(serde_json::json!({"type": "conversation", "conversationId": id}));
            assert_eq!(
                Selection::try_from(req).ok(),
                Some(Selection::Conversation(ThreadId(7)))
            );
        }
        let req: SelectionRequest =
            request(serde_json::json!({"type": "conversation", "conversationId": "seven"}));
        assert_eq!(
            message(Selection::try_from(req)),
            "The conversation id must be an integer."
        );
        let req: SelectionRequest =
            request(serde_json::json!({"type": "message", "messageIds": "3, 4,x"}));
        assert_eq!(
            Selection::try_from(req).ok(),
            Some(Selection::Messages(vec![3, 4]))
        );
    }

    #[test]
    fn requests_answer_with_laravels_messages() {
        let req: SendMessageRequest = request(serde_json::json!({"uidOrUsername": 42}));
        assert_eq!(
            message(Outgoing::try_from(req)),
            "The message field is required when fid is not present."
        );
        let req: SendMessageRequest =
            request(serde_json::json!({"uidOrUsername": "bob", "message": 5}));
        assert_eq!(
            message(Outgoing::try_from(req)),
            "The message must be a string."
        );
        let req: LoginRequest = request(serde_json::json!({"type": "phone", "account": "138"}));
        assert_eq!(
            message(Login::try_from(req)),
            "The country code field is required when type is phone."
        );
        let req: LoginRequest = request(serde_json::json!({"type": "email", "account": "a@b.co"}));
        assert_eq!(
            message(Login::try_from(req)),
            "The password field is required when verify code is not present."
        );
        let query: ListQuery = request(serde_json::json!({"pageSize": "31"}));
        assert_eq!(
            message(ListRequest::try_from(query)),
            "The page size must be between 1 and 30."
        );
        let query: MessagesQuery = request(serde_json::json!({"beforeId": "2", "after_id": "3"}));
        assert_eq!(
            message(MessagesRequest::parse("1", &query)),
            "The before id and after id cannot be used together."
        );
    }

    #[test]
    fn a_login_reads_every_spelling_of_a_phone_and_hides_the_password() {
        let req: LoginRequest = request(serde_json::json!({
            "type": "phone", "account": "13800001234", "countryCode": 86,
            "password": STANDARD.encode("s3cret!"),
        }));
        assert!(!format!("{req:?}").contains(&STANDARD.encode("s3cret!")));
        let login = Login::try_from(req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(login.names.len(), 3);
        assert!(!format!("{login:?}").contains("s3cret!"));
    }

    #[test]
    fn a_messages_seek_describes_page_one_and_keeps_the_order_asked() {
        let query: MessagesQuery = request(serde_json::json!({
            "page": "4", "pageSize": "10", "before_id": "90",
            "orderDirection": "asc", "pageListDirection": "oldest",
        }));
        let parsed = MessagesRequest::parse("12", &query).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.id, ThreadId(12));
        assert_eq!(parsed.page.page(), 1);
        assert!(!parsed.newest_first && parsed.reverse_page);
        assert_eq!(
            parsed.cursor,
            Cursor::Before {
                id: MessageId(90),
                limit: 10
            }
        );
    }
}
