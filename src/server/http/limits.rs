//! Limits that keep overload from hurting running work (SAFETY.md §3): a rate on mutations per
//! account (or client address with auth off), and caps on live streams in all and per client
//! address. Request time-outs and body limits are layers set in `startup`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_ip;
use crate::domain::ErrorCode;
use crate::server::auth::policy::changes_something;
use crate::server::auth::Caller;
use crate::server::config::MutationRate;

/// Token buckets for mutations, one per account or client address.
pub struct MutationLimiter {
    buckets: DefaultKeyedRateLimiter<String>,
}

impl MutationLimiter {
    pub fn new(rate: MutationRate) -> MutationLimiter {
        let per_second = NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
        MutationLimiter { buckets: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)) }
    }

    /// `Err(wait)` when `key` has used its burst.
    fn check(&self, key: String) -> Result<(), Duration> {
        // Buckets of callers that have been quiet long enough to be full again hold nothing.
        if self.buckets.len() > 10_000 {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(&key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Every mutation counts, including those refused later for bad input: a flood of bad
/// requests costs the server too.
pub async fn limit_mutations(State(limiter): State<Option<Arc<MutationLimiter>>>, request: Request, next: Next) -> Response {
    let changes = changes_something(request.method(), request.uri().path());
    let Some(limiter) = limiter.as_ref().filter(|_| changes) else {
        return next.run(request).await;
    };
    let key = client_key(request.extensions().get::<Caller>(), client_ip(&request));
    match limiter.check(key) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many(ErrorCode::RateLimited, "too many changes at once; wait a moment and try again (BEACON_MUTATION_RATE)", wait),
    }
}

/// Who a per-client limit counts: the account when there is one (so colleagues behind one
/// address, or one proxy, do not share a budget), else the client's address.
pub fn client_key(caller: Option<&Caller>, address: IpAddr) -> String {
    match caller.and_then(Caller::account) {
        Some(account) => format!("account:{account}"),
        None => format!("address:{address}"),
    }
}

/// An answer that tells the client when to come back.
pub fn too_many(code: ErrorCode, message: &str, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = crate::server::error::error_response(code, message);
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Open live streams, in all and per client (account, or address without one).
pub struct StreamSlots {
    max_total: usize,
    max_per_client: usize,
    open: Mutex<(usize, HashMap<String, usize>)>,
}

/// One open stream; dropping it (the client went away, the server stops) frees the slot.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client: String,
}

impl StreamSlots {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<StreamSlots> {
        Arc::new(StreamSlots { max_total, max_per_client, open: Mutex::new((0, HashMap::new())) })
    }

    /// A slot for `client`, or the 503 that tells it to poll for a while instead. The refusal
    /// is the response itself (handlers return it as is), and it is rare: not worth a box.
    #[allow(clippy::result_large_err)]
    pub fn acquire(self: &Arc<Self>, client: String) -> Result<StreamSlot, Response> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (total, per_client) = &mut *open;
        let mine = per_client.get(&client).copied().unwrap_or(0);
        if *total >= self.max_total || mine >= self.max_per_client {
            let which = if *total >= self.max_total { "BEACON_MAX_STREAMS" } else { "BEACON_MAX_STREAMS_PER_CLIENT" };
            return Err(too_many(
                ErrorCode::TooManyStreams,
                &format!("too many live streams are open ({which}); the page polls instead"),
                Duration::from_secs(5),
            ));
        }
        *total += 1;
        per_client.insert(client.clone(), mine + 1);
        Ok(StreamSlot { slots: Arc::clone(self), client })
    }

    pub fn open_count(&self) -> usize {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).0
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (total, per_client) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(mine) = per_client.get_mut(&self.client) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_caps_count_and_free() {
        let slots = StreamSlots::new(3, 2);
        let address: IpAddr = [10, 0, 0, 1].into();
        let a = client_key(None, address);
        let vera = Caller::Account { name: "vera".into(), role: crate::domain::Role::Viewer };
        let b = client_key(Some(&vera), address);
        assert_ne!(a, b, "an account's streams are its own, whatever its address");
        let first = slots.acquire(a.clone()).ok().unwrap();
        let _second = slots.acquire(a.clone()).ok().unwrap();
        assert!(slots.acquire(a).is_err(), "per-client cap");
        let _third = slots.acquire(b.clone()).ok().unwrap();
        assert!(slots.acquire(b.clone()).is_err(), "total cap");
        drop(first);
        assert_eq!(slots.open_count(), 2);
        assert!(slots.acquire(b).is_ok(), "a closed stream stops counting at once");
    }

    #[test]
    fn the_burst_then_refusal() {
        let limiter = MutationLimiter::new(MutationRate { per_second: 1, burst: 3 });
        for _ in 0..3 {
            assert!(limiter.check("a".into()).is_ok());
        }
        let wait = limiter.check("a".into()).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(limiter.check("b".into()).is_ok(), "each caller has their own bucket");
    }
}
