//! `/api/docs`: the OpenAPI document rendered for people, on the server, with no scripts
//! (OPERATIONS.md §2). It walks the document's JSON rather than utoipa's types, so it shows
//! exactly what `/api/v1/openapi.json` says.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde_json::Value;

use super::openapi::DOCUMENT;
use crate::server::http::html::{self, escape};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub async fn page() -> impl IntoResponse {
    let document = serde_json::to_value(&*DOCUMENT).unwrap_or(Value::Null);
    ([(header::CACHE_CONTROL, "no-cache")], Html(html::page("API", &render(&document))))
}

fn render(doc: &Value) -> String {
    let mut out = String::new();
    let info = &doc["info"];
    out.push_str(&format!(
        r#"<section class="card api-docs"><h1>{} API <small>{}</small></h1><p>{}</p>
<p>The machine-readable document: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a> (OpenAPI {}).
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> when accounts are on.</p>"#,
        escape(text(&info["title"])),
        escape(text(&info["version"])),
        code_spans(text(&info["description"])),
        escape(text(&doc["openapi"])),
    ));

    let operations = operations(doc);
    out.push_str(r#"<nav aria-label="Routes"><h2>Routes</h2><ul class="api-routes">"#);
    for op in &operations {
        out.push_str(&format!(
            r##"<li><a href="#{anchor}"><code class="method">{method}</code> <code>{path}</code></a> {summary}</li>"##,
            anchor = op.anchor(),
            method = op.method.to_uppercase(),
            path = escape(&op.path),
            summary = code_spans(text(&op.body["summary"])),
        ));
    }
    out.push_str("</ul></nav></section>");

    for op in &operations {
        out.push_str(&render_operation(op));
    }

    out.push_str(r#"<section class="card api-docs"><h2>Schemas</h2>"#);
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            out.push_str(&render_schema(name, schema));
        }
    }
    out.push_str("</section>");
    out
}

struct Operation<'a> {
    path: String,
    method: &'static str,
    body: &'a Value,
}

impl Operation<'_> {
    fn anchor(&self) -> String {
        let slug: String = self.path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        format!("{}{}", self.method, slug)
    }
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut found = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                if let Some(body) = item.get(method) {
                    found.push(Operation { path: path.clone(), method, body });
                }
            }
        }
    }
    found
}

fn render_operation(op: &Operation) -> String {
    let mut out = format!(
        r#"<section class="card api-docs" id="{anchor}"><h2><code class="method">{method}</code> <code>{path}</code></h2><p>{summary}</p><p>{description}</p>"#,
        anchor = op.anchor(),
        method = op.method.to_uppercase(),
        path = escape(&op.path),
        summary = code_spans(text(&op.body["summary"])),
        description = code_spans(text(&op.body["description"])),
    );
    if let Some(params) = op.body["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h3>Parameters</h3><table class=\"api-table\"><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>");
        for param in params {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(text(&param["name"])),
                escape(text(&param["in"])),
                type_of(&param["schema"]),
                if param["required"].as_bool() == Some(true) { "yes" } else { "no" },
                escape(text(&param["description"])),
            ));
        }
        out.push_str("</tbody></table>");
    }
    if let Some(body) = op.body.get("requestBody") {
        out.push_str("<h3>Request body</h3><ul>");
        for (content_type, content) in body["content"].as_object().into_iter().flatten() {
            out.push_str(&format!("<li><code>{}</code>: {}</li>", escape(content_type), type_of(&content["schema"])));
        }
        out.push_str("</ul>");
    }
    out.push_str(
        "<h3>Responses</h3><table class=\"api-table\"><thead><tr><th>Status</th><th>Body</th><th>Meaning and codes</th></tr></thead><tbody>",
    );
    for (status, response) in op.body["responses"].as_object().into_iter().flatten() {
        let bodies: Vec<String> = response["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(content_type, content)| format!("<code>{}</code> {}", escape(content_type), type_of(&content["schema"])))
            .collect();
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(status),
            bodies.join("<br>"),
            code_spans(text(&response["description"])),
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

fn render_schema(name: &str, schema: &Value) -> String {
    let mut out = format!(r#"<div class="api-schema" id="schema-{id}"><h3><code>{name}</code></h3>"#, id = escape(name), name = escape(name),);
    if let Some(description) = schema["description"].as_str() {
        out.push_str(&format!("<p>{}</p>", code_spans(description)));
    }
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let properties = all_properties(schema);
    if properties.is_empty() {
        out.push_str(&format!("<p>{}</p>", type_of(schema)));
    } else {
        out.push_str("<table class=\"api-table\"><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>");
        for (field, property) in properties {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(field),
                type_of(property),
                if required.contains(&field.as_str()) { "yes" } else { "no" },
                code_spans(text(&property["description"])),
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</div>");
    out
}

/// An object's fields, including those a flattened member (`allOf`) brings.
fn all_properties(schema: &Value) -> Vec<(&String, &Value)> {
    let mut fields: Vec<(&String, &Value)> = schema["properties"].as_object().into_iter().flatten().collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        fields.extend(part["properties"].as_object().into_iter().flatten());
    }
    fields
}

/// A schema in a few words, with links to named schemas.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!(r##"<a href="#schema-{0}"><code>{0}</code></a>"##, escape(name));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            let described: Vec<String> = parts.iter().map(type_of).filter(|t| !t.is_empty()).collect();
            return described.join(" or ");
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("array of {}", type_of(&schema["items"])),
            other => escape(other),
        })
        .collect();
    if words.is_empty() {
        words.push("any".to_string());
    }
    let mut described = words.join(" or ");
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().filter_map(Value::as_str).map(|v| format!("<code>{}</code>", escape(v))).collect();
        described.push_str(&format!(": {}", values.join(", ")));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        described.push_str(&format!(" <code>{}</code>", escape(pattern)));
    }
    described
}

/// Escaped text whose `backticked` words become `<code>`.
fn code_spans(raw: &str) -> String {
    escape(raw).split('`').enumerate().map(|(i, piece)| if i % 2 == 1 { format!("<code>{piece}</code>") } else { piece.to_string() }).collect()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_words() {
        let schema = serde_json::json!({"type": ["array", "null"], "items": {"$ref": "#/components/schemas/JobView"}});
        assert_eq!(type_of(&schema), r##"array of <a href="#schema-JobView"><code>JobView</code></a> or null"##);
        let status = serde_json::json!({"type": "string", "enum": ["pending", "running"]});
        assert_eq!(type_of(&status), "string: <code>pending</code>, <code>running</code>");
    }

    #[test]
    fn backticks_become_code_after_escaping() {
        assert_eq!(code_spans("`not_found` <b>"), "<code>not_found</code> &lt;b&gt;");
    }
}
