//! Thin adapters for the Fresns dialect: validate, call use cases, render.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::web::Path;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use colloq_core::accounts::{self, UserRef};
use colloq_core::conversations::{self, DirectContent, Selection};
use colloq_core::sessions::{self, FresnsSession, Issuer};
use colloq_core::{CoreError, Refusal};
use colloq_domain::file::FileKind;
use colloq_domain::ids::ThreadId;
use colloq_domain::message::MessageBody;
use colloq_domain::page::{Cursor, PageRequest};
use colloq_domain::user::{Email, LoginName, Phone, PlainPassword, User};
use colloq_persistence::DbConn;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::codes::{Code, Lang};
use super::convert::{
    ConversationDetail, ConversationItem, account_info, boolean_param, choice, cursor_params,
    file_info, int_field, ip_param, key_filter, latest_message, message_file, message_item,
    page_params, paginated, param_error, path_id, pinned_param, render_user, required_text, text,
};
use super::error::{ApiError, messaging_code};
use super::extract::{AccountOnly, Caller, Client, Input, Me, Myself};
use super::global;
use super::time::TimeView;
use super::userinfo::{KeyFilter, Permission};
use crate::files;
use crate::params::Params;

type Reply = Result<HttpResponse, ApiError>;

/// The success envelope, serialised straight from `data`.
#[derive(serde::Serialize)]
struct Envelope<'a, T> {
    code: i32,
    message: &'a str,
    data: T,
}

fn ok(lang: Lang, data: impl serde::Serialize) -> HttpResponse {
    ok_sized(lang, data, 1024)
}

/// [`ok`] for a body of about `capacity` bytes: a message page is tens of
/// kilobytes, which a buffer growing from empty would copy several times over.
fn ok_sized(lang: Lang, data: impl serde::Serialize, capacity: usize) -> HttpResponse {
    let envelope = Envelope {
        code: Code::Success.number(),
        message: Code::Success.message(lang),
        data,
    };
    match crate::body::json_sized(&envelope, capacity) {
        Ok(mut res) => {
            crate::ops::mark(&mut res, super::DIALECT, 0);
            res
        }
        Err(err) => {
            tracing::error!(error = %err, "writing an answer");
            actix_web::ResponseError::error_response(&ApiError::Core(CoreError::Unavailable(
                "the answer could not be written",
            )))
        }
    }
}

/// The viewer's messaging permission towards `target`, as a Fresns code.
fn permission(
    conn: &mut DbConn,
    viewer: &User,
    target: &User,
    enabled: bool,
) -> Result<Permission, CoreError> {
    if !enabled {
        return Ok(Err(Code::ConversationsDisabled));
    }
    Ok(conversations::messaging_permission(conn, viewer, target)?.map_err(messaging_code))
}

fn issuer(caller: &Caller) -> Issuer<'_> {
    Issuer {
        platform_id: caller.platform_id,
        app_id: &caller.key.app_id,
        ttl: caller.key.token_ttl_secs.map(Duration::seconds),
    }
}

fn session_token(
    id_key: &str,
    id: Value,
    session: &FresnsSession,
    caller: &Caller,
    view: TimeView,
) -> Value {
    let ttl = caller.key.token_ttl_secs;
    json!({
        id_key: id,
        "token": session.token.secret(),
        "expiredHours": ttl.map(|s| s / 3600),
        "expiredDays": ttl.map(|s| s / 86_400),
        "expiredDateTime": session.expires_at.map(|t| view.datetime(t)),
    })
}

fn base64_password(input: &Map<String, Value>) -> Result<Option<PlainPassword>, ApiError> {
    text(input, "password")
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

/// Who a login names: an e-mail, or a phone with its country code (accounts
/// registered through AnQiCMS may have stored the number without one).
fn login_names(input: &Map<String, Value>) -> Result<Vec<LoginName>, ApiError> {
    let kind = required_text(input, "type")?;
    let account = required_text(input, "account")?;
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
            let code = int_field(input, "countryCode")?.ok_or_else(|| {
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

pub(super) async fn login_account(client: Client, input: Input) -> Reply {
    let request = input.read(|input| {
        let names = login_names(input)?;
        let password = base64_password(input)?.ok_or_else(|| {
            if text(input, "verifyCode").is_some() {
                // colloq sends no verification codes, so none can be right.
                ApiError::Code(Code::VerifyCodeWrong)
            } else {
                param_error(
                    "The password field is required when verify code is not present.".to_owned(),
                )
            }
        })?;
        Ok((names, password))
    });
    let enabled = client.state.settings().fresns.conversation_enabled;
    let (caller, (account, users, session)) = client
        .run(move |conn, now, caller| {
            let (names, password) = request?;
            let mut outcome = Err(CoreError::Refused(Refusal::UnknownAccount));
            for name in &names {
                outcome = accounts::login_account(conn, name, &password, now);
                if !matches!(outcome, Err(CoreError::Refused(Refusal::UnknownAccount))) {
                    break;
                }
            }
            let account = outcome?;
            let session = sessions::issue_account_token(conn, &account, issuer(caller), now)?;
            let mut users = Vec::new();
            for user in accounts::profiles(conn, &account)? {
                let perm = permission(conn, &account, &user, enabled)?;
                users.push((user, perm));
            }
            Ok((account, users, session))
        })
        .await?;
    let settings = &client.state.settings().fresns;
    let users = users
        .iter()
        .map(|(u, p)| render_user(Some(u), *p, client.view, settings, &KeyFilter::None))
        .collect();
    Ok(ok(
        client.view.lang,
        json!({
            "sessionToken": session_token("aid", json!(account.aid), &session, &caller, client.view),
            "detail": account_info(&account, users, client.view),
        }),
    ))
}

pub(super) async fn auth_user(who: AccountOnly, input: Input) -> Reply {
    let request = input.read(|input| {
        let target = UserRef::parse(&required_text(input, "uidOrUsername")?);
        Ok((target, base64_password(input)?))
    });
    let (holder, (user, session)) = who
        .run(move |conn, now, holder| {
            let (target, password) = request?;
            let user =
                accounts::switch_user(conn, &holder.account, &target, password.as_ref(), now)?;
            let session = sessions::issue_user_token(
                conn,
                &holder.aid_token,
                &user,
                issuer(&holder.caller),
                now,
            )?;
            Ok((user, session))
        })
        .await?;
    let settings = &who.state.settings().fresns;
    // Upstream renders this profile without a viewer, so its permission is 31601.
    let detail = render_user(
        Some(&user),
        Err(Code::UserNotLoggedIn),
        who.view,
        settings,
        &KeyFilter::None,
    );
    let token = session_token("uid", json!(user.uid), &session, &holder.caller, who.view);
    Ok(ok(
        who.view.lang,
        json!({"sessionToken": token, "detail": detail}),
    ))
}

pub(super) async fn logout_account(who: AccountOnly) -> Reply {
    who.run(|conn, _now, holder| {
        sessions::revoke_account_token(conn, &holder.aid_token)?;
        Ok(())
    })
    .await?;
    Ok(ok(who.view.lang, Value::Null))
}

pub(super) async fn global_configs(client: Client, params: Params) -> Reply {
    client.read(|_conn, _now, _caller| Ok(())).await?;
    let (keys, tags) = (params.get("keys"), params.get("tags"));
    let items = global::configs(client.state.settings(), client.view.lang, keys, tags);
    Ok(ok_sized(client.view.lang, items, 8 * 1024))
}

pub(super) async fn code_messages(client: Client, params: Params) -> Reply {
    let all = boolean_param(&params, "isAll")?.unwrap_or(false);
    client.read(|_conn, _now, _caller| Ok(())).await?;
    let (fskey, codes) = (params.get("fskey"), params.get("codes"));
    let table = global::code_messages(client.view.lang, fskey, all, codes);
    Ok(ok_sized(client.view.lang, table, 4 * 1024))
}

pub(super) async fn ip_info(client: Client, http: HttpRequest, params: Params) -> Reply {
    let asked = ip_param(&params)?;
    client.read(|_conn, _now, _caller| Ok(())).await?;
    let peer = http.peer_addr();
    let (ip, port) = match (asked, peer) {
        (Some(ip), _) => (ip, None),
        (None, Some(peer)) => (peer.ip(), Some(peer.port())),
        (None, None) => (std::net::Ipv4Addr::LOCALHOST.into(), None),
    };
    Ok(ok(client.view.lang, global::ip_info(ip, port)))
}

pub(super) async fn site_status() -> HttpResponse {
    HttpResponse::Ok().json(global::status())
}

pub(super) async fn user_panel(me: Me) -> Reply {
    let (_, panel) = me
        .read(|conn, _now, myself| Ok(conversations::panel(conn, &myself.user)?))
        .await?;
    Ok(ok(me.view.lang, super::convert::panel(&panel)))
}

pub(super) async fn list_conversations(me: Me, params: Params) -> Reply {
    let request = page_params(&params).and_then(|page| Ok((page, pinned_param(&params)?)));
    let filter = key_filter(&params);
    let enabled = me.state.settings().fresns.conversation_enabled;
    let (myself, (found, perms, page)) = me
        .read(move |conn, _now, myself| {
            let (page, pinned) = request?;
            let viewer = &myself.user;
            let found = conversations::list_conversations(conn, viewer, pinned, page)?;
            let mut perms = Vec::with_capacity(found.items.len());
            for item in &found.items {
                perms.push(match &item.other {
                    Some(other) => permission(conn, viewer, other, enabled)?,
                    None => Ok(()),
                });
            }
            Ok((found, perms, page))
        })
        .await?;
    let settings = &me.state.settings().fresns;
    let list = found
        .items
        .iter()
        .zip(perms)
        .map(|(item, perm)| {
            let side = item.conversation.side_of(myself.user.id);
            ConversationItem {
                id: item.conversation.id.get(),
                user: render_user(item.other.as_ref(), perm, me.view, settings, &filter),
                latest_message: latest_message(item.latest.as_ref(), me.view),
                pinned: side.is_some_and(|s| s.pinned),
                message_count: side.map_or(0, |s| s.message_count),
                unread_count: side.map_or(0, |s| s.unread_count),
            }
        })
        .collect();
    Ok(ok(me.view.lang, paginated(list, found.total, page)))
}

pub(super) async fn conversation_detail(me: Me, id: Path<String>, params: Params) -> Reply {
    let request = path_id(&id).map(ThreadId);
    let filter = key_filter(&params);
    let enabled = me.state.settings().fresns.conversation_enabled;
    let (myself, (summary, perm)) = me
        .read(move |conn, _now, myself| {
            let viewer = &myself.user;
            let summary = conversations::conversation_detail(conn, viewer, request?)?;
            let perm = match &summary.other {
                Some(other) => permission(conn, viewer, other, enabled)?,
                None => Ok(()),
            };
            Ok((summary, perm))
        })
        .await?;
    let settings = &me.state.settings().fresns;
    let side = summary.conversation.side_of(myself.user.id);
    Ok(ok(
        me.view.lang,
        ConversationDetail {
            id: summary.conversation.id.get(),
            user: render_user(summary.other.as_ref(), perm, me.view, settings, &filter),
            message_count: side.map_or(0, |s| s.message_count),
            unread_count: side.map_or(0, |s| s.unread_count),
        },
    ))
}

/// The parameters of a messages page.
#[derive(Debug, Clone, Copy)]
struct MessagesQuery {
    id: ThreadId,
    newest_first: bool,
    /// `pageListDirection=oldest`: the page's items are listed oldest first.
    reverse_page: bool,
    page: PageRequest,
    cursor: Cursor,
}

fn messages_query(id: &str, params: &Params) -> Result<MessagesQuery, ApiError> {
    let id = ThreadId(path_id(id)?);
    let newest_first = choice(params, "orderDirection", &["asc", "desc"])? != Some("asc");
    let reverse_page =
        choice(params, "pageListDirection", &["latest", "oldest"])? == Some("oldest");
    let page = page_params(params)?;
    let cursor = cursor_params(params)?;
    Ok(MessagesQuery {
        id,
        newest_first,
        reverse_page,
        // A seek ignores `page`, so its pagination describes page 1.
        page: match cursor {
            Cursor::Page(_) => page,
            Cursor::Before { .. } | Cursor::After { .. } => page.first(),
        },
        cursor,
    })
}

pub(super) async fn conversation_messages(
    me: Me,
    http: HttpRequest,
    id: Path<String>,
    params: Params,
) -> Reply {
    let request = messages_query(&id, &params);
    let filter = key_filter(&params);
    let enabled = me.state.settings().fresns.conversation_enabled;
    let (myself, (query, found, people, carried)) = me
        .read(move |conn, _now, myself| {
            let query = request?;
            let viewer = &myself.user;
            let (found, people) = conversations::conversation_messages(
                conn,
                viewer,
                query.id,
                query.cursor,
                query.newest_first,
            )?;
            let rendered: Vec<(User, Permission)> = people
                .into_iter()
                .map(|(person, may)| {
                    let perm = if enabled {
                        may.map_err(messaging_code)
                    } else {
                        Err(Code::ConversationsDisabled)
                    };
                    (person, perm)
                })
                .collect();
            let ids: Vec<_> = found.items.iter().filter_map(|m| m.file).collect();
            let carried = colloq_core::files::carried(conn, &ids)?;
            Ok((query, found, rendered, carried))
        })
        .await?;
    // Only file messages need the origin, and working it out from the request
    // formats the peer address: 2 % of a text page's CPU.
    let origin = if carried.is_empty() {
        String::new()
    } else {
        files::origin(&http, &me.state)
    };
    let settings = &me.state.settings().fresns;
    let users: Vec<(colloq_domain::ids::UserId, Arc<RawValue>)> = people
        .iter()
        .map(|(p, perm)| {
            let rendered = if filter == KeyFilter::None {
                me.state.fresns_users().render(p, *perm, me.view, settings)
            } else {
                render_user(Some(p), *perm, me.view, settings, &filter).into()
            };
            (p.id, rendered)
        })
        .collect();
    let missing = found
        .items
        .iter()
        .any(|m| !users.iter().any(|(id, _)| Some(*id) == m.sender))
        .then(|| render_user(None, Ok(()), me.view, settings, &filter));
    let mut list: Vec<_> = found
        .items
        .iter()
        .map(|m| {
            let sender = users
                .iter()
                .find(|(id, _)| Some(*id) == m.sender)
                .map_or(missing.as_deref(), |(_, raw)| Some(&**raw));
            let file = message_file(m, &carried, &origin);
            message_item(m, sender, file, &myself.user, me.view)
        })
        .collect();
    if query.reverse_page {
        list.reverse();
    }
    let per_item = users
        .iter()
        .map(|(_, raw)| raw.get().len())
        .max()
        .unwrap_or(0)
        + 512;
    let capacity = per_item * list.len() + 256;
    Ok(ok_sized(
        me.view.lang,
        paginated(list, found.total, query.page),
        capacity,
    ))
}

pub(super) async fn send_message(me: Me, http: HttpRequest, input: Input) -> Reply {
    let request = input.read(|input| {
        let to = UserRef::parse(&required_text(input, "uidOrUsername")?);
        // As upstream: when both are given, the file wins and the text is ignored.
        let content = match text(input, "fid") {
            Some(fid) => DirectContent::File(fid),
            None => DirectContent::Text(message_text(input)?),
        };
        Ok((to, content))
    });
    let settings = me.state.settings().fresns.clone();
    let writer = me.state.writer().clone();
    let (myself, (stored, file)) = me
        .run(move |conn, now, myself| {
            if myself.caller.key.is_read_only {
                return Err(ApiError::Code(Code::KeyReadOnly));
            }
            let (to, content) = request?;
            if !settings.conversation_enabled {
                return Err(ApiError::Code(Code::ConversationsDisabled));
            }
            let (stored, _conversation, file) = conversations::send_direct_message(
                conn,
                &writer,
                &myself.user,
                &to,
                content,
                &settings.block_words,
                now,
            )?;
            Ok((stored, file))
        })
        .await?;
    let settings = &me.state.settings().fresns;
    let me_info = render_user(
        Some(&myself.user),
        Err(Code::UserUnknown),
        me.view,
        settings,
        &KeyFilter::None,
    );
    let file = file.map_or(Value::Null, |f| {
        file_info(&f, &files::origin(&http, &me.state))
    });
    Ok(ok(
        me.view.lang,
        message_item(&stored, Some(&me_info), file, &myself.user, me.view),
    ))
}

/// The `message` of a text message.
fn message_text(input: &Map<String, Value>) -> Result<MessageBody, ApiError> {
    match input.get("message") {
        None | Some(Value::Null) => Err(param_error(
            "The message field is required when fid is not present.".to_owned(),
        )),
        Some(Value::String(s)) => MessageBody::parse(s.clone()).map_err(|_too_long| {
            param_error("The message must not be greater than 10000 characters.".to_owned())
        }),
        Some(_) => Err(param_error("The message must be a string.".to_owned())),
    }
}

/// `type` + `conversationId` / `messageIds` of mark-as-read and delete.
fn selection(input: &Map<String, Value>) -> Result<Selection, ApiError> {
    let kind = required_text(input, "type")?;
    match kind.as_str() {
        "conversation" => {
            let id = int_field(input, "conversationId")?.ok_or_else(|| {
                param_error(
                    "The conversation id field is required when type is conversation.".to_owned(),
                )
            })?;
            Ok(Selection::Conversation(ThreadId(id)))
        }
        "message" => {
            let ids = text(input, "messageIds").ok_or_else(|| {
                param_error("The message ids field is required when type is message.".to_owned())
            })?;
            Ok(Selection::Messages(
                ids.split(',')
                    .filter_map(|piece| piece.trim().parse().ok())
                    .collect(),
            ))
        }
        _ => Err(param_error("The selected type is invalid.".to_owned())),
    }
}

pub(super) async fn mark_as_read(me: Me, input: Input) -> Reply {
    let request = input.read(selection);
    me.run(move |conn, now, myself| {
        conversations::mark_read(conn, &myself.user, &request?, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, Value::Null))
}

pub(super) async fn delete_conversation(me: Me, input: Input) -> Reply {
    let request = input.read(selection);
    me.run(move |conn, now, myself| {
        conversations::delete_messages(conn, &myself.user, &request?, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, Value::Null))
}

pub(super) async fn pin_conversation(me: Me, input: Input) -> Reply {
    let request = input.read(|input| {
        text(input, "conversationId")
            .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or(ApiError::Code(Code::ParamValueInvalid))
    });
    me.run(move |conn, _now, myself| {
        conversations::toggle_pin(conn, &myself.user, ThreadId(request?))?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, Value::Null))
}

/// The code that refuses a kind of file in conversations (36109–36112).
fn kind_refused(kind: FileKind) -> ApiError {
    ApiError::Code(match kind {
        FileKind::Image => Code::ImagesRefused,
        FileKind::Video => Code::VideosRefused,
        FileKind::Audio => Code::AudiosRefused,
        FileKind::Document => Code::DocumentsRefused,
    })
}

fn upload_error(err: files::UploadError) -> ApiError {
    use colloq_storage::IngestError;
    match err {
        files::UploadError::Refused(IngestError::NotAllowed(kind)) => kind_refused(kind),
        files::UploadError::Refused(IngestError::Unsupported) => {
            ApiError::Code(Code::FileTypeUnsupported)
        }
        files::UploadError::Refused(IngestError::Io(e)) => {
            tracing::error!(error = %crate::error_chain::ErrorChain(&e), "receiving an upload");
            ApiError::Core(CoreError::Unavailable("receiving the upload failed"))
        }
        files::UploadError::Internal(e) => ApiError::Core(e),
        other => param_error(format!("The file is invalid: {other}.")),
    }
}

/// The form fields of an upload, checked as upstream's DTO does; returns the
/// declared kind and the recipient named by `tableKey`.
fn upload_fields(
    received: &files::Received,
    allowed: &[FileKind],
) -> Result<(FileKind, UserRef), ApiError> {
    let field = |name: &str, label: &str| {
        received
            .field(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| param_error(format!("The {label} field is required.")))
    };
    if field("tableName", "table name")? != "conversation_messages" {
        return Err(param_error(
            "The selected table name is invalid: colloq stores files of conversation_messages only.".to_owned(),
        ));
    }
    if field("tableColumn", "table column")? != "message_file_id" {
        return Err(param_error(
            "The selected table column is invalid.".to_owned(),
        ));
    }
    let kind = FileKind::parse(field("type", "type")?)
        .ok_or_else(|| param_error("The selected type is invalid.".to_owned()))?;
    match field("uploadMode", "upload mode")? {
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
    let to = UserRef::parse(field("tableKey", "table key")?);
    if !allowed.contains(&kind) {
        return Err(kind_refused(kind));
    }
    if received.file.meta.kind != kind {
        return Err(ApiError::Code(Code::FileTypeUnsupported));
    }
    Ok((kind, to))
}

/// `POST /api/v2/common/upload-file` for a conversation message: the file is
/// checked against the configured kinds and limits while it streams in, then
/// the sender's permission to message the recipient (`tableKey`) is checked
/// before it is stored. The File Info's `fid` is what send-message takes.
pub(super) async fn upload_file(me: Me, http: HttpRequest, form: Multipart) -> Reply {
    // The caller is checked before a byte of the upload is read.
    let (Myself { user, .. }, ()) = me.run(|_conn, _now, _myself| Ok(())).await?;
    let state = me.state.clone();
    let allowed: Vec<FileKind> = state
        .settings()
        .fresns
        .conversation_files
        .iter()
        .filter_map(|k| FileKind::parse(k))
        .collect();
    let policy = state.settings().files.policy(&allowed);
    let received = files::receive(&state, form, policy)
        .await
        .map_err(upload_error)?;
    let checked = upload_fields(&received, &allowed).and_then(|(_, to)| {
        if state.settings().fresns.conversation_enabled {
            Ok(to)
        } else {
            Err(ApiError::Code(Code::ConversationsDisabled))
        }
    });
    let to = match checked {
        Ok(to) => to,
        Err(e) => {
            received.discard().await;
            return Err(e);
        }
    };
    let sender = user.clone();
    let recipient = state
        .run_with(move |conn, _now| {
            let recipient =
                accounts::find_user(conn, &to)?.ok_or(ApiError::Code(Code::UserUnknown))?;
            permission(conn, &sender, &recipient, true)?.map_err(ApiError::Code)?;
            Ok::<_, ApiError>(recipient)
        })
        .await;
    let recipient = match recipient {
        Ok(recipient) => recipient,
        Err(e) => {
            received.discard().await;
            return Err(e);
        }
    };
    let stored = files::store(&state, &user, received, Some(recipient.id))
        .await
        .map_err(upload_error)?;
    Ok(ok(
        me.view.lang,
        file_info(&stored, &files::origin(&http, &state)),
    ))
}
