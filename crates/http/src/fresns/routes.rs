//! The Fresns paths, under `/api/v2`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::codes::Lang;
use super::error::Failure;
use super::handlers as h;

/// Mounts the dialect.
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    // A static file on a Fresns site: no envelope, no signature.
    cfg.route("/status.json", web::get().to(h::site_status));
    cfg.service(
        web::scope("/api/v2")
            .wrap(from_fn(localize))
            .route("/global/configs", web::get().to(h::global_configs))
            .route("/global/code-messages", web::get().to(h::code_messages))
            .route("/common/ip-info", web::get().to(h::ip_info))
            .route("/account/login", web::post().to(h::login_account))
            .route("/account/logout", web::delete().to(h::logout_account))
            .route("/user/auth", web::post().to(h::auth_user))
            .route("/user/panel", web::get().to(h::user_panel))
            .route("/conversation/list", web::get().to(h::list_conversations))
            .route("/common/upload-file", web::post().to(h::upload_file))
            .route(
                "/conversation/send-message",
                web::post().to(h::send_message),
            )
            .route("/conversation/mark-as-read", web::put().to(h::mark_as_read))
            .route("/conversation/pin", web::put().to(h::pin_conversation))
            .route(
                "/conversation/delete",
                web::delete().to(h::delete_conversation),
            )
            // Paths with a parameter come last, the hot one first: actix-router
            // tries each with a regex, static paths with a string comparison.
            .route(
                "/conversation/{conversationId}/messages",
                web::get().to(h::conversation_messages),
            )
            .route(
                "/conversation/{conversationId}/detail",
                web::get().to(h::conversation_detail),
            )
            .default_service(web::to(unknown)),
    );
}

async fn unknown() -> HttpResponse {
    let mut res = HttpResponse::NotFound()
        .json(json!({"code": 404, "message": "No such endpoint", "data": null}));
    crate::ops::mark(&mut res, super::DIALECT, 404);
    res
}

/// Re-renders failures in the request's language and adds upstream's
/// informational headers to every answer.
async fn localize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let lang = Lang::from_headers(req.headers());
    let res = next.call(req).await?;
    let failure = res.response().extensions().get::<Failure>().cloned();
    let mut res = match failure {
        Some(failure) if lang != Lang::En => res
            .into_response(failure.render(lang))
            .map_into_right_body(),
        _ => res.map_into_left_body(),
    };
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("fresns-api"),
        HeaderValue::from_static("v2"),
    );
    headers.insert(
        HeaderName::from_static("fresns-version"),
        HeaderValue::from_static("2.21.4"),
    );
    Ok(res)
}
