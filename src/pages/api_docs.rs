use leptos::prelude::*;

use crate::components::loaded;
use crate::serverfns::api_docs::{load_api_docs, ApiDocs, ContentDoc, Inline, OperationDoc, Piece, SchemaDoc};

/// `/api/docs` (OPERATIONS.md §2): the OpenAPI document for people: every route with its
/// parameters, body and answers (the error codes each can give), then the schemas.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-cache"));
    }
    let docs = Resource::new(|| (), |_| load_api_docs());
    view! {
        <leptos_meta::Title text="API · Beacon" />
        {loaded(docs, |docs| view! { <ApiDocsBody docs /> })}
    }
}

#[component]
fn ApiDocsBody(docs: ApiDocs) -> impl IntoView {
    let ApiDocs { title, version, description, openapi, operations, schemas } = docs;
    let routes = operations
        .iter()
        .map(|op| {
            view! {
                <li>
                    <a href=format!("#{}", op.anchor)><code class="method">{op.method.clone()}</code>" "<code>{op.path.clone()}</code></a>
                    " "{inline(op.summary.clone())}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card api-docs">
            <h1>{title}" API " <small>{version}</small></h1>
            <p>{inline(description)}</p>
            <p>
                "The machine-readable document: "
                // Not a route of the app: the browser loads it.
                <a href="/api/v1/openapi.json" rel="external"><code>"/api/v1/openapi.json"</code></a>
                {format!(" (OpenAPI {openapi}). ")}
                "Authenticate with " <code>"Authorization: Bearer <token>"</code> " when accounts are on."
            </p>
            <nav aria-label="Routes">
                <h2>"Routes"</h2>
                <ul class="api-routes">{routes}</ul>
            </nav>
        </section>
        {operations.into_iter().map(|op| view! { <OperationSection op /> }).collect_view()}
        <section class="card api-docs">
            <h2>"Schemas"</h2>
            {schemas.into_iter().map(|schema| view! { <SchemaEntry schema /> }).collect_view()}
        </section>
    }
}

#[component]
fn OperationSection(op: OperationDoc) -> impl IntoView {
    let OperationDoc { anchor, method, path, summary, description, parameters, request_body, responses } = op;
    let parameters = (!parameters.is_empty()).then(|| {
        view! {
            <h3>"Parameters"</h3>
            <table class="api-table">
                <thead><tr><th>"Name"</th><th>"In"</th><th>"Type"</th><th>"Required"</th><th>"Description"</th></tr></thead>
                <tbody>
                    {parameters.into_iter().map(|param| view! {
                        <tr>
                            <td><code>{param.name}</code></td>
                            <td>{param.location}</td>
                            <td>{inline(param.shape)}</td>
                            <td>{yes_no(param.required)}</td>
                            <td>{param.description}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    let request_body = request_body.map(|contents| {
        view! {
            <h3>"Request body"</h3>
            <ul>
                {contents.into_iter().map(|content| view! { <li><code>{content.content_type}</code>": "{inline(content.shape)}</li> }).collect_view()}
            </ul>
        }
    });
    view! {
        <section class="card api-docs" id=anchor>
            <h2><code class="method">{method}</code>" "<code>{path}</code></h2>
            <p>{inline(summary)}</p>
            <p>{inline(description)}</p>
            {parameters}
            {request_body}
            <h3>"Responses"</h3>
            <table class="api-table">
                <thead><tr><th>"Status"</th><th>"Body"</th><th>"Meaning and codes"</th></tr></thead>
                <tbody>
                    {responses.into_iter().map(|response| view! {
                        <tr>
                            <td>{response.status}</td>
                            <td>{bodies(response.bodies)}</td>
                            <td>{inline(response.description)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn SchemaEntry(schema: SchemaDoc) -> impl IntoView {
    let SchemaDoc { name, description, fields, shape } = schema;
    let body = if fields.is_empty() {
        view! { <p>{inline(shape)}</p> }.into_any()
    } else {
        view! {
            <table class="api-table">
                <thead><tr><th>"Field"</th><th>"Type"</th><th>"Required"</th><th>"Description"</th></tr></thead>
                <tbody>
                    {fields.into_iter().map(|field| view! {
                        <tr>
                            <td><code>{field.name}</code></td>
                            <td>{inline(field.shape)}</td>
                            <td>{yes_no(field.required)}</td>
                            <td>{inline(field.description)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="api-schema" id=format!("schema-{name}")>
            <h3><code>{name.clone()}</code></h3>
            {description.map(|description| view! { <p>{inline(description)}</p> })}
            {body}
        </div>
    }
}

/// A response's bodies, one per line.
fn bodies(bodies: Vec<ContentDoc>) -> impl IntoView {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, content)| {
            view! {
                {(i > 0).then(|| view! { <br /> })}
                <code>{content.content_type}</code>" "{inline(content.shape)}
            }
        })
        .collect_view()
}

/// Words, `code`, and links to the schemas on this page.
fn inline(pieces: Inline) -> impl IntoView {
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.into_any(),
            Piece::Code(code) => view! { <code>{code}</code> }.into_any(),
            Piece::Schema(name) => view! { <a href=format!("#schema-{name}")><code>{name.clone()}</code></a> }.into_any(),
        })
        .collect_view()
}

fn yes_no(yes: bool) -> &'static str {
    if yes {
        "yes"
    } else {
        "no"
    }
}
