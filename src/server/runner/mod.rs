//! The job runner: claims queued executions from the database, region by region, and runs
//! each through the router under a lease. The database is the queue: whatever is `pending`
//! (or a retry waiting its turn) and unleased is work, so a restart or a second instance
//! picks up exactly what is left.

mod lease;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::domain::retry::{auto_backoff, is_auto_retryable};
use crate::domain::ExecutionStatus;
use crate::server::db::executions::{self, Claimed, Outcome};
use crate::server::db::group_commit::{GroupCommitter, GroupQueue, GroupWrite};
use crate::server::db::warmups::{self, TakenWarmup};
use crate::server::db::{now_ms, Db, WriteTx};
use crate::server::providers::Provider;
use crate::server::telemetry::metrics::Metrics;

pub use lease::spawn_sweeper;

/// Calls in flight on this instance, by execution id, with the token that drops one.
pub(crate) type InFlight = Mutex<HashMap<i64, (Claimed, CancellationToken)>>;

/// How often an idle region looks for work it was not told about (another instance's
/// submissions, rows freed by the sweeper).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Rows one claim takes at most.
const MAX_CLAIM: usize = 50;
/// A taken warm-up is someone else's to retake this long after its time-out would have ended
/// it (its instance stopped).
const WARMUP_LEASE_MARGIN_MS: i64 = 30_000;

/// One provider's claiming loop: it takes the queued rows of the (region, model) pairs the
/// provider serves, as many as the provider has free slots. Where several providers serve one
/// pair, their lanes take turns at the same rows, which spreads the work between them.
struct Lane {
    provider: Arc<Provider>,
    /// Beacon's model ids the provider serves.
    models: Vec<String>,
    wake: Notify,
    /// The runner's `wakes` when this lane last found no warm-up waiting (`NEVER`: look). A
    /// warm-up is only made with a job (or left by a stopped instance), so until the next wake
    /// or idle poll a claim need not ask the database again.
    no_warmup_since: AtomicU64,
}

const NEVER: u64 = u64::MAX;

pub struct Runner {
    db: Db,
    /// Waits before automatic retries 1, 2, … (the last repeats).
    auto_backoff: Vec<Duration>,
    metrics: Arc<Metrics>,
    /// This process's lease owner name: unique per start, so a restarted server never
    /// mistakes its predecessor's leases for its own.
    owner: String,
    lease: Duration,
    lanes: Vec<Lane>,
    /// Counts [`Runner::wake`]s: new work, perhaps new warm-ups.
    wakes: AtomicU64,
    /// Calls in flight here, by execution id: what a stopping server waits for, and, when its
    /// grace period is over, interrupts. A cancel does not cut them off (SAFETY.md §5).
    in_flight: Arc<InFlight>,
    /// Signalled whenever a call in flight has been recorded and left `in_flight`.
    call_ended: Notify,
    /// Stops the claiming loops and the sweeper.
    shutdown: CancellationToken,
    /// Stops the task that records outcomes: after the last call in flight is recorded.
    stopped: CancellationToken,
    /// Finished attempts waiting to be recorded: one task commits them together.
    finishes: GroupCommitter<FinishWrites>,
    finish_queue: Mutex<Option<GroupQueue<FinishWrites>>>,
}

/// One finished attempt for the group commit.
struct Finish {
    claimed: Claimed,
    outcome: Outcome,
}

/// Outcomes recorded together (see [`crate::server::db::group_commit`]): under load one
/// commit, and one status derivation per job, for many attempts; alone, an attempt is written
/// at once.
struct FinishWrites;

impl GroupWrite for FinishWrites {
    type Item = Finish;
    type Answer = sqlx::Result<bool>;
    type Error = sqlx::Error;
    const MAX_GROUP: usize = 200;

    async fn write(&self, db: &Db, tx: sqlx::Result<WriteTx>, group: &[Finish]) -> sqlx::Result<Vec<sqlx::Result<bool>>> {
        let items: Vec<(&Claimed, &Outcome)> = group.iter().map(|f| (&f.claimed, &f.outcome)).collect();
        Ok(executions::finish_many(db, tx?, &items).await?.into_iter().map(Ok).collect())
    }

    fn failed(&self, error: sqlx::Error) -> sqlx::Result<bool> {
        Err(error)
    }
}

impl Runner {
    pub fn new(db: Db, providers: Vec<Arc<Provider>>, lease: Duration, auto_backoff: Vec<Duration>, metrics: Arc<Metrics>) -> Arc<Runner> {
        let (finishes, finish_queue) = GroupCommitter::new();
        Arc::new(Runner {
            finishes,
            finish_queue: Mutex::new(Some(finish_queue)),
            db,
            auto_backoff,
            metrics,
            owner: format!("beacon-{}", uuid::Uuid::new_v4()),
            lease,
            lanes: providers
                .into_iter()
                .map(|provider| Lane {
                    models: provider.spec.models.keys().cloned().collect(),
                    provider,
                    wake: Notify::new(),
                    no_warmup_since: AtomicU64::new(NEVER),
                })
                .collect(),
            wakes: AtomicU64::new(0),
            in_flight: Arc::default(),
            call_ended: Notify::new(),
            shutdown: CancellationToken::new(),
            stopped: CancellationToken::new(),
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Starts one claiming loop per provider, the lease keeper and the lease sweeper.
    pub fn start(self: &Arc<Self>) {
        if let Some(queue) = self.finish_queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            tokio::spawn(queue.run(self.db.clone(), FinishWrites, self.stopped.clone()));
        }
        for index in 0..self.lanes.len() {
            tokio::spawn(Arc::clone(self).drive_lane(index));
        }
        spawn_sweeper(self.db.clone(), self.lease, self.shutdown.clone());
        lease::spawn_keeper(self.db.clone(), self.lease, Arc::clone(&self.in_flight), self.stopped.clone());
    }

    /// Tells the claiming loops that new work is queued, so they need not wait for their poll.
    pub fn wake(&self) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        for lane in &self.lanes {
            lane.wake.notify_one();
        }
    }

    /// Stops claiming new work. Calls in flight go on (see [`Runner::finish_in_flight`]).
    pub fn stop_claiming(&self) {
        self.shutdown.cancel();
    }

    /// Calls in flight on this instance.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    /// After [`Runner::stop_claiming`]: waits up to `grace` for the calls in flight to answer
    /// and be recorded; then gives up on the rest and marks them `error`/`INTERRUPTED` with
    /// their leases released, so they are retryable at once after a restart.
    pub async fn finish_in_flight(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let ended = self.call_ended.notified();
            if self.in_flight_count() == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                break;
            }
        }
        let left: Vec<Claimed> = {
            let in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for (_, token) in in_flight.values() {
                token.cancel();
            }
            in_flight.values().map(|(claimed, _)| claimed.clone()).collect()
        };
        if !left.is_empty() {
            match executions::interrupt_claims(&self.db, &left).await {
                Ok(count) => tracing::warn!(count, "marked calls still running at shutdown as interrupted"),
                Err(err) => tracing::error!(%err, "could not mark calls still running at shutdown; their leases will expire"),
            }
        }
        self.stopped.cancel();
    }

    /// As if the process had died (tests of crash recovery): claiming stops and calls in
    /// flight are dropped without a word to the database; their leases expire.
    pub fn halt(&self) {
        self.shutdown.cancel();
        self.stopped.cancel();
        for (_, token) in self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).values() {
            token.cancel();
        }
    }

    async fn drive_lane(self: Arc<Self>, index: usize) {
        let lane = &self.lanes[index];
        let slots = Arc::clone(&lane.provider.slots);
        let region = lane.provider.spec.region.clone();
        loop {
            // Biased: once the runner is told to stop, a free slot must not win the race.
            let permit = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return,
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            // A warm-up this provider owes a job comes before that job's rows (which the claim
            // leaves alone until it is done); it uses one of the provider's slots.
            let wakes = self.wakes.load(Ordering::SeqCst);
            if lane.no_warmup_since.load(Ordering::SeqCst) != wakes {
                let warm_until = now_ms() + lane.provider.spec.timeout.as_millis() as i64 + WARMUP_LEASE_MARGIN_MS;
                match warmups::take(&self.db, &lane.provider.spec.id, warm_until).await {
                    Ok(Some(warmup)) => {
                        tokio::spawn(Arc::clone(&self).warm_up(Arc::clone(&lane.provider), warmup, permit));
                        continue;
                    }
                    // Read before the look: a wake during it makes the next claim look again.
                    Ok(None) => lane.no_warmup_since.store(wakes, Ordering::SeqCst),
                    Err(err) => tracing::warn!(provider = %lane.provider.spec.id, %err, "could not look for warm-ups"),
                }
            }
            // Every free slot of the provider is filled by one claim: under load the runner
            // takes work in batches instead of a transaction per row. The slots are counted
            // when the writer's turn comes, so those freed while it waited join in.
            let mut permits = vec![permit];
            // Stopping may have begun while the warm-up check ran: claim nothing more.
            if self.shutdown.is_cancelled() {
                return;
            }
            let free_slots = || {
                // The turn may come after stopping began (it can wait for requests): then
                // nothing is claimed, as nothing may start once the calls in flight are counted.
                if self.shutdown.is_cancelled() {
                    return 0;
                }
                while permits.len() < MAX_CLAIM {
                    match Arc::clone(&slots).try_acquire_owned() {
                        Ok(more) => permits.push(more),
                        Err(_) => break,
                    }
                }
                permits.len() as i64
            };
            let lease_until = now_ms() + self.lease.as_millis() as i64;
            let claimed =
                executions::claim_at_turn(&self.db, &lane.provider.spec.id, &region, &lane.models, &self.owner, lease_until, free_slots).await;
            match claimed {
                Ok(claimed) if !claimed.is_empty() => {
                    // Unused slots go back when their permits drop.
                    for (claimed, permit) in claimed.into_iter().zip(permits.drain(..)) {
                        tokio::spawn(Arc::clone(&self).execute(Arc::clone(&lane.provider), claimed, permit));
                    }
                }
                Ok(_) => {
                    drop(permits);
                    tokio::select! {
                        _ = lane.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = self.shutdown.cancelled() => return,
                    }
                    // Idle: look for warm-ups again (another instance's, or one whose instance
                    // stopped).
                    lane.no_warmup_since.store(NEVER, Ordering::SeqCst);
                }
                Err(err) => {
                    drop(permits);
                    tracing::error!(provider = %lane.provider.spec.id, %err, "could not claim work; retrying shortly");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
    }

    /// Runs one claimed attempt to its end. Holding `slot` keeps the provider's limit honest
    /// until the router call is over; it goes back before the outcome is recorded, so the next
    /// claim overlaps this commit instead of waiting for it (the limit is on calls, not writes). A call once sent is never cut off by a cancel or a lost
    /// lease (the GPU time is spent either way): its answer is recorded, as a late answer if the
    /// claim was taken meanwhile. Only a stopping server past its grace period drops it.
    async fn execute(self: Arc<Self>, provider: Arc<Provider>, claimed: Claimed, slot: OwnedSemaphorePermit) {
        let token = CancellationToken::new();
        self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(claimed.id, (claimed.clone(), token.clone()));
        // The lease keeper renews the claim while it is in `in_flight`. A call that had to wait
        // for its turn (a rate limit, a provider's Retry-After) checks it still holds its row
        // before sending: a cancel meanwhile means nothing goes out (SAFETY.md §5).
        let waited = tokio::select! {
            waited = provider.wait_turn() => Some(waited),
            _ = token.cancelled() => None,
        };
        let still_held = match waited {
            Some(true) => executions::still_held(&self.db, &claimed).await.unwrap_or(true),
            Some(false) => true,
            None => false,
        };
        let started = std::time::Instant::now();
        let outcome = if still_held {
            tokio::select! {
                outcome = provider.infer(&claimed.request_json) => Some(outcome),
                _ = token.cancelled() => None,
            }
        } else {
            tracing::info!(execution = claimed.id, "not sent: the row was cancelled or taken while it waited for its turn");
            None
        };
        drop(slot);
        match outcome {
            Some(mut outcome) => {
                let provider_id = provider.spec.id.as_str();
                let label = outcome.error_code.clone().unwrap_or_else(|| outcome.status.to_string());
                self.metrics
                    .router_requests
                    .with_label_values(&[provider_id, claimed.region.as_str(), claimed.model_id.as_str(), label.as_str()])
                    .inc();
                self.metrics.router_duration.with_label_values(&[provider_id, claimed.region.as_str()]).observe(started.elapsed().as_secs_f64());
                outcome.auto_retry_in_ms = self.auto_retry_wait(&claimed, &outcome);
                if outcome.auto_retry_in_ms.is_some() {
                    self.metrics.retries.with_label_values(&["auto", "accepted"]).inc();
                }
                self.record(&claimed, &outcome).await
            }
            None => tracing::info!(execution = claimed.id, "router call dropped: the server is stopping"),
        }
        self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&claimed.id);
        self.call_ended.notify_waiters();
    }

    /// Sends warm-up requests until the provider answers or its time-out has passed, waiting
    /// the automatic-retry backoff between them; then the job's rows may go to it, either way
    /// (a pair that never warms up still runs, and fails and retries as usual).
    async fn warm_up(self: Arc<Self>, provider: Arc<Provider>, warmup: TakenWarmup, _slot: OwnedSemaphorePermit) {
        let deadline = tokio::time::Instant::now() + provider.spec.timeout;
        let mut tries = 0usize;
        let outcome = loop {
            tries += 1;
            if let Err(err) = warmups::count_request(&self.db, warmup.id).await {
                tracing::warn!(%err, "could not count a warm-up request");
            }
            let probed = tokio::select! {
                probed = tokio::time::timeout_at(deadline, provider.probe(&warmup.model_id)) => probed,
                _ = self.shutdown.cancelled() => break Err("Beacon stopped during the warm-up".to_string()),
            };
            match probed {
                Ok(Ok(())) => break Ok(()),
                Ok(Err(error)) => {
                    let wait = self.auto_backoff.get(tries - 1).or(self.auto_backoff.last()).copied().unwrap_or_default();
                    if tokio::time::Instant::now() + wait >= deadline {
                        break Err(error);
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(_) => break Err("no answer within the provider's time-out".to_string()),
            }
        };
        tracing::info!(provider = %provider.spec.id, model = %warmup.model_id, job = %warmup.job_id, tries, ok = outcome.is_ok(), "warm-up finished");
        if let Err(err) = warmups::finish(&self.db, warmup.id, outcome.is_ok(), outcome.err().as_deref()).await {
            tracing::error!(%err, "could not record a warm-up; its lease will run out");
        }
        self.wake();
    }

    /// When this failure is to be retried automatically (PROVIDERS.md §3): an infrastructure
    /// failure with budget left in its chain. The wait follows the configured backoff, with up
    /// to 20 % jitter that only lengthens it, and never ends before a `Retry-After`.
    fn auto_retry_wait(&self, claimed: &Claimed, outcome: &Outcome) -> Option<i64> {
        let code = outcome.error_code.as_deref()?;
        if outcome.status == ExecutionStatus::Completed || !is_auto_retryable(code) || claimed.auto_retry_count >= claimed.auto_retries {
            return None;
        }
        let schedule: Vec<u64> = self.auto_backoff.iter().map(|d| d.as_millis() as u64).collect();
        let jitter = {
            use password_hash::rand_core::{OsRng, RngCore};
            (OsRng.next_u32() as f64 / u32::MAX as f64) * 0.2
        };
        let retry_after = outcome.provenance.retry_after_ms;
        Some(auto_backoff(&schedule, claimed.auto_retry_count as usize + 1, jitter, retry_after) as i64)
    }

    /// Records the outcome through the group commit, and waits until it is committed.
    async fn record(&self, claimed: &Claimed, outcome: &Outcome) {
        let finish = Finish { claimed: claimed.clone(), outcome: outcome.clone() };
        let result = self.finishes.submit(finish).await.unwrap_or(Err(sqlx::Error::PoolClosed));
        match result {
            Ok(true) => tracing::info!(
                execution = claimed.id,
                status = %outcome.status,
                code = outcome.error_code.as_deref().unwrap_or(""),
                "attempt finished"
            ),
            Ok(false) => tracing::info!(execution = claimed.id, "answer arrived after the claim was taken; kept on its attempt as late"),
            // The lease will expire and the sweeper will mark the row interrupted.
            Err(err) => tracing::error!(execution = claimed.id, %err, "could not record an attempt's outcome"),
        }
    }
}
