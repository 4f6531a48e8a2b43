//! The published API descriptions: one OpenAPI 3.1 document per dialect,
//! served at `/openapi/{dialect}.json`, with Swagger UI (bundled in the
//! binary, nothing from a CDN) at `/openapi/`.
//!
//! A dialect describes each route once, as an [`Endpoint`]: the same value
//! mounts the route and writes its entry in the document, and the request and
//! answer shapes come from the wire types' `ToSchema` derives. So the
//! documents cannot name a path, a method or a field the server does not have.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, Route, web};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, ResponsesBuilder, Schema, Type,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_swagger_ui::{SwaggerUi, Url};

use crate::dialects;

/// Named schemas an answer or a body refers to, collected for `components`.
pub(crate) type Schemas = Vec<(String, RefOr<Schema>)>;

/// Writes one schema, adding the named schemas it refers to.
pub(crate) type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// `T` as a named schema in `components`, referred to by `$ref`.
pub(crate) fn named<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    Ref::from_schema_name(T::name()).into()
}

/// `T` written in place (a generic envelope around a named schema).
pub(crate) fn inline<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    T::schema()
}

/// How a request carries its body.
#[derive(Debug, Clone, Copy)]
enum BodyKind {
    Json,
    Multipart,
}

/// One route of a dialect: mounted by the dialect's `config`, described in
/// its document.
pub(crate) struct Endpoint {
    method: Method,
    path: &'static str,
    route: Route,
    summary: &'static str,
    security: &'static [&'static str],
    params: fn() -> Vec<Parameter>,
    body: Option<(BodyKind, SchemaFn)>,
    reply: Option<SchemaFn>,
}

impl Endpoint {
    /// `handler` at `method path`; `path` as mounted (inside the dialect's
    /// scope, if it has one).
    pub(crate) fn new<F, Args>(
        method: Method,
        path: &'static str,
        summary: &'static str,
        handler: F,
    ) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self {
            route: web::method(method.clone()).to(handler),
            method,
            path,
            summary,
            security: &[],
            params: Vec::new,
            body: None,
            reply: None,
        }
    }

    /// Callable only with all of these security schemes.
    pub(crate) fn auth(mut self, security: &'static [&'static str]) -> Self {
        self.security = security;
        self
    }

    /// Takes the query parameters `Q` describes.
    pub(crate) fn query<Q: IntoParams>(mut self) -> Self {
        self.params = || Q::into_params(|| Some(ParameterIn::Query));
        self
    }

    /// Takes a JSON body.
    pub(crate) fn json(mut self, schema: SchemaFn) -> Self {
        self.body = Some((BodyKind::Json, schema));
        self
    }

    /// Takes a `multipart/form-data` body.
    pub(crate) fn multipart(mut self, schema: SchemaFn) -> Self {
        self.body = Some((BodyKind::Multipart, schema));
        self
    }

    /// Answers HTTP 200 with this schema.
    pub(crate) fn reply(mut self, schema: SchemaFn) -> Self {
        self.reply = Some(schema);
        self
    }

    /// The route as a resource; any other method is answered by `refuse`
    /// (a 405 in the dialect's envelope, with `Allow`).
    pub(crate) fn into_resource(self, refuse: fn(&Method) -> HttpResponse) -> Resource {
        let allowed = self.method;
        web::resource(self.path)
            .route(self.route)
            .default_service(web::to(move || std::future::ready(refuse(&allowed))))
    }
}

/// A security scheme: a token in the header `name`.
pub(crate) fn header_key(name: &str, description: &str) -> SecurityScheme {
    let mut value = ApiKeyValue::new(name);
    value.description = Some(description.to_owned());
    SecurityScheme::ApiKey(ApiKey::Header(value))
}

/// What a dialect's document says besides its endpoints.
pub(crate) struct Dialect {
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) security: Vec<(&'static str, SecurityScheme)>,
    /// The body of an answer other than 200 (a wrong method, 408, 429, 503).
    pub(crate) failure: SchemaFn,
}

/// The OpenAPI document of `dialect`, whose endpoints are mounted in groups
/// under a scope (`""` for none).
pub(crate) fn document(dialect: Dialect, groups: Vec<(&str, Vec<Endpoint>)>) -> serde_json::Value {
    let mut schemas = Schemas::new();
    let failure = (dialect.failure)(&mut schemas);
    let mut paths = PathsBuilder::new();
    for (scope, e) in groups
        .into_iter()
        .flat_map(|(scope, endpoints)| endpoints.into_iter().map(move |e| (scope, e)))
    {
        let mut op = OperationBuilder::new()
            .summary(Some(e.summary))
            .operation_id(Some(operation_id(&e.method, &format!("{scope}{}", e.path))))
            .parameters(Some(path_parameters(e.path).chain((e.params)())));
        if !e.security.is_empty() {
            let mut requirement = SecurityRequirement::default();
            for name in e.security {
                requirement = requirement.add(*name, Vec::<String>::new());
            }
            op = op.security(requirement);
        }
        if let Some((kind, schema)) = e.body {
            let content_type = match kind {
                BodyKind::Json => "application/json",
                BodyKind::Multipart => "multipart/form-data",
            };
            let content = ContentBuilder::new().schema(Some(schema(&mut schemas)));
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(content_type, content.build())
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        let mut ok = ResponseBuilder::new().description("The answer, or a refusal in the envelope");
        if let Some(reply) = e.reply {
            ok = ok.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(reply(&mut schemas)))
                    .build(),
            );
        }
        let failed = ResponseBuilder::new()
            .description("Refused before or outside the use case: a wrong method (405), a stalled body (408), too many requests (429), the database out of reach (503)")
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(failure.clone())).build(),
            );
        let responses = ResponsesBuilder::new()
            .response("200", ok)
            .response("default", failed)
            .build();
        op = op.responses(responses);
        let path = format!("{scope}{}", e.path);
        paths = paths.path(path, PathItem::new(http_method(&e.method), op));
    }
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
    let mut components = ComponentsBuilder::new().schemas_from_iter(schemas);
    for (name, scheme) in dialect.security {
        components = components.security_scheme(name, scheme);
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(dialect.title)
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(dialect.description)),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build();
    any_of(&doc)
}

/// `doc` as JSON, with every `oneOf` made an `anyOf`. utoipa writes an
/// optional field as `oneOf: [T, null]`, which a `null` breaks whenever `T`
/// admits null too (a unit `data`); what the shapes mean is "any of these".
/// (utoipa cannot read such a document back, so it is served as JSON.)
fn any_of(doc: &OpenApi) -> serde_json::Value {
    fn rewrite(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(variants) = map.remove("oneOf") {
                    map.insert("anyOf".to_owned(), variants);
                }
                map.values_mut().for_each(rewrite);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(doc).unwrap_or_else(|err| {
        tracing::error!(error = %err, "writing an OpenAPI document");
        serde_json::Value::Null
    });
    rewrite(&mut value);
    value
}

/// `post_api_login` for `POST /api/login`: stable, readable names.
fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for part in path.split(['/', '-', '{', '}']).filter(|p| !p.is_empty()) {
        id.push('_');
        id.push_str(part);
    }
    id
}

/// A required text parameter for each `{name}` in `path`.
fn path_parameters(path: &str) -> impl Iterator<Item = Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        })
        .collect::<Vec<_>>()
        .into_iter()
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// Each dialect's document, written once per process (the app factory runs
/// once per worker), by dialect name.
static DOCUMENTS: LazyLock<Mutex<HashMap<&'static str, serde_json::Value>>> =
    LazyLock::new(Mutex::default);

fn cached_document(dialect: &dialects::Dialect) -> serde_json::Value {
    // A poisoned cache still holds whole documents: each is inserted whole.
    let mut documents = DOCUMENTS.lock().unwrap_or_else(PoisonError::into_inner);
    documents
        .entry(dialect.name)
        .or_insert_with(|| (dialect.document)())
        .clone()
}

/// Mounts each dialect's document at `/openapi/{name}.json` and the
/// browsable page, which opens on the first by name.
pub(crate) fn config(cfg: &mut web::ServiceConfig, served: &[dialects::Dialect]) {
    let documents = served.iter().map(cached_document);
    let mut listed: Vec<_> = served.iter().zip(documents).collect();
    listed.sort_by_key(|(dialect, _)| dialect.name);
    let mut page = SwaggerUi::new("/openapi/{_:.*}");
    for (i, (dialect, document)) in listed.into_iter().enumerate() {
        let url = Url::with_primary(dialect.title, dialect.document_path, i == 0);
        page = page.external_url_unchecked(url, document);
    }
    cfg.service(page);
}

/// A `multipart/form-data` upload: a required `file`, and `T`'s text fields.
pub(crate) fn upload_form<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    T::schemas(schemas);
    with_file(match T::schema() {
        RefOr::T(Schema::Object(object)) => ObjectBuilder::from(object),
        _ => ObjectBuilder::new(),
    })
}

/// An upload form with nothing but the file.
pub(crate) fn file_only(_: &mut Schemas) -> RefOr<Schema> {
    with_file(ObjectBuilder::new())
}

fn with_file(form: ObjectBuilder) -> RefOr<Schema> {
    let file = ObjectBuilder::new()
        .schema_type(Type::String)
        .content_media_type("application/octet-stream")
        .description(Some("The file's bytes"));
    form.property("file", file).required("file").into()
}
