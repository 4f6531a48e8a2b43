//! Thin adapters for the Fresns dialect: extract, convert the DTO to domain
//! input, call one use case as the checked caller, render.

use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::web::Path;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use colloq_core::CoreError;
use colloq_core::accounts;
use colloq_core::conversations::{self, DirectMessage, Selection};
use colloq_core::sessions::{self, Issuer};
use colloq_domain::file::FileKind;
use colloq_domain::ids::ThreadId;
use colloq_domain::user::User;

use super::codes::{Code, Lang};
use super::convert::{
    self, CodeMessagesRequest, ConfigsRequest, IpRequest, ListRequest, Login, MessagesRequest,
    Outgoing, SwitchUser, auth_detail, file_info, login_detail, path_id, session_token,
    upload_recipient,
};
use super::dto::{
    AuthUserRequest, CodeMessagesQuery, ConfigsQuery, Envelope, Holder, IpInfoQuery, KeysQuery,
    ListQuery, LoginRequest, MessagesQuery, PinRequest, SelectionRequest, SendMessageRequest,
    SessionReply, UploadForm,
};
use super::error::{ApiError, messaging_code, upload_error};
use super::extract::{AccountOnly, Caller, Client, Input, Me, Myself, Query, form_fields};
use super::global;
use super::userinfo::KeyFilter;
use crate::settings::FresnsSettings;
use crate::throttle::LoginOrigin;
use crate::{AppState, files};

type Reply = Result<HttpResponse, ApiError>;

pub(super) fn ok(lang: Lang, data: impl serde::Serialize) -> HttpResponse {
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
            crate::ops::mark(&mut res, super::NAME, 0);
            res
        }
        Err(err) => {
            tracing::error!(error = %err, "writing an answer");
            actix_web::ResponseError::error_response(&ApiError::Core(CoreError::Internal(
                "the answer could not be written",
            )))
        }
    }
}

fn issuer(caller: &Caller) -> Issuer<'_> {
    Issuer {
        platform_id: caller.platform_id,
        app_id: &caller.key.app_id,
        ttl: caller.key.token_ttl_secs.map(Duration::seconds),
    }
}

pub(super) async fn login_account(
    client: Client,
    LoginOrigin(from): LoginOrigin,
    input: Input<LoginRequest>,
) -> Reply {
    let request = input.parse::<Login>();
    let throttle = Arc::clone(client.state.throttle());
    let (caller, (account, profiles, session)) = client
        .run(move |conn, now, caller| {
            let Login { names, password } = request?;
            let guard = (&*throttle, &from);
            let account = accounts::login_account(conn, &names, &password, guard, now)?;
            let session = sessions::issue_account_token(conn, &account, issuer(caller), now)?;
            let profiles = accounts::profiles(conn, &account)?;
            let profiles = conversations::messaging_permissions(conn, &account, profiles)?;
            Ok((account, profiles, session))
        })
        .await?;
    let ttl = caller.key.token_ttl_secs;
    let session_token = session_token(Holder::Account(&account.aid), &session, ttl, client.view);
    let detail = login_detail(&account, &profiles, client.render(&KeyFilter::None));
    let reply = SessionReply {
        session_token,
        detail,
    };
    Ok(ok(client.view.lang, reply))
}

pub(super) async fn auth_user(
    who: AccountOnly,
    LoginOrigin(from): LoginOrigin,
    input: Input<AuthUserRequest>,
) -> Reply {
    let request = input.parse::<SwitchUser>();
    let (holder, (user, session)) = who
        .run(move |conn, now, holder| {
            let SwitchUser { to, password } = request?;
            let (account, password) = (&holder.account, password.as_ref());
            let user = accounts::switch_user(conn, account, &to, password, &from, now)?;
            let (token, issuer) = (&holder.aid_token, issuer(&holder.caller));
            let session = sessions::issue_user_token(conn, token, &user, issuer, now)?;
            Ok((user, session))
        })
        .await?;
    let ttl = holder.caller.key.token_ttl_secs;
    let session_token = session_token(Holder::User(user.uid), &session, ttl, who.view);
    let detail = auth_detail(&user, who.render(&KeyFilter::None));
    let reply = SessionReply {
        session_token,
        detail,
    };
    Ok(ok(who.view.lang, reply))
}

pub(super) async fn logout_account(who: AccountOnly) -> Reply {
    let (_holder, ended) = who
        .run(|conn, _now, holder| Ok(sessions::revoke_account_token(conn, &holder.aid_token)?))
        .await?;
    // The sessions' event streams close too, on every node.
    who.state.live().end_sessions(&ended);
    Ok(ok(who.view.lang, ()))
}

pub(super) async fn global_configs(client: Client, query: Query<ConfigsQuery>) -> Reply {
    let request = query.parse::<ConfigsRequest>();
    let (_, (), asked) = client.read(request, |_, _, _, _| Ok(())).await?;
    let ConfigsRequest { keys, tags } = &*asked;
    let lang = client.view.lang;
    let items = global::configs(
        client.state.settings(),
        lang,
        keys.as_deref(),
        tags.as_deref(),
    );
    Ok(ok_sized(lang, items, 8 * 1024))
}

pub(super) async fn code_messages(client: Client, query: Query<CodeMessagesQuery>) -> Reply {
    let request = query.parse::<CodeMessagesRequest>();
    let (_, (), asked) = client.read(request, |_, _, _, _| Ok(())).await?;
    let lang = client.view.lang;
    let (fskey, codes) = (asked.fskey.as_deref(), asked.codes.as_deref());
    let table = global::code_messages(lang, fskey, asked.all, codes);
    Ok(ok_sized(lang, table, 4 * 1024))
}

pub(super) async fn ip_info(client: Client, http: HttpRequest, query: Query<IpInfoQuery>) -> Reply {
    let request = query.parse::<IpRequest>();
    let (_, (), asked) = client.read(request, |_, _, _, _| Ok(())).await?;
    let IpRequest(asked) = *asked;
    let (ip, port) = match (asked, http.peer_addr()) {
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
    let (_, panel, _) = me
        .read(Ok(()), |conn, _now, myself, ()| {
            Ok(conversations::panel(conn, &myself.user)?)
        })
        .await?;
    Ok(ok(me.view.lang, convert::panel(&panel)))
}

pub(super) async fn list_conversations(me: Me, query: Query<ListQuery>) -> Reply {
    let request = query.parse::<ListRequest>();
    let (myself, found, request) = me
        .read(request, |conn, _now, myself, r| {
            Ok(conversations::list_conversations(
                conn,
                &myself.user,
                r.pinned,
                r.page,
            )?)
        })
        .await?;
    let render = me.render(&request.filter);
    let list = convert::conversation_list(&found, myself.user.id, request.page, render);
    Ok(ok(me.view.lang, list))
}

pub(super) async fn conversation_detail(
    me: Me,
    id: Path<String>,
    query: Query<KeysQuery>,
) -> Reply {
    let request = query
        .parse::<KeyFilter>()
        .and_then(|f| Ok((ThreadId(path_id(&id)?), f)));
    let (myself, summary, request) = me
        .read(request, |conn, _now, myself, &(id, _)| {
            Ok(conversations::conversation_detail(conn, &myself.user, id)?)
        })
        .await?;
    let (_, filter) = &*request;
    let detail = convert::conversation_detail(&summary, myself.user.id, me.render(filter));
    Ok(ok(me.view.lang, detail))
}

pub(super) async fn conversation_messages(
    me: Me,
    http: HttpRequest,
    id: Path<String>,
    query: Query<MessagesQuery>,
) -> Reply {
    let request = query.parse_with(|q| MessagesRequest::parse(&id, &q));
    let (myself, found, request) = me
        .read(request, |conn, _now, myself, r| {
            let (viewer, order) = (&myself.user, r.newest_first);
            Ok(conversations::conversation_messages(
                conn, viewer, r.id, r.cursor, order,
            )?)
        })
        .await?;
    // Only file messages need the origin, which formats the peer address.
    let origin = || files::origin(&http, &me.state);
    let render = me.render(&request.filter);
    Ok(convert::message_page(
        &found,
        &request,
        &myself.user,
        origin,
        render,
        |page, size| ok_sized(me.view.lang, page, size),
    ))
}

pub(super) async fn send_message(
    me: Me,
    http: HttpRequest,
    input: Input<SendMessageRequest>,
) -> Reply {
    let key = crate::idempotency::key(&http).map_err(ApiError::from);
    let request = input.parse::<Outgoing>().and_then(|o| Ok((o, key?)));
    let settings = me.state.settings().fresns.clone();
    let (writer, throttle) = (me.state.writer().clone(), Arc::clone(me.state.throttle()));
    let (myself, (stored, file)) = me
        .run(move |conn, now, myself| {
            writable(&myself.caller)?;
            let (Outgoing { to, content }, key) = request?;
            conversations_on(&settings)?;
            throttle.send(myself.user.id)?;
            let (sender, words) = (&myself.user, &settings.block_words);
            let message = DirectMessage { content, key };
            Ok(conversations::send_direct_message(
                conn, &writer, sender, &to, message, words, now,
            )?)
        })
        .await?;
    let origin = file.as_ref().map(|_| files::origin(&http, &me.state));
    let render = me.render(&KeyFilter::None);
    let item = convert::sent_message(&stored, file.as_ref(), &myself.user, origin, render);
    Ok(ok(me.view.lang, item))
}

/// Conversations switched off refuse every send and upload (36600).
fn conversations_on(settings: &FresnsSettings) -> Result<(), ApiError> {
    if !settings.conversation_enabled {
        return Err(ApiError::Code(Code::ConversationsDisabled));
    }
    Ok(())
}

/// A read-only app key may not send (31304), checked before the parameters.
fn writable(caller: &Caller) -> Result<(), ApiError> {
    if caller.key.is_read_only {
        return Err(ApiError::Code(Code::KeyReadOnly));
    }
    Ok(())
}

pub(super) async fn mark_as_read(me: Me, input: Input<SelectionRequest>) -> Reply {
    let request = input.parse::<Selection>();
    me.run(move |conn, now, myself| {
        conversations::mark_read(conn, &myself.user, &request?, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, ()))
}

pub(super) async fn delete_conversation(me: Me, input: Input<SelectionRequest>) -> Reply {
    let request = input.parse::<Selection>();
    me.run(move |conn, now, myself| {
        conversations::delete_messages(conn, &myself.user, &request?, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, ()))
}

pub(super) async fn pin_conversation(me: Me, input: Input<PinRequest>) -> Reply {
    let request = input.parse::<ThreadId>();
    me.run(move |conn, now, myself| {
        conversations::toggle_pin(conn, &myself.user, request?, now)?;
        Ok(())
    })
    .await?;
    Ok(ok(me.view.lang, ()))
}

/// `POST /api/v2/common/upload-file` for a conversation message: the file is
/// checked against the configured kinds and limits while it streams in, then
/// the sender's permission to message the recipient (`tableKey`) is checked
/// before it is stored. The File Info's `fid` is what send-message takes.
pub(super) async fn upload_file(me: Me, http: HttpRequest, form: Multipart) -> Reply {
    // The caller is checked before a byte of the upload is read.
    let (Myself { user, .. }, ()) = me.run(|_conn, _now, _myself| Ok(())).await?;
    let state = &me.state;
    let allowed = state.settings().fresns.conversation_kinds();
    let policy = state.settings().files.policy(&allowed);
    let received = files::receive(state, form, policy)
        .await
        .map_err(upload_error)?;
    let recipient = match upload_target(state, &user, &received, &allowed).await {
        Ok(recipient) => recipient,
        Err(e) => {
            received.discard().await;
            return Err(e);
        }
    };
    let stored = files::store(state, &user, received, Some(recipient.id))
        .await
        .map_err(upload_error)?;
    Ok(ok(
        me.view.lang,
        file_info(&stored, &files::origin(&http, state)),
    ))
}

/// Whom an upload is for: its form names them, and `sender` must be allowed
/// to message them.
async fn upload_target(
    state: &AppState,
    sender: &User,
    received: &files::Received,
    allowed: &[FileKind],
) -> Result<User, ApiError> {
    let form: UploadForm = form_fields(&received.fields)?;
    let to = upload_recipient(&form, allowed, received.file.meta.kind)?;
    conversations_on(&state.settings().fresns)?;
    let sender = sender.clone();
    state
        .run_with(move |conn, _now| {
            let recipient =
                accounts::find_user(conn, &to)?.ok_or(ApiError::Code(Code::UserUnknown))?;
            conversations::messaging_permission(conn, &sender, &recipient)?
                .map_err(|refusal| ApiError::Code(messaging_code(refusal)))?;
            Ok(recipient)
        })
        .await
}
