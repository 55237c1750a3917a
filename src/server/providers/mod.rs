//! The providers that answer: each configured one (PROVIDERS.md §1) behind the same
//! [`Provider::infer`], whatever its kind. A provider keeps its own limits: calls in flight
//! (`concurrency`, a semaphore the runner holds per call), a token bucket for
//! `requests_per_minute`, and a pause when it answered 429/503 with `Retry-After`. Every
//! outcome carries its provenance: which provider, what kind, the SHA-256 of the exact body.

pub mod http;
pub mod hybrid_router;
pub mod openai;
pub mod request;

use crate::domain::FailureCode;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::domain::ExecutionStatus;
use crate::server::config::{ProviderKind, ProviderSpec};
use crate::server::db::executions::Outcome;

use request::Prompt;

/// What differs between kinds of provider: where a call goes, how a request is written, how
/// a successful answer is read. Transport, limits, time-outs and failure classes are shared.
pub trait Wire: Send + Sync {
    /// The path under the provider's base URL.
    fn path(&self) -> &'static str;
    /// The exact body for `prompt`, with the provider's own name for the model.
    fn render(&self, prompt: &Prompt, served_model: &str) -> Vec<u8>;
    /// A 2xx body, as an outcome.
    fn classify(&self, body: &[u8]) -> http::Answer;
}

pub struct Provider {
    pub spec: ProviderSpec,
    wire: Box<dyn Wire>,
    /// Where calls go (`…/inference` or `…/chat/completions`).
    url: String,
    http: reqwest::Client,
    /// Calls in flight to this provider; the runner holds one permit per call.
    pub slots: Arc<Semaphore>,
    rate: Option<DefaultDirectRateLimiter>,
    /// No call before this instant: the provider asked for a pause.
    paused_until: Mutex<Option<tokio::time::Instant>>,
}

impl Provider {
    /// `base_url`: the spec's, or, for a hybrid-router provider without one, the router Beacon
    /// was started with (`HYBRID_ROUTER_URL`, or the demo router).
    pub fn new(spec: ProviderSpec, default_router: &str) -> anyhow::Result<Provider> {
        let base = spec.base_url.clone().unwrap_or_else(|| default_router.trim_end_matches('/').to_string());
        let wire: Box<dyn Wire> = match spec.kind {
            ProviderKind::HybridRouter => Box::new(hybrid_router::HybridRouter),
            ProviderKind::OpenAi => Box::new(openai::OpenAi),
        };
        let url = format!("{base}{}", wire.path());
        let http = reqwest::Client::builder().connect_timeout(spec.timeout.min(Duration::from_secs(10))).build()?;
        // A bucket of one second's worth of requests (at least one), refilled evenly.
        let rate = spec.requests_per_minute.map(|per_minute| {
            let burst = NonZeroU32::new((per_minute / 60).max(1)).unwrap_or(NonZeroU32::MIN);
            let period = Duration::from_secs(60) / per_minute.max(1);
            RateLimiter::direct(Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst))
        });
        Ok(Provider { slots: Arc::new(Semaphore::new(spec.concurrency)), spec, wire, url, http, rate, paused_until: Mutex::new(None) })
    }

    /// Sends one stored request and returns the outcome with its provenance. The caller waits
    /// for its turn first ([`Provider::wait_turn`]); the time-out covers the call only.
    pub async fn infer(&self, request_json: &str) -> Outcome {
        let Some(prompt) = Prompt::from_stored(request_json) else {
            return self
                .with_provenance(Outcome::failed(ExecutionStatus::Error, FailureCode::Internal, "the stored request could not be read".into()), &[]);
        };
        let Some(served_as) = self.spec.models.get(&prompt.model) else {
            return self.with_provenance(
                Outcome::failed(ExecutionStatus::Error, FailureCode::Internal, format!("provider {} does not serve {}", self.spec.id, prompt.model)),
                &[],
            );
        };
        let body = self.wire.render(&prompt, served_as);
        let sent = http::post(&self.http, &self.url, self.spec.api_key.as_deref(), body.clone(), self.spec.timeout).await;
        let answer = match sent {
            Ok(success) => self.wire.classify(&success),
            Err(failed) => failed,
        };
        let mut outcome = answer.outcome;
        if let Some(wait) = answer.retry_after {
            self.pause_for(wait);
            outcome.provenance.retry_after_ms = Some(wait.as_millis() as u64);
        }
        self.with_provenance(outcome, &body)
    }

    /// One warm-up request (PROVIDERS.md §4): "Reply with OK.", 5 tokens at most. `Ok` when the
    /// provider answered anything; `Err` with the failure's text otherwise.
    pub async fn probe(&self, model: &str) -> Result<(), String> {
        let Some(served_as) = self.spec.models.get(model) else {
            return Err(format!("provider {} does not serve {model}", self.spec.id));
        };
        let prompt = Prompt {
            region: self.spec.region.to_string(),
            model: model.to_string(),
            system: String::new(),
            question: "Reply with OK.".into(),
            temperature: 0.0,
            max_tokens: 5,
            seed: None,
        };
        let body = self.wire.render(&prompt, served_as);
        self.wait_turn().await;
        let answer = match http::post(&self.http, &self.url, self.spec.api_key.as_deref(), body, self.spec.timeout).await {
            Ok(success) => self.wire.classify(&success),
            Err(failed) => failed,
        };
        if let Some(wait) = answer.retry_after {
            self.pause_for(wait);
        }
        match answer.outcome.error {
            None => Ok(()),
            Some(error) => Err(format!("{}: {error}", answer.outcome.error_code.unwrap_or_default())),
        }
    }

    /// Waits out a pause the provider asked for, then for a token of the rate limit. True when
    /// it had to wait (long enough that the world may have changed meanwhile).
    pub async fn wait_turn(&self) -> bool {
        let started = tokio::time::Instant::now();
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match until {
                Some(until) if until > tokio::time::Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        if let Some(rate) = &self.rate {
            rate.until_ready().await;
        }
        started.elapsed() > Duration::from_millis(50)
    }

    fn pause_for(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut paused = self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
        tracing::warn!(provider = %self.spec.id, wait_ms = wait.as_millis() as u64, "provider asked for a pause (Retry-After)");
    }

    fn with_provenance(&self, mut outcome: Outcome, body: &[u8]) -> Outcome {
        outcome.provider_id = Some(self.spec.id.clone());
        let provenance = &mut outcome.provenance;
        provenance.provider_kind = Some(self.spec.kind.as_str().to_string());
        if !body.is_empty() {
            provenance.request_hash = Some(hex::encode(Sha256::digest(body)));
            provenance.request_body = Some(String::from_utf8_lossy(body).into_owned());
        }
        outcome
    }
}

/// Every configured provider, built once at start-up.
pub fn build(specs: &[ProviderSpec], default_router: &str) -> anyhow::Result<Vec<Arc<Provider>>> {
    specs.iter().map(|spec| Ok(Arc::new(Provider::new(spec.clone(), default_router)?))).collect()
}
