//! The dialects colloq serves: the one list the application mounts and
//! documents. A dialect is a module that owns its routes, middleware, state,
//! 404, error envelope and login doors (its `mount`) and its OpenAPI document
//! (its `document`); adding one is that module and a line in [`ALL`].

use actix_web::web;

use crate::AppState;

/// One API dialect, as the application sees it.
#[derive(Clone, Copy)]
pub(crate) struct Dialect {
    /// Its short name: the `dialect` label of its metrics.
    pub(crate) name: &'static str,
    /// Its name on the browsable page.
    pub(crate) title: &'static str,
    /// Where its OpenAPI document is served: `/openapi/{name}.json`.
    pub(crate) document_path: &'static str,
    /// Mounts everything it answers.
    pub(crate) mount: fn(&mut web::ServiceConfig, &AppState),
    /// Writes its OpenAPI document.
    pub(crate) document: fn() -> serde_json::Value,
}

impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialect")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every dialect, mounted in this order. A dialect whose paths lie under
/// another's prefix comes first: Fresns's `/api/v2/` before AnQiCMS's `/api/`,
/// whose scope would otherwise answer them with its own 404.
pub(crate) const ALL: &[Dialect] = &[crate::fresns::DIALECT, crate::anqicms::DIALECT];

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use actix_web::HttpResponse;
    use actix_web::test as call;
    use colloq_core::Clock;
    use colloq_persistence::Writer;
    use colloq_persistence::testing::TestDatabase;
    use serde_json::{Value, json};

    use super::*;
    use crate::Settings;

    /// A third dialect, whole: its routes, its own 404, its document. This
    /// module and the line of [`WITH_TOY`] are all it takes.
    mod toy {
        use super::*;

        pub(super) const DIALECT: Dialect = Dialect {
            name: "toy",
            title: "Toy",
            document_path: "/openapi/toy.json",
            mount,
            document,
        };

        fn mount(cfg: &mut web::ServiceConfig, _state: &AppState) {
            cfg.service(
                web::scope("/toy")
                    .route(
                        "/ping",
                        web::get().to(|| async { HttpResponse::Ok().json(json!({"toy": "pong"})) }),
                    )
                    .default_service(web::to(|| async {
                        HttpResponse::NotFound().json(json!({"toy": "no such toy"}))
                    })),
            );
        }

        fn document() -> Value {
            json!({"openapi": "3.1.0", "info": {"title": "Toy", "version": "1"}, "paths": {}})
        }
    }

    const WITH_TOY: &[Dialect] = &[
        crate::fresns::DIALECT,
        crate::anqicms::DIALECT,
        toy::DIALECT,
    ];

    async fn get(
        app: &impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
        uri: &str,
    ) -> (u16, Value) {
        let res = call::call_service(app, call::TestRequest::get().uri(uri).to_request()).await;
        let status = res.status().as_u16();
        let body = call::read_body(res).await;
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[actix_web::test]
    async fn a_new_dialect_is_its_module_and_one_line() {
        let db = TestDatabase::new().unwrap();
        let pool = db.pool(2).unwrap();
        let writer = Writer::start(&db.manager().unwrap());
        let files = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.files.dir = files.path().join("store");
        let state = AppState::new(pool, writer, settings, Clock::default()).unwrap();
        let app = call::init_service(crate::app_of(state, WITH_TOY)).await;

        assert_eq!(get(&app, "/toy/ping").await, (200, json!({"toy": "pong"})));
        assert_eq!(
            get(&app, "/toy/else").await,
            (404, json!({"toy": "no such toy"})),
            "the new dialect answers its own unknown paths"
        );
        assert_eq!(
            get(&app, "/openapi/toy.json").await.1["info"]["title"],
            "Toy"
        );
        // The others are as they were.
        let (status, fields) = get(&app, "/api/communication/fields").await;
        assert_eq!((status, fields["code"].clone()), (200, json!(0)));
        assert_eq!(get(&app, "/openapi/fresns.json").await.0, 200);
        let (_, unknown) = get(&app, "/api/v2/no-such-thing").await;
        assert!(
            unknown.get("message").is_some(),
            "Fresns's own 404: {unknown}"
        );
        assert_eq!(
            get(&app, "/elsewhere").await,
            (
                404,
                json!({"error": "not_found", "message": "no such endpoint"})
            )
        );
    }

    #[test]
    fn names_are_distinct_and_name_the_documents() {
        let mut names: Vec<_> = ALL.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for dialect in ALL {
            assert_eq!(
                dialect.document_path,
                format!("/openapi/{}.json", dialect.name)
            );
        }
    }
}
