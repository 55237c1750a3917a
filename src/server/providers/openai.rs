//! OpenAI-compatible chat completions (PROVIDERS.md §2): Ollama, vLLM, llama.cpp's server and
//! hosted APIs all take `POST {base_url}/chat/completions`.

use crate::domain::FailureCode;
use serde::Deserialize;
use serde_json::json;

use crate::domain::ExecutionStatus;
use crate::server::db::executions::Outcome;

use super::http::{failure, Answer};
use super::request::Prompt;
use super::Wire;

/// The OpenAI chat-completions wire format.
pub struct OpenAi;

impl Wire for OpenAi {
    fn path(&self) -> &'static str {
        "/chat/completions"
    }

    fn render(&self, prompt: &Prompt, served_model: &str) -> Vec<u8> {
        render(prompt, served_model)
    }

    fn classify(&self, body: &[u8]) -> Answer {
        classify(body)
    }
}

/// The chat body: the region's system prompt, then the question.
pub fn render(prompt: &Prompt, served_model: &str) -> Vec<u8> {
    let mut messages = Vec::with_capacity(2);
    if !prompt.system.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.system}));
    }
    messages.push(json!({"role": "user", "content": prompt.question}));
    let mut body = json!({
        "model": served_model,
        "messages": messages,
        "temperature": prompt.temperature,
        "max_tokens": prompt.max_tokens,
    });
    if let Some(seed) = prompt.seed {
        body["seed"] = json!(seed);
    }
    serde_json::to_vec(&body).expect("JSON values always serialise")
}

#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    system_fingerprint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<i64>,
    #[serde(default)]
    completion_tokens: Option<i64>,
}

/// A 2xx body. Anything that is not a JSON object with a `choices` array is
/// `ROUTER_JSON_ERROR`; no choice or empty content is `ROUTER_EMPTY_RESPONSE`. A refusal is
/// an answer like any other.
pub fn classify(body: &[u8]) -> Answer {
    let completion: Completion = match serde_json::from_slice(body) {
        Ok(completion) => completion,
        Err(err) => {
            return Answer::from(failure(
                ExecutionStatus::Failed,
                FailureCode::JsonError,
                format!("the provider's answer is not a chat completion: {err}"),
            ))
        }
    };
    let first = completion.choices.into_iter().next();
    let finish_reason = first.as_ref().and_then(|c| c.finish_reason.clone());
    let content = first.and_then(|c| c.message).and_then(|m| m.content).filter(|c| !c.trim().is_empty());
    let outcome = match content {
        Some(text) => Outcome::answered(text),
        None => failure(ExecutionStatus::Failed, FailureCode::EmptyResponse, "the provider answered with no content".to_string()),
    };
    let mut answer = Answer::from(outcome);
    let provenance = &mut answer.outcome.provenance;
    provenance.served_model = completion.model;
    provenance.finish_reason = finish_reason;
    provenance.system_fingerprint = completion.system_fingerprint;
    if let Some(usage) = completion.usage {
        provenance.prompt_tokens = usage.prompt_tokens;
        provenance.completion_tokens = usage.completion_tokens;
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_their_failures() {
        let ok = classify(br#"{"choices":[{"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"model":"llama3.1:8b","usage":{"prompt_tokens":12,"completion_tokens":3}}"#);
        assert_eq!(ok.outcome.output.as_deref(), Some("Paris."));
        assert_eq!(ok.outcome.provenance.finish_reason.as_deref(), Some("stop"));
        assert_eq!(ok.outcome.provenance.served_model.as_deref(), Some("llama3.1:8b"));
        assert_eq!((ok.outcome.provenance.prompt_tokens, ok.outcome.provenance.completion_tokens), (Some(12), Some(3)));
        for (body, code) in [
            (&br#"{"choices":[]}"#[..], "ROUTER_EMPTY_RESPONSE"),
            (br#"{"choices":[{"message":{"content":"  "}}]}"#, "ROUTER_EMPTY_RESPONSE"),
            (br#"{"answer":"x"}"#, "ROUTER_JSON_ERROR"),
            (br#"[1,2]"#, "ROUTER_JSON_ERROR"),
            (b"not json", "ROUTER_JSON_ERROR"),
        ] {
            assert_eq!(classify(body).outcome.error_code.as_deref(), Some(code), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_body_has_the_system_prompt_then_the_question() {
        let prompt = Prompt {
            region: "us-central".into(),
            model: "llama3.1-8b".into(),
            system: "From Iowa.".into(),
            question: "Who won?".into(),
            temperature: 0.1,
            max_tokens: 500,
            seed: Some(7),
        };
        let body: serde_json::Value = serde_json::from_slice(&render(&prompt, "llama3.1:8b")).unwrap();
        assert_eq!(
            body,
            json!({"model": "llama3.1:8b", "messages": [{"role": "system", "content": "From Iowa."}, {"role": "user", "content": "Who won?"}],
                   "temperature": 0.1, "max_tokens": 500, "seed": 7})
        );
    }
}
