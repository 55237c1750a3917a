//! `/api/docs` (OPERATIONS.md §2): the OpenAPI document described for people. The server walks
//! the document's JSON rather than utoipa's types, so the page shows exactly what
//! `/api/v1/openapi.json` says; the page only lays out what this answers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::ApiError;

/// A run of text: words, `code`, and links to the schemas below.
pub type Inline = Vec<Piece>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Piece {
    Text(String),
    Code(String),
    /// A named schema, linked to its description (`#schema-NAME`).
    Schema(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiDocs {
    pub title: String,
    pub version: String,
    pub description: Inline,
    /// The OpenAPI version of the document.
    pub openapi: String,
    pub operations: Vec<OperationDoc>,
    pub schemas: Vec<SchemaDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationDoc {
    /// The element id its section has, and the route list links to.
    pub anchor: String,
    /// Upper case: `GET`, `POST`, …
    pub method: String,
    pub path: String,
    pub summary: Inline,
    pub description: Inline,
    pub parameters: Vec<ParameterDoc>,
    /// `None` when the route takes no body.
    pub request_body: Option<Vec<ContentDoc>>,
    pub responses: Vec<ResponseDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterDoc {
    pub name: String,
    /// `path`, `query`, `header`, …
    pub location: String,
    pub shape: Inline,
    pub required: bool,
    pub description: String,
}

/// One content type of a body, and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentDoc {
    pub content_type: String,
    pub shape: Inline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseDoc {
    pub status: String,
    pub bodies: Vec<ContentDoc>,
    pub description: Inline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaDoc {
    pub name: String,
    pub description: Option<Inline>,
    /// Its fields, with those a flattened member (`allOf`) brings; empty for a schema that is
    /// not an object, which `shape` describes.
    pub fields: Vec<FieldDoc>,
    pub shape: Inline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDoc {
    pub name: String,
    pub shape: Inline,
    pub required: bool,
    pub description: Inline,
}

/// The API described, for `/api/docs`. Read by whoever may read the API (viewer).
#[server(prefix = "/api/read")]
pub async fn load_api_docs() -> Result<ApiDocs, ApiError> {
    super::serve(<LoadApiDocs as leptos::server_fn::ServerFn>::PATH, |_state| async move {
        let document = serde_json::to_value(&*crate::server::api::openapi::DOCUMENT)
            .map_err(|err| crate::server::error::AppError::Internal(anyhow::Error::new(err).context("the OpenAPI document")))?;
        Ok(describe::document(&document))
    })
    .await
}

/// From the document's JSON to [`ApiDocs`].
#[cfg(feature = "ssr")]
mod describe {
    use serde_json::Value;

    use super::{ApiDocs, ContentDoc, FieldDoc, Inline, OperationDoc, ParameterDoc, Piece, ResponseDoc, SchemaDoc};

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    pub fn document(doc: &Value) -> ApiDocs {
        let info = &doc["info"];
        let schemas = doc["components"]["schemas"].as_object().into_iter().flatten().map(|(name, schema)| schema_doc(name, schema)).collect();
        ApiDocs {
            title: text(&info["title"]).to_string(),
            version: text(&info["version"]).to_string(),
            description: code_spans(text(&info["description"])),
            openapi: text(&doc["openapi"]).to_string(),
            operations: operations(doc),
            schemas,
        }
    }

    fn operations(doc: &Value) -> Vec<OperationDoc> {
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                if let Some(body) = item.get(method) {
                    found.push(operation(path, method, body));
                }
            }
        }
        found
    }

    fn anchor(method: &str, path: &str) -> String {
        let slug: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        format!("{method}{slug}")
    }

    fn operation(path: &str, method: &str, body: &Value) -> OperationDoc {
        let parameters = body["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|param| ParameterDoc {
                name: text(&param["name"]).to_string(),
                location: text(&param["in"]).to_string(),
                shape: type_of(&param["schema"]),
                required: param["required"].as_bool() == Some(true),
                description: text(&param["description"]).to_string(),
            })
            .collect();
        let request_body = body.get("requestBody").map(|request| contents(&request["content"]));
        let responses = body["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(status, response)| ResponseDoc {
                status: status.clone(),
                bodies: contents(&response["content"]),
                description: code_spans(text(&response["description"])),
            })
            .collect();
        OperationDoc {
            anchor: anchor(method, path),
            method: method.to_uppercase(),
            path: path.to_string(),
            summary: code_spans(text(&body["summary"])),
            description: code_spans(text(&body["description"])),
            parameters,
            request_body,
            responses,
        }
    }

    fn contents(content: &Value) -> Vec<ContentDoc> {
        content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(content_type, content)| ContentDoc { content_type: content_type.clone(), shape: type_of(&content["schema"]) })
            .collect()
    }

    fn schema_doc(name: &str, schema: &Value) -> SchemaDoc {
        let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let fields = all_properties(schema)
            .into_iter()
            .map(|(field, property)| FieldDoc {
                name: field.clone(),
                shape: type_of(property),
                required: required.contains(&field.as_str()),
                description: code_spans(text(&property["description"])),
            })
            .collect();
        SchemaDoc { name: name.to_string(), description: schema["description"].as_str().map(code_spans), fields, shape: type_of(schema) }
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
    pub fn type_of(schema: &Value) -> Inline {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            return vec![Piece::Schema(name.to_string())];
        }
        for combinator in ["oneOf", "anyOf", "allOf"] {
            if let Some(parts) = schema[combinator].as_array() {
                let described: Vec<Inline> = parts.iter().map(type_of).filter(|t| !t.is_empty()).collect();
                return joined(described, " or ");
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut words: Vec<Inline> = types
            .iter()
            .map(|t| match *t {
                "array" => {
                    let mut words = vec![Piece::Text("array of ".to_string())];
                    words.extend(type_of(&schema["items"]));
                    words
                }
                other => vec![Piece::Text(other.to_string())],
            })
            .collect();
        if words.is_empty() {
            words.push(vec![Piece::Text("any".to_string())]);
        }
        let mut described = joined(words, " or ");
        if let Some(values) = schema["enum"].as_array() {
            let values: Vec<Inline> = values.iter().filter_map(Value::as_str).map(|v| vec![Piece::Code(v.to_string())]).collect();
            push(&mut described, Piece::Text(": ".to_string()));
            for piece in joined(values, ", ") {
                push(&mut described, piece);
            }
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            push(&mut described, Piece::Text(" ".to_string()));
            push(&mut described, Piece::Code(pattern.to_string()));
        }
        described
    }

    /// `parts` with `between` between them.
    fn joined(parts: Vec<Inline>, between: &str) -> Inline {
        let mut out = Vec::new();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                push(&mut out, Piece::Text(between.to_string()));
            }
            for piece in part {
                push(&mut out, piece);
            }
        }
        out
    }

    /// Adds `piece`, joining text to the text before it.
    fn push(out: &mut Inline, piece: Piece) {
        if let Piece::Text(text) = &piece {
            if text.is_empty() {
                return;
            }
            if let Some(Piece::Text(before)) = out.last_mut() {
                before.push_str(text);
                return;
            }
        }
        out.push(piece);
    }

    /// Text whose `backticked` words are code.
    pub fn code_spans(raw: &str) -> Inline {
        let mut out = Vec::new();
        for (i, piece) in raw.split('`').enumerate() {
            if i % 2 == 1 {
                out.push(Piece::Code(piece.to_string()));
            } else {
                push(&mut out, Piece::Text(piece.to_string()));
            }
        }
        out
    }

    fn text(value: &Value) -> &str {
        value.as_str().unwrap_or("")
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::describe::{code_spans, type_of};
    use super::Piece::{Code, Schema, Text};

    #[test]
    fn types_read_as_words() {
        let schema = serde_json::json!({"type": ["array", "null"], "items": {"$ref": "#/components/schemas/JobView"}});
        assert_eq!(type_of(&schema), vec![Text("array of ".into()), Schema("JobView".into()), Text(" or null".into())]);
        let status = serde_json::json!({"type": "string", "enum": ["pending", "running"]});
        assert_eq!(type_of(&status), vec![Text("string: ".into()), Code("pending".into()), Text(", ".into()), Code("running".into())]);
    }

    #[test]
    fn backticks_become_code() {
        assert_eq!(code_spans("`not_found` <b>"), vec![Code("not_found".into()), Text(" <b>".into())]);
    }
}
