//! SAFETY.md §3: overload slows Beacon down but never damages running work.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

#[tokio::test]
async fn mutations_past_the_burst_wait_and_every_one_counts() {
    let app = spawn_app(Options { env: vec![("BEACON_MUTATION_RATE", "1/s,burst=3".into())], ..Options::default() }).await;
    // Refused requests count too: two bad bodies and one good job use the burst.
    let (status, _) = app.post_json("/api/v1/jobs", &json!({"questions": []})).await;
    assert_eq!(status, 400);
    let (status, _) = app.post_json("/api/v1/jobs", &json!({"nope": 1})).await;
    assert_eq!(status, 400);
    app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let response = app
        .http
        .post(format!("{}/api/v1/jobs", app.base))
        .json(&json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1, "the refused job was not created");
    // Reads are not limited.
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/jobs").await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.submit(&["math_basic"], &["llama3.2-1b"], &["EU"]).await;
}

#[tokio::test]
async fn live_streams_are_capped_per_client_and_a_closed_one_frees_its_slot() {
    let app = spawn_app(Options { env: vec![("BEACON_MAX_STREAMS_PER_CLIENT", "2".into())], ..Options::default() }).await;
    let open = || app.http.get(format!("{}/api/v1/jobs/events", app.base)).send();
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    let third = open().await.unwrap();
    assert_eq!(third.status(), 503);
    assert!(third.headers().contains_key("retry-after"));
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["code"], "too_many_streams");
    drop(first);
    eventually("the closed stream to free its slot", Duration::from_secs(5), || async {
        let again = open().await.unwrap();
        if again.status() == 200 {
            Ok(again)
        } else {
            Err(format!("a closed stream still counts: {}", again.status()))
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_cut_off_while_others_are_served() {
    let app = spawn_app(Options::default()).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled.write_all(b"GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
    let started = Instant::now();
    let closed = async {
        let mut buffer = [0u8; 1024];
        // Read until the server closes (it may first send a 408).
        while stalled.read(&mut buffer).await.map(|n| n > 0).unwrap_or(false) {}
    };
    let health = async {
        loop {
            assert_eq!(app.get("/health").await.0, 200, "others are served meanwhile");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        _ = closed => {}
        _ = health => unreachable!(),
        _ = tokio::time::sleep(Duration::from_secs(40)) => panic!("the stalled client was never disconnected"),
    }
    let after = started.elapsed();
    eprintln!("figure: a client stalled in its headers was disconnected after {:.1} s", after.as_secs_f64());
    assert!(after >= Duration::from_secs(25) && after <= Duration::from_secs(35), "disconnected after {after:?}");
}

// One thread for the server and the 32 readers: the renewals must not depend on getting it.
#[tokio::test]
async fn a_flood_of_reads_does_not_cost_running_calls_their_leases() {
    // Five-second leases, renewed every 1.25 s, while 6-second router calls run and 32 clients
    // stream a 2,000-row job as fast as they can (each stream holds a database connection while
    // it is read): every call must still complete. With the runner on the readers' pool this
    // loses leases; with its own connections it does not.
    let router = TestRouter::start(|_, _| Reply::After(Duration::from_secs(6), Box::new(Reply::Answer("fine".into())))).await;
    // A generous router time-out: this test is about leases, not about a loaded machine
    // answering a 6 s call in time.
    let app = spawn_app(Options {
        router_url: Some(router.url.clone()),
        lease_secs: 5,
        region_concurrency: 20,
        router_timeout_secs: 60,
        ..Options::default()
    })
    .await;
    let questions = app.add_questions(2000).await;
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    // The big job is only read: cancelled at once, its rows stay.
    let big = app.submit(&questions, &["mistral-7b"], &["EU"]).await;
    let (status, _) = app.post_json(&format!("/api/v1/jobs/{big}/cancel"), &json!({})).await;
    assert_eq!(status, 200);
    let job = app.submit(&questions[..40], &["llama3.2-1b"], &["US"]).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let mut readers = Vec::new();
    for _ in 0..32 {
        let (http, url, stop) = (app.http.clone(), format!("{}/api/v1/jobs/{big}/executions/all", app.base), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0u32;
            while !stop.is_cancelled() {
                if let Ok(response) = http.get(&url).send().await {
                    if response.status() == 200 && response.bytes().await.is_ok() {
                        reads += 1;
                    }
                }
            }
            reads
        }));
    }
    let rows = app.wait_for(&job, Duration::from_secs(90), |rows| rows.iter().all(is_finished)).await;
    stop.cancel();
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.unwrap();
    }
    assert!(reads > 20, "the readers did read ({reads})");
    eprintln!(
        "figure: {} of {} 6-second calls completed on 5-second leases while 32 clients streamed a 2,000-row job {reads} times",
        rows.iter().filter(|r| r["status"] == "completed").count(),
        rows.len()
    );
    let lost: Vec<String> = rows.iter().filter(|r| r["status"] != "completed").map(|r| format!("{} {}", r["status"], r["error_code"])).collect();
    assert!(lost.is_empty(), "{} of {} calls did not complete under reads: {lost:?}", lost.len(), rows.len());
}
