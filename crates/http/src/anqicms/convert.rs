//! Between the AnQiCMS wire and the domain. Validation failures become
//! [`ApiError::BadRequest`] naming the wire parameter.

use std::collections::BTreeMap;

use colloq_core::messages::SendMessage;
use colloq_domain::DomainError;
use colloq_domain::ids::MessageId;
use colloq_domain::ids::OrderId;
use colloq_domain::message::{Message, MessageBody, MessageType, SenderRole};
use colloq_domain::order::{
    NewOrder, Order, OrderEdit, OrderExtra, OrderImages, OrderStatus, Quote,
};
use colloq_domain::page::{Cursor, PageRequest};
use colloq_domain::user::{Email, LoginName, NewUser, Phone, PlainPassword, User, Username};

use super::dto::{
    CreateOrderRequest, DetailQuery, ImagesRequest, LoginRequest, MessageDto, MessagesQuery,
    OrderDto, OrdersQuery, QuoteRequest, RegisterRequest, SendMessageRequest, UpdateOrderRequest,
    UserDto,
};
use super::error::ApiError;

/// The page-size cap of the AnQiCMS dialect: a page never lists more than 100.
const MAX_PAGE_SIZE: i64 = 100;
/// The page size when none is given, as AnQiCMS lists.
const DEFAULT_PAGE_SIZE: i64 = 10;

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

fn domain(err: DomainError) -> ApiError {
    bad(err.to_string())
}

/// An optional integer parameter; an empty value counts as absent.
fn int_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_not_int| bad(format!("{name} must be an integer"))),
    }
}

/// A required positive id from the query string.
fn id_param(name: &str, value: Option<&str>) -> Result<OrderId, ApiError> {
    match int_param(name, value)? {
        None => Err(bad(format!("{name} is required"))),
        Some(id) => positive_id(name, Some(id)),
    }
}

/// A required positive id from a body field.
pub(super) fn positive_id(name: &str, id: Option<i64>) -> Result<OrderId, ApiError> {
    match id {
        None => Err(bad(format!("{name} is required"))),
        Some(id) if id >= 1 => Ok(OrderId(id)),
        Some(_) => Err(bad(format!("{name} must be a positive integer"))),
    }
}

/// `current` and `page_size` (or its alias `pageSize`; `page_size` wins).
fn page(
    current: Option<&str>,
    page_size: Option<&str>,
    alias: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let current = int_param("current", current)?.unwrap_or(1);
    if current < 1 {
        return Err(bad("current must be a positive integer"));
    }
    let (size_name, size) = match page_size.filter(|v| !v.trim().is_empty()) {
        Some(size) => ("page_size", Some(size)),
        None => ("pageSize", alias),
    };
    let size_range = || {
        bad(format!(
            "{size_name} must be an integer between 1 and {MAX_PAGE_SIZE}"
        ))
    };
    let size = match size.map(str::trim) {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(raw) => raw.parse::<i64>().map_err(|_not_int| size_range())?,
    };
    PageRequest::new(current, size, MAX_PAGE_SIZE).map_err(|_out_of_range| size_range())
}

/// The order list's optional `status` filter and its page.
pub(super) fn orders_query(
    q: &OrdersQuery,
) -> Result<(Option<OrderStatus>, PageRequest), ApiError> {
    let status = int_param("status", q.status.as_deref())?
        .map(OrderStatus::from_code)
        .transpose()
        .map_err(domain)?;
    let page = page(
        q.current.as_deref(),
        q.page_size.as_deref(),
        q.page_size_alias.as_deref(),
    )?;
    Ok((status, page))
}

/// The order an order's detail asks for.
pub(super) fn detail_query(q: &DetailQuery) -> Result<OrderId, ApiError> {
    id_param("id", q.id.as_deref())
}

/// The order whose messages are asked for, and which of them: a page, or —
/// colloq's keyset extension — `before_id` / `after_id` with `page_size`
/// messages just before or after that message.
pub(super) fn messages_query(q: &MessagesQuery) -> Result<(OrderId, Cursor), ApiError> {
    let id = id_param("comm_order_id", q.comm_order_id.as_deref())?;
    let page = page(
        q.current.as_deref(),
        q.page_size.as_deref(),
        q.page_size_alias.as_deref(),
    )?;
    let anchor = |name: &str, value: &Option<String>| -> Result<Option<MessageId>, ApiError> {
        match int_param(name, value.as_deref())? {
            None => Ok(None),
            Some(id) if id >= 1 => Ok(Some(MessageId(id))),
            Some(_) => Err(bad(format!("{name} must be a positive integer"))),
        }
    };
    let cursor = match (
        anchor("before_id", &q.before_id)?,
        anchor("after_id", &q.after_id)?,
    ) {
        (Some(_), Some(_)) => return Err(bad("before_id and after_id cannot be used together")),
        (Some(id), None) => Cursor::Before {
            id,
            limit: page.size(),
        },
        (None, Some(id)) => Cursor::After {
            id,
            limit: page.size(),
        },
        (None, None) => Cursor::Page(page),
    };
    Ok((id, cursor))
}

fn required<'a>(name: &str, value: Option<&'a String>) -> Result<&'a str, ApiError> {
    match value.map(|v| v.trim()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(bad(format!("{name} is required"))),
    }
}

impl TryFrom<RegisterRequest> for NewUser {
    type Error = ApiError;

    fn try_from(req: RegisterRequest) -> Result<Self, ApiError> {
        let username =
            Username::parse(required("user_name", req.user_name.as_ref())?).map_err(domain)?;
        let password = PlainPassword::parse(req.password.unwrap_or_default()).map_err(domain)?;
        let email = non_empty(req.email)
            .map(|e| Email::parse(&e))
            .transpose()
            .map_err(domain)?;
        let phone = non_empty(req.phone)
            .map(|p| Phone::parse(&p))
            .transpose()
            .map_err(domain)?;
        if email.is_none() && phone.is_none() {
            return Err(bad("email or phone is required"));
        }
        Ok(Self {
            username,
            password,
            email,
            phone,
            nickname: non_empty(req.real_name),
            is_staff: false,
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A login name and password; like upstream, `email` or `phone` (when given)
/// replaces `user_name`, and a `user_name` shaped like either is looked up as one.
pub(super) fn login_request(req: LoginRequest) -> Result<(LoginName, PlainPassword), ApiError> {
    let name = if let Some(email) = non_empty(req.email) {
        LoginName::Email(Email::parse(&email).map_err(domain)?)
    } else if let Some(phone) = non_empty(req.phone) {
        LoginName::Phone(Phone::parse(&phone).map_err(domain)?)
    } else {
        let raw =
            non_empty(req.user_name).ok_or_else(|| bad("user_name, email or phone is required"))?;
        if let Some(email) = Email::parse(&raw).ok().filter(|_| raw.contains('@')) {
            LoginName::Email(email)
        } else if let Some(phone) = Phone::parse(&raw)
            .ok()
            .filter(|_| raw.chars().all(|c| c.is_ascii_digit() || c == '+'))
        {
            LoginName::Phone(phone)
        } else {
            LoginName::Username(raw)
        }
    };
    let password = req
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("password is required"))?;
    Ok((name, PlainPassword::offered(password)))
}

/// `order_extra` values may be strings or numbers on the wire; they are kept as text.
fn extra(raw: BTreeMap<String, serde_json::Value>) -> OrderExtra {
    raw.into_iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (key, text)
        })
        .collect()
}

impl TryFrom<CreateOrderRequest> for NewOrder {
    type Error = ApiError;

    fn try_from(req: CreateOrderRequest) -> Result<Self, ApiError> {
        let archive_id = req
            .archive_id
            .ok_or_else(|| bad("archive_id is required"))?;
        Self::parse(
            archive_id,
            required("title", req.title.as_ref())?,
            required("content", req.content.as_ref())?,
            required("phone", req.phone.as_ref())?,
            req.images.unwrap_or_default(),
            extra(req.order_extra.unwrap_or_default()),
        )
        .map_err(domain)
    }
}

impl TryFrom<UpdateOrderRequest> for (OrderId, OrderEdit) {
    type Error = ApiError;

    fn try_from(req: UpdateOrderRequest) -> Result<Self, ApiError> {
        let id = positive_id("id", req.id)?;
        let edit = OrderEdit::parse(
            req.title.as_deref(),
            req.content.as_deref(),
            req.order_extra.map(extra),
        )
        .map_err(domain)?;
        Ok((id, edit))
    }
}

impl TryFrom<SendMessageRequest> for (OrderId, SendMessage) {
    type Error = ApiError;

    fn try_from(req: SendMessageRequest) -> Result<Self, ApiError> {
        let id = positive_id("comm_order_id", req.comm_order_id)?;
        let kind = MessageType::parse(required("message_type", req.message_type.as_ref())?)
            .map_err(domain)?;
        let body = MessageBody::parse(req.content.unwrap_or_default()).map_err(domain)?;
        Ok((
            id,
            SendMessage {
                kind,
                body,
                attachment: None,
                key: None,
            },
        ))
    }
}

impl TryFrom<QuoteRequest> for (OrderId, Quote) {
    type Error = ApiError;

    fn try_from(req: QuoteRequest) -> Result<Self, ApiError> {
        let id = positive_id("id", req.id)?;
        let price = match req.quote_price {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            None | Some(serde_json::Value::Null) => String::new(),
            Some(_) => return Err(bad("quote_price must be a string or a number")),
        };
        let quote = Quote::parse(&price, req.quote_content.as_deref().unwrap_or_default())
            .map_err(domain)?;
        Ok((id, quote))
    }
}

impl TryFrom<ImagesRequest> for (OrderId, OrderImages) {
    type Error = ApiError;

    fn try_from(req: ImagesRequest) -> Result<Self, ApiError> {
        let id = positive_id("id", req.id)?;
        let images = OrderImages::parse(req.sketch_images, req.finished_images).map_err(domain)?;
        Ok((id, images))
    }
}

/// A user, with the token when one was just issued.
pub(super) fn user_dto(user: User, token: Option<&str>) -> UserDto {
    UserDto {
        id: user.id.get(),
        created_time: user.created_at.timestamp(),
        updated_time: user.updated_at.timestamp(),
        parent_id: 0,
        real_name: user.nickname,
        user_name: user.username,
        full_avatar_url: user.avatar_url.clone(),
        avatar_url: user.avatar_url,
        introduce: String::new(),
        email: user.email.unwrap_or_default(),
        phone: user.phone.unwrap_or_default(),
        group_id: 0,
        status: 1,
        is_retailer: 0,
        balance: 0,
        expire_time: 0,
        token: token.unwrap_or_default().to_owned(),
    }
}

impl From<Message> for MessageDto {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.get(),
            comm_order_id: m.thread.get(),
            sender_id: m.sender.map_or(0, |s| s.get()),
            sender_type: match m.role {
                SenderRole::User => "user",
                SenderRole::Staff => "admin",
                SenderRole::System => "system",
            },
            sender_name: m.sender_name,
            message_type: m.kind.as_str(),
            content: m.body,
            created_time: m.created_at.timestamp(),
        }
    }
}

impl From<Order> for OrderDto {
    fn from(o: Order) -> Self {
        Self {
            id: o.id.get(),
            order_id: o.shop_order_id,
            user_id: o.owner.get(),
            created_time: o.created_at.timestamp(),
            updated_time: o.updated_at.timestamp(),
            archive_id: o.archive_id,
            phone: o.phone,
            thumb: o.images.first().cloned().unwrap_or_default(),
            images: o.images,
            sketch_images: o.sketch_images,
            finished_images: o.finished_images,
            title: o.title,
            content: o.content,
            event_date: o.event_date,
            status: o.status.code(),
            admin_id: o.admin.map_or(0, |a| a.get()),
            quote_price: o.quote_price,
            quote_content: o.quote_content,
            order_extra: o.order_extra,
            message_count: o.message_count,
            user: None,
            messages: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_params(query: &str) -> Result<PageRequest, ApiError> {
        let q: OrdersQuery = crate::params::fields(query).map_err(|e| bad(e.to_string()))?;
        orders_query(&q).map(|(_, page)| page)
    }

    fn message(err: ApiError) -> String {
        err.to_string()
    }

    #[test]
    fn page_defaults_and_alias() {
        assert_eq!(page_params("").ok(), PageRequest::new(1, 10, 100).ok());
        assert_eq!(
            page_params("pageSize=5").ok(),
            PageRequest::new(1, 5, 100).ok()
        );
        assert_eq!(
            page_params("pageSize=5&page_size=7&current=2").ok(),
            PageRequest::new(2, 7, 100).ok()
        );
    }

    #[test]
    fn bad_page_parameters_are_named() {
        for (query, name) in [
            ("current=x", "current"),
            ("current=0", "current"),
            ("current=-3", "current"),
            ("page_size=0", "page_size"),
            ("page_size=101", "page_size"),
            ("page_size=9223372036854775808", "page_size"),
            ("pageSize=-1", "pageSize"),
        ] {
            let err = page_params(query).map(|_| ()).map_err(message);
            assert!(
                err.as_ref().is_err_and(|m| m.starts_with(name)),
                "{query}: {err:?}"
            );
        }
    }

    #[test]
    fn login_names_are_recognised() {
        let req = |user_name: &str| LoginRequest {
            user_name: Some(user_name.to_owned()),
            password: Some("pw".to_owned()),
            ..LoginRequest::default()
        };
        assert!(matches!(
            login_request(req("a@b.io")),
            Ok((LoginName::Email(_), _))
        ));
        assert!(matches!(
            login_request(req("13800000000")),
            Ok((LoginName::Phone(_), _))
        ));
        assert!(matches!(
            login_request(req("alice")),
            Ok((LoginName::Username(_), _))
        ));
    }
}
