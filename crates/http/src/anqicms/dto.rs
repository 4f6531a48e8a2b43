//! The AnQiCMS wire shapes. Requests take every field as optional so the
//! validation in `convert` can name what is missing; unknown fields are ignored
//! (clients send extras such as `sender_id`, `captcha` or `remember`).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `{code, msg, data, total}`: `data` and `total` appear only when there is one.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Envelope<T: Serialize> {
    /// 0 for success; -1 for a refusal (its reason in `msg`), 1001 for a
    /// missing or expired login.
    code: i32,
    msg: String,
    // Inline: a generic argument is not registered as a named schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    data: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
}

impl<T: Serialize> Envelope<T> {
    pub(super) fn ok(msg: &str, data: T) -> Self {
        Self {
            code: super::error::OK,
            msg: msg.to_owned(),
            data: Some(data),
            total: None,
        }
    }

    pub(super) fn list(data: T, total: i64) -> Self {
        Self {
            code: super::error::OK,
            msg: String::new(),
            data: Some(data),
            total: Some(total),
        }
    }

    pub(super) fn error(code: i32, msg: String) -> Self {
        Self {
            code,
            msg,
            data: None,
            total: None,
        }
    }

    /// This envelope as the body of `builder`'s response, its code noted for
    /// the request log.
    pub(super) fn respond(&self, mut builder: HttpResponseBuilder) -> HttpResponse {
        let mut res = builder.json(self);
        crate::ops::mark(&mut res, super::NAME, self.code);
        res
    }

    /// [`respond`](Self::respond) with 200, the body written into `capacity`
    /// bytes reserved up front.
    pub(super) fn respond_sized(&self, capacity: usize) -> Result<HttpResponse, serde_json::Error> {
        let mut res = crate::body::json_sized(self, capacity)?;
        crate::ops::mark(&mut res, super::NAME, self.code);
        Ok(res)
    }
}

/// `GET /api/communication/orders` (and the staff list): a page, optionally
/// of one `status`. (Paging is spelt out, not flattened: see `fresns::dto`.)
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct OrdersQuery {
    pub(super) current: Option<String>,
    pub(super) page_size: Option<String>,
    #[serde(rename = "pageSize")]
    pub(super) page_size_alias: Option<String>,
    pub(super) status: Option<String>,
}

/// `GET /api/communication/order/detail`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct DetailQuery {
    #[param(required = true)]
    pub(super) id: Option<String>,
}

/// `GET /api/communication/messages`: a page, or colloq's keyset extension,
/// `page_size` messages just before `before_id` or just after `after_id`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct MessagesQuery {
    #[param(required = true)]
    pub(super) comm_order_id: Option<String>,
    pub(super) current: Option<String>,
    pub(super) page_size: Option<String>,
    #[serde(rename = "pageSize")]
    pub(super) page_size_alias: Option<String>,
    pub(super) before_id: Option<String>,
    pub(super) after_id: Option<String>,
}

/// `POST /api/register`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct RegisterRequest {
    pub(super) user_name: Option<String>,
    pub(super) password: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) real_name: Option<String>,
}

/// `POST /api/login` and `POST /system/api/login`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct LoginRequest {
    pub(super) user_name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) password: Option<String>,
}

/// `POST /api/communication/order/create`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct CreateOrderRequest {
    pub(super) archive_id: Option<i64>,
    pub(super) title: Option<String>,
    pub(super) content: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) images: Option<Vec<String>>,
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub(super) order_extra: Option<BTreeMap<String, serde_json::Value>>,
}

/// `POST /api/communication/order/update`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct UpdateOrderRequest {
    pub(super) id: Option<i64>,
    pub(super) title: Option<String>,
    pub(super) content: Option<String>,
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub(super) order_extra: Option<BTreeMap<String, serde_json::Value>>,
}

/// Bodies that name only an order: accept, reject, cancel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct OrderIdRequest {
    pub(super) id: Option<i64>,
}

/// `POST /api/communication/message/send`. `sender_id`, `sender_type` and
/// `sender_name` are accepted and ignored: the sender is the token's owner.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct SendMessageRequest {
    pub(super) comm_order_id: Option<i64>,
    pub(super) message_type: Option<String>,
    pub(super) content: Option<String>,
}

/// `POST /system/api/communication/order/quote`. The price may come as a string
/// (AnQiCMS's type) or a number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct QuoteRequest {
    pub(super) id: Option<i64>,
    #[schema(value_type = Option<String>, examples("1200.50"))]
    pub(super) quote_price: Option<serde_json::Value>,
    pub(super) quote_content: Option<String>,
}

/// `POST /system/api/communication/order/status`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct StatusRequest {
    pub(super) id: Option<i64>,
    pub(super) status: Option<i64>,
}

/// `POST /system/api/communication/order/images`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(super) struct ImagesRequest {
    pub(super) id: Option<i64>,
    pub(super) sketch_images: Option<Vec<String>>,
    pub(super) finished_images: Option<Vec<String>>,
}

/// A user as AnQiCMS's `model.User` shows one (password never included).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UserDto {
    pub(super) id: i64,
    pub(super) created_time: i64,
    pub(super) updated_time: i64,
    pub(super) parent_id: i64,
    pub(super) user_name: String,
    pub(super) real_name: String,
    pub(super) avatar_url: String,
    pub(super) full_avatar_url: String,
    pub(super) introduce: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) group_id: i64,
    pub(super) status: i32,
    pub(super) is_retailer: i32,
    pub(super) balance: i64,
    pub(super) expire_time: i64,
    pub(super) token: String,
}

/// A communication order with AnQiCMS's fields, plus `message_count`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct OrderDto {
    pub(super) id: i64,
    pub(super) order_id: i64,
    pub(super) user_id: i64,
    pub(super) created_time: i64,
    pub(super) updated_time: i64,
    pub(super) archive_id: i64,
    pub(super) phone: String,
    pub(super) images: Vec<String>,
    pub(super) sketch_images: Vec<String>,
    pub(super) finished_images: Vec<String>,
    pub(super) title: String,
    pub(super) content: String,
    pub(super) event_date: String,
    pub(super) status: i32,
    pub(super) admin_id: i64,
    pub(super) quote_price: String,
    pub(super) quote_content: String,
    pub(super) order_extra: BTreeMap<String, String>,
    pub(super) thumb: String,
    pub(super) message_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user: Option<UserDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) messages: Option<Vec<MessageDto>>,
}

/// A message in the shape of the AnQiCMS communication API, plus `created_time`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MessageDto {
    pub(super) id: i64,
    pub(super) comm_order_id: i64,
    pub(super) sender_id: i64,
    #[schema(value_type = String)]
    pub(super) sender_type: &'static str,
    pub(super) sender_name: String,
    #[schema(value_type = String)]
    pub(super) message_type: &'static str,
    pub(super) content: String,
    pub(super) created_time: i64,
}

/// An uploaded file (`POST /api/attachment/upload`), with upstream's attachment
/// keys (AnQiCMS `model.Attachment`) plus `mime`, an extension.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AttachmentDto {
    pub(super) id: i64,
    pub(super) user_id: i64,
    pub(super) file_name: String,
    pub(super) file_location: String,
    pub(super) file_size: u64,
    pub(super) file_md5: String,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) category_id: i64,
    pub(super) is_image: i32,
    pub(super) status: i32,
    pub(super) logo: String,
    pub(super) thumb: String,
    pub(super) mime: String,
    pub(super) created_time: i64,
    pub(super) updated_time: i64,
}
