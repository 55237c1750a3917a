//! The hybrid router of DOMAIN.md: `POST {base_url}/inference` with one prompt string.

use crate::domain::ExecutionStatus;
use crate::domain::FailureCode;
use crate::server::db::executions::Outcome;
use crate::server::router::protocol::{InferenceRequest, InferenceResponse};

use super::http::{failure, Answer};
use super::request::Prompt;
use super::Wire;

/// The hybrid router's wire format.
pub struct HybridRouter;

impl Wire for HybridRouter {
    fn path(&self) -> &'static str {
        "/inference"
    }

    fn render(&self, prompt: &Prompt, served_model: &str) -> Vec<u8> {
        render(prompt, served_model)
    }

    fn classify(&self, body: &[u8]) -> Answer {
        classify(body)
    }
}

/// The router body: the system prompt and the question in the one prompt string the router
/// takes, as Beacon has always sent it. A legacy stored request (no system prompt) is its own
/// prompt already.
pub fn render(prompt: &Prompt, served_model: &str) -> Vec<u8> {
    let text = if prompt.system.is_empty() { prompt.question.clone() } else { format!("{}\n\nUser: {}\nAssistant:", prompt.system, prompt.question) };
    let body = InferenceRequest {
        model: served_model.to_string(),
        prompt: text,
        temperature: prompt.temperature,
        max_tokens: i64::from(prompt.max_tokens),
        region_preference: Some(prompt.region.clone()),
        cost_priority: false,
    };
    serde_json::to_vec(&body).expect("a struct of strings and numbers always serialises")
}

/// A 2xx body: the router says itself whether it succeeded.
pub fn classify(body: &[u8]) -> Answer {
    let parsed: InferenceResponse = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(err) => {
            return Answer::from(failure(ExecutionStatus::Failed, FailureCode::JsonError, format!("router answer is not the expected JSON: {err}")))
        }
    };
    let served_model = parsed.metadata.as_ref().and_then(|m| m.get("model")).and_then(|m| m.as_str()).map(str::to_string);
    if !parsed.success {
        let message = parsed.error.filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "router reported a failure without a message".to_string());
        let message = match parsed.error_code {
            Some(code) if !code.is_empty() => format!("{message} ({code})"),
            _ => message,
        };
        return Answer::from(failure(ExecutionStatus::Failed, FailureCode::ProviderError, message));
    }
    let outcome = match parsed.response {
        Some(text) if !text.trim().is_empty() => Outcome::answered(text),
        _ => failure(ExecutionStatus::Failed, FailureCode::EmptyResponse, "router reported success with an empty answer".to_string()),
    };
    let mut answer = Answer::from(outcome);
    answer.outcome.provenance.served_model = served_model;
    answer
}
