//! The API described (OPERATIONS.md §2): an OpenAPI 3.1 document generated from the handlers'
//! own `#[utoipa::path]` annotations and the types they take and return. The routes are
//! registered through `utoipa-axum` (see [`super::routes`]), which adds a route and its
//! description in one call, so an `/api/v1` route cannot exist without being in the document.
//!
//! Answers every route can give (authentication, the cross-site rule, the rate limit, the
//! request time-out) are added here once, by [`CommonAnswers`], rather than on each handler;
//! so are those a route gives for the id in its path (the parameter, the 400 for a malformed
//! id, the 404 for an unknown one), from the path itself.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::domain::{ExecutionId, JobId, Region};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Beacon",
        description = "Cross-region LLM bias-detection jobs: submit a job (questions × models × regions), \
            follow its executions live, retry what failed, read the answers and their provenance. \
            Every error answer is `{\"error\": sentence, \"code\": machine code, …}`; the codes each \
            route can answer are listed with its responses.",
        license(name = "Proprietary"),
    ),
    components(schemas(ErrorBody, JobId, ExecutionId, Region)),
    tags(
        (name = "jobs", description = "Submitting, reading and cancelling jobs"),
        (name = "executions", description = "One execution (question × model × region) and its attempts"),
        (name = "retries", description = "Manual and batch retries"),
        (name = "live", description = "Server-sent event streams"),
        (name = "catalogue", description = "What the configuration offers: regions and models"),
        (name = "questions", description = "Questions, imports and question sets"),
        (name = "analysis", description = "Answers side by side and the study's numbers"),
        (name = "exports", description = "A job's results as CSV and JSON Lines"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Every refusal and failure: a sentence for people and a code for scripts. Some refusals add
/// fields (`retry_attempt`, `max_attempts`, `errors`, …).
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: answers are built by `AppError`.
pub struct ErrorBody {
    /// The sentence a person reads.
    error: String,
    /// What scripts match on: one of these values, each with its status.
    code: crate::domain::ErrorCode,
}

/// The document, built once from the same route list the server runs. The common answers are
/// added after the routes have brought their operations (a derive's modifiers run before).
pub static DOCUMENT: LazyLock<Document> = LazyLock::new(|| {
    let mut document = super::documented_routes().split_for_parts().1;
    CommonAnswers.modify(&mut document);
    StreamEvents.modify(&mut document);
    document
});

/// A stream's answer lists the event kinds the code sends, from the kinds themselves, so the
/// document cannot name one that no longer exists.
struct StreamEvents;

impl Modify for StreamEvents {
    fn modify(&self, openapi: &mut Document) {
        let kinds: Vec<String> = crate::domain::LiveEventKind::ALL.iter().map(|kind| format!("`{}` ({})", kind.as_str(), kind.describe())).collect();
        let description = format!("Server-sent events: `id` is the change-log position, `event` one of {}, `data` JSON", kinds.join(", "));
        for item in openapi.paths.paths.values_mut() {
            let Some(RefOr::T(ok)) = item.get.as_mut().and_then(|get| get.responses.responses.get_mut("200")) else { continue };
            if ok.content.contains_key("text/event-stream") {
                ok.description = description.clone();
            }
        }
    }
}

/// `GET /api/v1/openapi.json`
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi_document",
    tag = "meta",
    responses((status = 200, description = "This document, OpenAPI 3.1", content_type = "application/json")),
)]
pub async fn document() -> impl IntoResponse {
    let json = DOCUMENT.to_pretty_json().unwrap_or_else(|_| "{}".to_string());
    ([(header::CONTENT_TYPE, "application/json")], json)
}

/// Adds the answers the layers in front of every handler can give, and how to authenticate.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token from `beacon tokens create`")).build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description("beacon_session", "The session cookie `/login` sets"))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let id = PathId::of(path);
            for (method, operation) in [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
            ] {
                if let Some(operation) = operation {
                    if let Some(id) = &id {
                        id.add_to(operation);
                    }
                    add_common(method, operation);
                }
            }
        }
    }
}

/// The id a route's path names (`/api/v1/jobs/{id}/…`): what it is, and the code a malformed
/// one gets (ids parsed by an extractor; questions and sets are looked up as written).
struct PathId {
    schema: Option<&'static str>,
    description: &'static str,
    malformed: Option<&'static str>,
}

impl PathId {
    fn of(path: &str) -> Option<PathId> {
        let (schema, description, malformed) = match path {
            p if p.starts_with("/api/v1/jobs/{id}") => (Some("JobId"), "The job's id", Some("`invalid_job_id`")),
            p if p.starts_with("/api/v1/executions/{id}") => (Some("ExecutionId"), "The execution's id", Some("`invalid_execution_id`")),
            p if p.starts_with("/api/v1/questions/{id}") => (None, "The question's id", None),
            p if p.starts_with("/api/v1/question-sets/{id}") => (None, "The set's id", None),
            _ => return None,
        };
        Some(PathId { schema, description, malformed })
    }

    fn add_to(&self, operation: &mut Operation) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        let schema = match self.schema {
            Some(name) => RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name)),
            None => String::schema(),
        };
        let parameter = ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(utoipa::openapi::Required::True)
            .description(Some(self.description))
            .schema(Some(schema))
            .build();
        operation.parameters.get_or_insert_with(Vec::new).insert(0, parameter);
        if let Some(malformed) = self.malformed {
            add_answer(operation, "400", malformed);
        }
        add_answer(operation, "404", "`not_found`: nothing has this id");
    }
}

/// Adds `description` to the answer with `status`, or the answer itself when the route does
/// not list it yet (a 429 `max_retries_reached` gains the rate limit's `rate_limited`).
fn add_answer(operation: &mut Operation, status: &str, description: &str) {
    match operation.responses.responses.get_mut(status) {
        Some(RefOr::T(listed)) => listed.description = format!("{}; {description}", listed.description),
        Some(RefOr::Ref(_)) => {}
        None => {
            operation.responses.responses.insert(status.to_string(), error_response(description).into());
        }
    }
}

fn add_common(method: HttpMethod, operation: &mut Operation) {
    let mut add = |status: &str, description: &str| add_answer(operation, status, description);
    add("401", "`unauthenticated`: accounts are on (`BEACON_AUTH`) and the request has no valid token or session");
    if method == HttpMethod::Get {
        add("403", "`forbidden`: the account's role may not read this");
    } else {
        add("403", "`forbidden`: the account's role may not do this; `cross_origin`: a browser request from another site");
        add("413", "`payload_too_large`: the body is larger than the route accepts");
        add("429", "`rate_limited`: too many changes from this account or address (`BEACON_MUTATION_RATE`); see `Retry-After`");
    }
    add("503", "`request_timeout`: the request took longer than `BEACON_REQUEST_TIMEOUT`");
    operation.security = Some(vec![
        utoipa::openapi::security::SecurityRequirement::new::<_, [&str; 0], &str>("bearer", []),
        utoipa::openapi::security::SecurityRequirement::new::<_, [&str; 0], &str>("session", []),
    ]);
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody")))).build())
        .build()
}

// Schemas of the id types, which serialise as plain strings and numbers with rules of their own.

impl PartialSchema for JobId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[A-Za-z0-9._-]{1,128}$"))
            .description(Some("A job id: 1–128 letters, digits, '-', '_' or '.', not `events`, `.` or `..`"))
            .into()
    }
}
impl ToSchema for JobId {}

impl PartialSchema for ExecutionId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .into()
    }
}
impl ToSchema for ExecutionId {}

impl PartialSchema for Region {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z0-9-]{1,32}$"))
            .description(Some("A configured region's id (`GET /api/v1/regions`)"))
            .into()
    }
}
impl ToSchema for Region {}
