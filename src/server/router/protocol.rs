//! The hybrid router's HTTP protocol, field for field.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceRequest {
    pub model: String,
    pub prompt: String,
    pub temperature: f64,
    pub max_tokens: i64,
    pub region_preference: Option<String>,
    pub cost_priority: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceResponse {
    pub success: bool,
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub provider_used: Option<String>,
    #[serde(default)]
    pub inference_time: Option<f64>,
    #[serde(default)]
    pub cost_estimate: Option<f64>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub providers_total: i64,
    pub providers_healthy: i64,
    pub regions: Vec<String>,
}
