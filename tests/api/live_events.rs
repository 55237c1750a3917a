//! The server-sent-event streams (issue 4): one event per execution change, carrying only
//! that execution; reconnecting with Last-Event-ID replays what was missed; a client that
//! stops reading holds up nobody.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

#[derive(Debug, Clone)]
struct SseEvent {
    id: Option<i64>,
    kind: String,
    data: Value,
}

/// Reads a text/event-stream response event by event.
struct EventReader {
    response: reqwest::Response,
    buffer: String,
}

impl EventReader {
    async fn open(app: &TestApp, path: &str, last_event_id: Option<i64>) -> EventReader {
        let mut request = app.http.get(format!("{}{path}", app.base));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventReader { response, buffer: String::new() }
    }

    /// The next event with a name (comments and retry hints are skipped).
    async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !kind.is_empty() {
                    return SseEvent { id, kind, data: serde_json::from_str(&data).unwrap_or(Value::Null) };
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.response.chunk())
                .await
                .expect("an event within 20 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until an event satisfies `want`, returning everything read.
    async fn until(&mut self, want: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await;
            let done = want(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}

fn is_execution(event: &SseEvent, id: i64, status: &str) -> bool {
    event.kind == "execution" && event.data["id"] == id && event.data["status"] == status
}

#[tokio::test]
async fn each_execution_change_is_one_event_carrying_only_that_execution() {
    let router = TestRouter::start(|_, nth| {
        if nth == 0 {
            Reply::Fail("cold".into())
        } else {
            Reply::After(Duration::from_millis(300), Box::new(Reply::Answer("warm".into())))
        }
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "taiwan_status"], &["llama3.2-1b"], &["US"]).await;
    let mut stream = EventReader::open(&app, &format!("/api/v1/jobs/{job}/events?since=0"), None).await;

    // From the start: each row goes running, then failed; the job follows.
    let rows = app.wait_all_finished(&job).await;
    let id = rows[0]["id"].as_i64().unwrap();
    let other = rows[1]["id"].as_i64().unwrap();
    // Each event carries the current state of what changed, so the job's summary may already
    // say "failed" before both executions' failures have been sent: read until all three.
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    while !(seen.iter().any(|e| is_execution(e, id, "failed"))
        && seen.iter().any(|e| is_execution(e, other, "failed"))
        && seen.iter().any(|e: &SseEvent| e.kind == "job" && e.data["status"] == "failed"))
    {
        // Heartbeats keep the stream busy, so the wait is bounded here, not by the reader.
        assert!(started.elapsed() < Duration::from_secs(15), "not every final state was pushed: {seen:#?}");
        let Ok(event) = tokio::time::timeout(Duration::from_secs(15), stream.next()).await else { continue };
        seen.push(event);
    }
    for event in &seen {
        assert!(event.id.is_some(), "every event has an id");
        if event.kind == "execution" {
            assert!(event.data["job_id"] == job.as_str() && event.data.get("executions").is_none());
        }
    }
    let ids: Vec<i64> = seen.iter().map(|e| e.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "ids only grow: {ids:?}");

    // A retry: retrying, then completed, each pushed as it happens; then the job's progress.
    let (status, _) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202);
    let seen = stream.until(|e| is_execution(e, id, "completed")).await;
    assert!(seen.iter().any(|e| is_execution(e, id, "retrying") && e.data["retry_count"] == 1), "{seen:#?}");
    let completed = seen.last().unwrap();
    assert_eq!(completed.data["output"], "warm");
    assert_eq!(completed.data["original_error"], "cold");
    let job_event = stream.until(|e| e.kind == "job").await.pop().unwrap();
    assert_eq!(job_event.data["id"], job.as_str());
    assert_eq!(job_event.data["progress"]["completed"], 1);
    assert_eq!(job_event.data["progress"]["failed"], 1);
    assert_eq!(job_event.data["status"], "completed");
    assert!(job_event.data.get("questions").is_none(), "a job event carries status and progress, not the job's lists");
}

#[tokio::test]
async fn a_client_reconnecting_with_last_event_id_receives_what_it_missed() {
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Answer("warm".into()) }).await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "geography_basic", "identity_basic"], &["mistral-7b"], &["EU"]).await;
    let rows = app.wait_all_finished(&job).await;

    let mut stream = EventReader::open(&app, &format!("/api/v1/jobs/{job}/events?since=0"), None).await;
    let seen = stream.until(|e| e.kind == "job" && e.data["status"] == "failed").await;
    let last = seen.last().unwrap().id.unwrap();
    drop(stream);

    // While the client is away, two of the three are retried and complete.
    let (a, b, untouched) = (rows[0]["id"].as_i64().unwrap(), rows[1]["id"].as_i64().unwrap(), rows[2]["id"].as_i64().unwrap());
    for id in [a, b] {
        let index = rows.iter().find(|r| r["id"] == id).unwrap()["question_index"].as_i64().unwrap();
        assert_eq!(app.retry(id, "eu", index, None).await.0, 202);
        app.wait_execution(id, is_finished).await;
    }

    let mut stream = EventReader::open(&app, &format!("/api/v1/jobs/{job}/events"), Some(last)).await;
    let missed = stream.until(|e| e.kind == "job").await;
    let executions: Vec<&SseEvent> = missed.iter().filter(|e| e.kind == "execution").collect();
    let mut changed: Vec<i64> = executions.iter().map(|e| e.data["id"].as_i64().unwrap()).collect();
    changed.sort();
    assert_eq!(
        changed,
        {
            let mut want = vec![a, b];
            want.sort();
            want
        },
        "exactly the executions that changed, once each at their latest state"
    );
    assert!(executions.iter().all(|e| e.data["status"] == "completed" && e.id.unwrap() > last));
    assert!(!changed.contains(&untouched));
    assert_eq!(missed.last().unwrap().data["progress"]["completed"], 2);

    // A cursor from before the retained log gets a resync instead.
    app.exec("DELETE FROM changes WHERE seq <= $1", &[last + 1]).await;
    let mut stream = EventReader::open(&app, &format!("/api/v1/jobs/{job}/events"), Some(last)).await;
    assert_eq!(stream.next().await.kind, "resync");

    // Bad cursors and unknown jobs are client errors.
    let (status, body) = app.get(&format!("/api/v1/jobs/{job}/events?since=abc")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
    let (status, _) = app.get("/api/v1/jobs/nope/events").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_block_the_others() {
    let router = TestRouter::answering().await;
    let app = spawn_app(Options { router_url: Some(router.url.clone()), region_concurrency: 20, ..Options::default() }).await;
    let questions = BUILT_IN_QUESTIONS;
    let models = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"];

    // Opens a stream of every job's progress, and of the first job, and never reads them.
    let _stalled_jobs = app.http.get(format!("{}/api/v1/jobs/events", app.base)).send().await.unwrap();
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(app.submit(&questions, &models, &["US", "EU", "ASIA"]).await);
    }
    let _stalled_job = app.http.get(format!("{}/api/v1/jobs/{}/events?since=0", app.base, jobs[0])).send().await.unwrap();

    let mut reader = EventReader::open(&app, "/api/v1/jobs/events?since=0", None).await;
    let started = Instant::now();
    let mut finished = std::collections::HashSet::new();
    while finished.len() < jobs.len() {
        let event = reader.next().await;
        if event.kind == "job" && event.data["status"] == "completed" && event.data["progress"]["completed"] == 72 {
            finished.insert(event.data["id"].as_str().unwrap().to_string());
        }
        if event.kind == "resync" {
            // A reader that fell behind (a busy machine) is told to take a snapshot, as the
            // page does: still never blocked.
            let (_, list) = app.get("/api/v1/jobs").await;
            for job in list["jobs"].as_array().unwrap() {
                if job["status"] == "completed" && job["progress"]["completed"] == 72 {
                    finished.insert(job["id"].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(app.count("SELECT COUNT(*) FROM executions WHERE status = 'completed'").await, 8 * 72);
}

/// UI.md §1: the job's progress comes with every change, not only when its status changes
/// (a job event shares its change number with the execution change that moved it, and once
/// was dropped as already sent: the job page's header froze while its rows moved).
#[tokio::test]
async fn the_jobs_progress_comes_with_every_change() {
    let router = TestRouter::start(|_, _| Reply::After(Duration::from_millis(150), Box::new(Reply::Answer("ok".into())))).await;
    let app = spawn_app(Options { router_url: Some(router.url.clone()), region_concurrency: 1, ..Options::default() }).await;
    let job = app.submit(&["math_basic", "geography_basic", "identity_basic"], &["llama3.2-1b", "mistral-7b"], &["US"]).await;
    let mut stream = EventReader::open(&app, &format!("/api/v1/jobs/{job}/events?since=0"), None).await;
    let seen = stream.until(|e| e.kind == "job" && e.data["status"] == "completed").await;
    let running: Vec<i64> =
        seen.iter().filter(|e| e.kind == "job" && e.data["status"] == "running").map(|e| e.data["progress"]["completed"].as_i64().unwrap()).collect();
    let mut distinct = running.clone();
    distinct.dedup();
    assert!(distinct.len() >= 4, "the job's progress while running, event by event: {running:?}");
    assert!(running.windows(2).all(|w| w[0] <= w[1]), "{running:?}");
    // Each job event counts at least the completions pushed before it (it is read a moment
    // after them, so it may already count one more).
    let mut completed = std::collections::HashSet::new();
    for event in &seen {
        match event.kind.as_str() {
            "execution" if event.data["status"] == "completed" => {
                completed.insert(event.data["id"].as_i64().unwrap());
            }
            "job" => assert!(event.data["progress"]["completed"].as_i64().unwrap() >= completed.len() as i64, "{event:?}"),
            _ => {}
        }
    }
    let (_, api) = app.get(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(api["progress"]["completed"], 6);
}
