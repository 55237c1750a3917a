//! The server-sent-event endpoints. A client that reconnects (`Last-Event-ID`, or `?since=`
//! for the first connection after a server-rendered snapshot) first receives what it
//! missed, then live events; one that fell too far behind is told to `resync`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures::Stream;
use serde::Deserialize;
use std::sync::Arc;

use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio_util::sync::CancellationToken;

use super::feed::LiveFeed;
use super::feed::{events_for, LiveEvent};
use crate::domain::LiveEventKind;
use crate::server::api::extract::{JobIdPath, QueryParams};
use crate::server::auth::{Caller, CallerCredential, Credential};
use crate::server::db;
use crate::server::db::Db;
use crate::server::error::AppError;
use crate::server::http::limits::client_key;
use crate::server::http::limits::StreamSlot;
use crate::server::http::limits::StreamSlots;
use crate::server::http::ClientIp;

/// Keeps proxies from closing an idle stream.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a stream asks whether its credential still holds: a stream ends within a
/// heartbeat of its session's logout, its user's removal or its token's revocation.
const CREDENTIAL_CHECK: Duration = Duration::from_secs(5);
/// What browsers wait before reconnecting after the server went away.
const RECONNECT: Duration = Duration::from_secs(1);
/// Beyond this many missed changes a snapshot is cheaper than replaying them.
const MAX_CATCH_UP: usize = 5000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// Resume after this event id (as `Last-Event-ID` does); too far back answers `resync`.
    since: Option<String>,
}

fn resume_point(headers: &HeaderMap, query: &SinceQuery) -> Result<Option<i64>, AppError> {
    let raw = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
        .or_else(|| query.since.clone());
    match raw {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| AppError::invalid_request(format!("since / Last-Event-ID: expected a change number, got {raw:?}"))),
    }
}

enum CatchUp {
    Events(Vec<LiveEvent>),
    Resync,
}

fn to_sse(event: &LiveEvent) -> Event {
    Event::default().id(event.seq.to_string()).event(event.kind.as_str()).data(&*event.data)
}

fn resync() -> Event {
    Event::default().event(LiveEventKind::Resync.as_str()).data("{}")
}

/// What the streams use: the database to catch up from, the feed of changes, the slots that
/// bound how many are open, and the signal that ends them when the server stops.
#[derive(Clone)]
pub struct Streams {
    pub db: Db,
    pub feed: Arc<LiveFeed>,
    pub slots: Arc<StreamSlots>,
    pub shutdown: CancellationToken,
}

/// `GET /api/v1/jobs/:id/events`: the job's execution changes and its status and progress.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/events",
    operation_id = "job_events",
    tag = "live",
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event"),
        SinceQuery,
    ),
    responses(
        (status = 200, description = "Server-sent events (their kinds are listed by the document builder)", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_request` naming `since` or `Last-Event-ID`", body = crate::server::api::openapi::ErrorBody),
        (status = 503, description = "`too_many_streams` (`BEACON_MAX_STREAMS`, `BEACON_MAX_STREAMS_PER_CLIENT`); see `Retry-After`", body = crate::server::api::openapi::ErrorBody),
    ),
)]
pub async fn job_events(
    State(streams): State<Streams>,
    opening: Opening,
    JobIdPath(job_id): JobIdPath,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, axum::response::Response> {
    let db = streams.db.clone();
    let exists = {
        let (db, job_id) = (db.clone(), job_id.clone());
        async move {
            db::jobs::get(&db, &job_id).await?.ok_or_else(|| AppError::NotFound(format!("job {:?} not found", job_id.as_str())))?;
            Ok(())
        }
    };
    let missed = {
        let job_id = job_id.clone();
        move |since: i64| async move { Ok(db::changes::after_for_job(&db, &job_id, since, MAX_CATCH_UP as i64 + 1).await?) }
    };
    streams.open(opening, exists, missed, move |event| event.job_id == job_id).await
}

/// `GET /api/v1/jobs/events`: every job's status and progress as it changes.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/events",
    operation_id = "jobs_events",
    tag = "live",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event"), SinceQuery),
    responses(
        (status = 200, description = "Server-sent events (their kinds are listed by the document builder)", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_request` naming `since` or `Last-Event-ID`", body = crate::server::api::openapi::ErrorBody),
        (status = 503, description = "`too_many_streams` (`BEACON_MAX_STREAMS`, `BEACON_MAX_STREAMS_PER_CLIENT`); see `Retry-After`", body = crate::server::api::openapi::ErrorBody),
    ),
)]
pub async fn jobs_events(
    State(streams): State<Streams>,
    opening: Opening,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, axum::response::Response> {
    let db = streams.db.clone();
    let missed = move |since: i64| async move {
        // Only the jobs matter here: drop the executions from what was missed.
        let changes = db::changes::after(&db, since, MAX_CATCH_UP as i64 + 1).await?;
        Ok(changes.into_iter().map(|change| db::changes::Change { execution_id: None, ..change }).collect())
    };
    streams.open(opening, std::future::ready(Ok(())), missed, |event| event.kind == LiveEventKind::Job).await
}

/// What every stream request brings: who asks (the per-client cap counts it, and the stream
/// ends with its session or token) and where to resume.
pub struct Opening {
    client: String,
    credential: Option<Credential>,
    since: Result<Option<i64>, AppError>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Opening {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientIp(client) = ClientIp::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let caller = Caller::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let CallerCredential(credential) = CallerCredential::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let since = match QueryParams::<SinceQuery>::from_request_parts(parts, state).await {
            Ok(QueryParams(query)) => resume_point(&parts.headers, &query),
            Err(refused) => Err(refused),
        };
        Ok(Opening { client: client_key(Some(&caller), client), credential, since })
    }
}

impl Streams {
    /// Takes a slot (503 when none is free), checks the request (`since`, then `exists`),
    /// subscribes, then reads what was `missed` since the resume point: subscribing first, so
    /// nothing falls between the two. `keep` picks this stream's events.
    async fn open<Exists, Missed, Reading>(
        self,
        opening: Opening,
        exists: Exists,
        missed: Missed,
        keep: impl Fn(&LiveEvent) -> bool + Send + 'static,
    ) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, axum::response::Response>
    where
        Exists: std::future::Future<Output = Result<(), AppError>>,
        Missed: FnOnce(i64) -> Reading,
        Reading: std::future::Future<Output = Result<Vec<db::changes::Change>, AppError>>,
    {
        let slot = self.slots.acquire(opening.client)?;
        let opened = async {
            let since = opening.since?;
            exists.await?;
            let live = self.feed.subscribe();
            let catch_up = match since {
                None => CatchUp::Events(Vec::new()),
                Some(since) => catch_up(&self.db, since, missed(since).await?).await?,
            };
            let ends = Ends { shutdown: self.shutdown.clone(), credential: opening.credential.map(|c| (self.db.clone(), c)) };
            Ok::<_, AppError>(event_stream(slot, catch_up, since, live, ends, keep))
        };
        opened.await.map_err(IntoResponse::into_response)
    }
}

/// What a resuming client missed, read in one bounded batch; a resync when that is too much,
/// when the log no longer reaches back so far, or when the client claims a change number this
/// database has not reached (it was talking to another database, or one restored from backup).
async fn catch_up(db: &Db, since: i64, changes: Vec<db::changes::Change>) -> Result<CatchUp, AppError> {
    let pruned = since + 1 < db::changes::oldest_seq(db).await?;
    let from_the_future = since > db::changes::latest_seq(db).await?;
    if pruned || from_the_future || changes.len() > MAX_CATCH_UP {
        Ok(CatchUp::Resync)
    } else {
        Ok(CatchUp::Events(events_for(db, &changes).await?))
    }
}

/// What ends a stream besides the client: the server stopping, or the credential it was
/// opened with ending.
struct Ends {
    shutdown: CancellationToken,
    credential: Option<(db::Db, Credential)>,
}

impl Ends {
    /// Returns when the credential no longer names an account (never without one).
    async fn credential_ended(credential: &Option<(db::Db, Credential)>) {
        let Some((db, credential)) = credential else { return std::future::pending().await };
        let mut every = tokio::time::interval(CREDENTIAL_CHECK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            match credential.is_live(db).await {
                Ok(true) => {}
                Ok(false) => return,
                // A database hiccup is no reason to cut a researcher off; the next check decides.
                Err(err) => tracing::warn!(%err, "could not check a live stream's credential"),
            }
        }
    }
}

/// What was missed, then the live events `wanted` by this client, until the server stops or
/// the credential ends.
fn event_stream(
    slot: StreamSlot,
    catch_up: CatchUp,
    since: Option<i64>,
    mut live: Receiver<Arc<LiveEvent>>,
    ends: Ends,
    wanted: impl Fn(&LiveEvent) -> bool + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = async_stream::stream! {
        // Held for as long as the stream lives: a client that goes away frees its slot at once.
        let _slot = slot;
        yield Ok(Event::default().retry(RECONNECT).comment("beacon live"));
        // Where this client is: everything at or before a resume point, then each event's own
        // position (a job's progress shares its number with the execution change that moved it).
        let mut sent = (since.unwrap_or(0), u8::MAX);
        match catch_up {
            CatchUp::Resync => yield Ok(resync()),
            CatchUp::Events(events) => for event in events {
                sent = sent.max(event.position());
                yield Ok(to_sse(&event));
            },
        }
        let credential_ended = Ends::credential_ended(&ends.credential);
        tokio::pin!(credential_ended);
        loop {
            let received = tokio::select! {
                received = live.recv() => received,
                _ = ends.shutdown.cancelled() => break,
                _ = &mut credential_ended => break,
            };
            match received {
                Ok(event) if event.position() > sent && wanted(&event) => {
                    sent = event.position();
                    yield Ok(to_sse(&event));
                }
                Ok(_) => {}
                // This client fell behind by more than the feed buffers: a snapshot is cheaper.
                Err(RecvError::Lagged(_)) => yield Ok(resync()),
                Err(RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT))
}
