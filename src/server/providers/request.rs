//! What an execution asks, fixed at submission and stored (`executions.request_json`), so the
//! initial attempt and every retry ask the same thing (the earlier system's bug 3). It is
//! provider-neutral: each provider renders it into its own body, deterministically, so every
//! attempt through one provider sends the same bytes (and has the same `request_hash`).

use serde::{Deserialize, Serialize};

use crate::server::router::protocol::InferenceRequest;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    pub region: String,
    pub model: String,
    /// The region's system prompt.
    pub system: String,
    pub question: String,
    pub temperature: f64,
    pub max_tokens: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

impl Prompt {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of strings and numbers always serialises")
    }

    /// Reads a stored request: this shape, or the hybrid-router body earlier versions stored
    /// (its prompt then is the whole text, system prompt included).
    pub fn from_stored(json: &str) -> Option<Prompt> {
        if let Ok(prompt) = serde_json::from_str::<Prompt>(json) {
            return Some(prompt);
        }
        let legacy: InferenceRequest = serde_json::from_str(json).ok()?;
        Some(Prompt {
            region: legacy.region_preference.unwrap_or_default(),
            model: legacy.model,
            system: String::new(),
            question: legacy.prompt,
            temperature: legacy.temperature,
            max_tokens: u32::try_from(legacy.max_tokens).unwrap_or(500),
            seed: None,
        })
    }
}
