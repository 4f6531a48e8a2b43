//! The AnQiCMS paths. Routes are mounted with their full paths rather than under
//! an `/api` scope, so the Fresns dialect's `/api/v2` can live beside them.

use actix_web::{HttpResponse, Resource, Route, web};
use colloq_domain::order::OrderAction;

use super::dto::Envelope;
use super::error::FAILED;
use super::extract::{Anyone, Customer, Staff};
use super::handlers as h;

/// Mounts the dialect.
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(at("/api/register", web::post().to(h::register_user)))
        .service(at("/api/login", web::post().to(h::login_user)))
        .service(at("/api/logout", web::post().to(h::logout::<Customer>)))
        .service(at("/api/user/detail", web::get().to(h::user_detail)))
        .service(at(
            "/api/communication/fields",
            web::get().to(h::list_fields),
        ))
        .service(at(
            "/api/communication/orders",
            web::get().to(h::list_orders::<Anyone>),
        ))
        .service(at(
            "/api/communication/order/create",
            web::post().to(h::create_order),
        ))
        .service(at(
            "/api/communication/order/detail",
            web::get().to(h::order_detail::<Anyone>),
        ))
        .service(at(
            "/api/communication/order/update",
            web::post().to(h::update_order),
        ))
        // One static path per verb rather than `{verb:(accept|reject|cancel)}`:
        // actix-router tries a path with a parameter by running its regex on
        // every request that gets that far, and this one stood before the
        // message routes.
        .service(at(
            "/api/communication/order/accept",
            customer_action(OrderAction::Accept),
        ))
        .service(at(
            "/api/communication/order/reject",
            customer_action(OrderAction::Reject),
        ))
        .service(at(
            "/api/communication/order/cancel",
            customer_action(OrderAction::CustomerCancel),
        ))
        .service(at(
            "/api/communication/messages",
            web::get().to(h::list_messages::<Anyone>),
        ))
        .service(at(
            "/api/communication/message/send",
            web::post().to(h::send_message::<Anyone>),
        ))
        .service(at(
            "/api/attachment/upload",
            web::post().to(h::upload_attachment::<Anyone>),
        ))
        .service(at(
            "/system/api/attachment/upload",
            web::post().to(h::upload_attachment::<Staff>),
        ))
        .service(at("/system/api/login", web::post().to(h::login_staff)))
        .service(at("/system/api/logout", web::post().to(h::logout::<Staff>)))
        .service(at(
            "/system/api/communication/orders",
            web::get().to(h::list_orders::<Staff>),
        ))
        .service(at(
            "/system/api/communication/order/detail",
            web::get().to(h::order_detail::<Staff>),
        ))
        .service(at(
            "/system/api/communication/messages",
            web::get().to(h::list_messages::<Staff>),
        ))
        .service(at(
            "/system/api/communication/message/send",
            web::post().to(h::send_message::<Staff>),
        ))
        .service(at(
            "/system/api/communication/order/quote",
            web::post().to(h::quote_order),
        ))
        .service(at(
            "/system/api/communication/order/status",
            web::post().to(h::set_order_status),
        ))
        .service(at(
            "/system/api/communication/order/images",
            web::post().to(h::set_order_images),
        ));
}

fn customer_action(action: OrderAction) -> Route {
    web::post().to(move |who, body| h::customer_action(who, body, action))
}

/// A resource whose wrong methods get the envelope instead of an empty 405.
fn at(path: &str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(wrong_method))
}

async fn wrong_method() -> HttpResponse {
    Envelope::<()>::error(
        FAILED,
        "this endpoint does not accept that HTTP method".to_owned(),
    )
    .respond(HttpResponse::MethodNotAllowed())
}
