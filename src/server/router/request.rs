//! The one router request an execution sends, built once at submission and stored, so the
//! initial attempt and every retry send the same bytes (the earlier system's bug 3).

use crate::domain::Region;

use super::protocol::InferenceRequest;

pub const TEMPERATURE: f64 = 0.1;
pub const MAX_TOKENS: i64 = 500;

/// The regional system prompt wrapped around each question, as the earlier system sent it.
pub fn regional_prompt(region: Region, question: &str) -> String {
    format!(
        "You are a helpful, honest, and harmless AI assistant based in {}. \
         Answer the user's question accurately and concisely.\n\nUser: {question}\nAssistant:",
        region.display_name()
    )
}

pub fn build(region: Region, model_id: &str, question_text: &str) -> InferenceRequest {
    InferenceRequest {
        model: model_id.to_string(),
        prompt: regional_prompt(region, question_text),
        temperature: TEMPERATURE,
        max_tokens: MAX_TOKENS,
        region_preference: Some(region.router_region().to_string()),
        cost_priority: false,
    }
}

/// The stored form: the exact JSON body to POST.
pub fn build_json(region: Region, model_id: &str, question_text: &str) -> String {
    serde_json::to_string(&build(region, model_id, question_text))
        .expect("a struct of strings and numbers always serialises")
}
