//! Several Beacon processes on one PostgreSQL database (issue 5). Runs when
//! `BEACON_TEST_POSTGRES` names a server (scripts/with-postgres.sh does); SQLite serves one
//! machine, so on SQLite these are skipped with a note.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{eventually, fresh_database, BUILT_IN_QUESTIONS};
use crate::test_router::{Reply, TestRouter};

/// One `beacon` process (the real binary), killed when dropped.
struct Instance {
    base: String,
    child: tokio::process::Child,
}

impl Instance {
    async fn start(database_url: &str, router: &TestRouter, extra: &[(&str, &str)]) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_beacon"));
        command
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("HYBRID_ROUTER_URL", &router.url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (key, value) in extra {
            command.env(key, value);
        }
        let child = command.spawn().expect("the beacon binary starts");
        let base = format!("http://127.0.0.1:{port}");
        eventually("the instance to come up", Duration::from_secs(20), || async {
            match reqwest::get(format!("{base}/health")).await {
                Ok(response) if response.status() == 200 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        Instance { base, child }
    }

    /// As a crash: no shutdown, no lease released.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

async fn postgres() -> Option<(tempfile::TempDir, String)> {
    if std::env::var("BEACON_TEST_POSTGRES").map(|v| v.is_empty()).unwrap_or(true) {
        eprintln!("skipped: multi-instance tests need BEACON_TEST_POSTGRES (scripts/with-postgres.sh)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    Some((dir, url))
}

async fn submit(base: &str, questions: &[&str], models: &[&str], regions: &[&str]) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/jobs"))
        .json(&json!({"questions": questions, "models": models, "regions": regions}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn executions(base: &str, job: &str) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{base}/api/v1/jobs/{job}/executions/all")).await.unwrap().json().await.unwrap();
    body["executions"].as_array().unwrap().clone()
}

async fn wait_settled(base: &str, job: &str, timeout: Duration) -> Vec<Value> {
    eventually("the job to settle", timeout, || async {
        let rows = executions(base, job).await;
        if rows.iter().all(|r| !matches!(r["status"].as_str(), Some("pending" | "running" | "retrying"))) {
            Ok(rows)
        } else {
            Err(format!("{:?}", rows.iter().map(|r| r["status"].clone()).collect::<Vec<_>>()))
        }
    })
    .await
}

const QUESTIONS: [&str; 8] = BUILT_IN_QUESTIONS;
const MODELS: [&str; 3] = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"];

#[tokio::test]
async fn simultaneous_retries_split_across_two_instances_are_accepted_exactly_once() {
    let Some((_dir, url)) = postgres().await else { return };
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Hang }).await;
    let a = Instance::start(&url, &router, &[]).await;
    let b = Instance::start(&url, &router, &[]).await;
    let job = submit(&a.base, &["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let id = wait_settled(&a.base, &job, Duration::from_secs(10)).await[0]["id"].as_i64().unwrap();

    let client = reqwest::Client::new();
    let mut calls = Vec::new();
    for i in 0..100 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/executions/{id}/retry-question"))
                .json(&json!({"region": "US", "question_index": 0}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for call in calls {
        *statuses.entry(call.await.unwrap()).or_default() += 1;
    }
    assert_eq!(statuses.get(&202), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get(&409), Some(&99), "{statuses:?}");
    let row: Value = reqwest::get(format!("{}/api/v1/executions/{id}/details", b.base)).await.unwrap().json().await.unwrap();
    assert_eq!(row["retry_count"], 1);
    assert_eq!(row["retry_history"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn two_runners_share_a_job_and_send_each_execution_to_the_router_exactly_once() {
    let Some((_dir, url)) = postgres().await else { return };
    let router = TestRouter::start(|_, _| Reply::After(Duration::from_millis(300), Box::new(Reply::Answer("ok".into())))).await;
    let a = Instance::start(&url, &router, &[("BEACON_REGION_CONCURRENCY", "3")]).await;
    let b = Instance::start(&url, &router, &[("BEACON_REGION_CONCURRENCY", "3")]).await;
    let job = submit(&b.base, &QUESTIONS, &MODELS, &["US", "EU", "ASIA"]).await;
    let rows = wait_settled(&a.base, &job, Duration::from_secs(60)).await;
    assert_eq!(rows.len(), 72);
    assert!(rows.iter().all(|r| r["status"] == "completed"));

    let requests = router.received();
    assert_eq!(requests.len(), 72, "one router call per execution");
    let distinct: std::collections::HashSet<&Vec<u8>> = requests.iter().collect();
    assert_eq!(distinct.len(), 72, "no execution sent twice");
    // Both runners took part: more than one instance's worth of calls were open at once.
    assert!(router.max_in_flight() > 9, "max in flight {} ≤ one instance's 3 regions × 3", router.max_in_flight());
}

#[tokio::test]
async fn when_one_instance_dies_mid_job_the_other_finishes_and_nothing_stays_running() {
    let Some((_dir, url)) = postgres().await else { return };
    let router = TestRouter::start(|_, _| Reply::After(Duration::from_millis(300), Box::new(Reply::Answer("ok".into())))).await;
    let settings = [("BEACON_REGION_CONCURRENCY", "2"), ("BEACON_LEASE_SECONDS", "2")];
    let a = Instance::start(&url, &router, &settings).await;
    let b = Instance::start(&url, &router, &settings).await;
    let job = submit(&a.base, &QUESTIONS, &MODELS, &["US", "EU"]).await;
    // Let both get going, then kill one mid-call.
    eventually("six answers", Duration::from_secs(20), || async {
        let completed = executions(&b.base, &job).await.iter().filter(|r| r["status"] == "completed").count();
        if completed >= 6 {
            Ok(())
        } else {
            Err(format!("{completed} completed"))
        }
    })
    .await;
    a.kill().await;

    let rows = wait_settled(&b.base, &job, Duration::from_secs(60)).await;
    assert_eq!(rows.len(), 48);
    let interrupted: Vec<&Value> = rows.iter().filter(|r| r["status"] == "error").collect();
    assert!(interrupted.iter().all(|r| r["error_code"] == "INTERRUPTED"), "{interrupted:#?}");
    assert!(rows.iter().all(|r| matches!(r["status"].as_str(), Some("completed" | "error"))));
    assert!(!interrupted.is_empty(), "the dead instance had calls in flight");
    for row in &interrupted {
        let history = row["retry_history"].as_array().unwrap();
        assert_eq!(history.last().unwrap()["status"], "interrupted");
    }
}

#[tokio::test]
async fn a_client_on_one_instance_sees_a_retry_made_through_the_other() {
    let Some((_dir, url)) = postgres().await else { return };
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Answer("warm".into()) }).await;
    let a = Instance::start(&url, &router, &[]).await;
    let b = Instance::start(&url, &router, &[]).await;
    let job = submit(&a.base, &["taiwan_status"], &["qwen2.5-1.5b"], &["EU"]).await;
    let id = wait_settled(&a.base, &job, Duration::from_secs(10)).await[0]["id"].as_i64().unwrap();

    // The page on A follows the job's stream from now on.
    let mut stream = reqwest::get(format!("{}/api/v1/jobs/{job}/events", a.base)).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/executions/{id}/retry-question", b.base))
        .json(&json!({"region": "eu-west", "question_index": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let mut text = String::new();
    let started = Instant::now();
    // A fast retry's queued and finished states may reach the stream as one event: what
    // counts is that A pushes B's retry and its outcome.
    while !(text.contains("\"status\":\"completed\"") && text.contains("\"retry_count\":1")) {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(10), stream.chunk()).await else {
            let rows = executions(&a.base, &job).await;
            panic!("A's stream went quiet; received so far: {text}\nrows now: {rows:#?}");
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        assert!(started.elapsed() < Duration::from_secs(10), "A did not push B's retry: {text}");
    }
    assert!(text.contains("\"output\":\"warm\""));
}
