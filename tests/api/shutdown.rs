//! SAFETY.md §5–§6: a claim is its task's alone, SIGTERM finishes what it can and leaves the
//! rest retryable at once, Idempotency-Keys expire, and bad settings stop start-up with exit 2.

use std::process::Stdio;
use std::time::{Duration, Instant};

use beacon::server::db::executions::{self, Outcome};
use beacon::server::startup;
use serde_json::Value;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

fn answer(text: &str) -> Outcome {
    Outcome { provider_id: Some("test".into()), ..Outcome::answered(text.into()) }
}

#[tokio::test]
async fn a_stale_claim_can_neither_renew_nor_finish_and_its_answer_is_kept_as_late() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    // Claims by hand, as two workers would.
    app.server.as_ref().unwrap().state.runner.stop_claiming();
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let db = app.db();
    let stale = executions::claim_batch(db, "hybrid-us-east", &us_east(), &all_models(), "worker-a", 0, 1).await.unwrap().pop().unwrap();
    // Worker A stalls past its lease; the sweeper gives the row up; it is retried and claimed by B.
    beacon::server::db::executions::sweep_expired_leases(db).await.unwrap();
    let id = stale.id;
    let (status, body) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202, "{body}");
    let fresh = executions::claim_batch(db, "hybrid-us-east", &us_east(), &all_models(), "worker-b", i64::MAX, 1).await.unwrap().pop().unwrap();
    assert_eq!(fresh.id, id);
    assert_ne!(fresh.claim, stale.claim, "every claim has its own token");

    assert!(executions::renew_leases(db, std::slice::from_ref(&stale.claim), i64::MAX).await.unwrap().is_empty(), "A cannot renew B's claim");
    assert_eq!(executions::renew_leases(db, std::slice::from_ref(&fresh.claim), i64::MAX).await.unwrap(), std::slice::from_ref(&fresh.claim));
    assert!(!executions::finish(db, &stale, &answer("from A")).await.unwrap(), "nor finish it");
    let row = app.details(id).await;
    assert_eq!(row["status"], "retrying", "A changed nothing on the execution");
    assert_eq!(row["retry_history"][0]["output"], "from A", "A's answer is kept on A's attempt");
    assert_eq!(row["retry_history"][0]["late"], true);
    assert_eq!(row["retry_history"][0]["status"], "interrupted");
    assert_eq!(row["retry_history"][1]["status"], "running", "B's attempt is untouched");

    assert!(executions::finish(db, &fresh, &answer("from B")).await.unwrap());
    let row = app.details(id).await;
    assert_eq!(row["status"], "completed");
    assert_eq!(row["output"], "from B");
    assert_eq!(row["retry_history"][1]["output"], "from B");
    assert_eq!(row["retry_history"][1]["late"], false);
    let _ = job;
}

/// Runs `beacon` as a process on `database_url` against `router_url`.
fn spawn_beacon(database_url: &str, router_url: &str, port: u16, grace_secs: u64) -> std::process::Child {
    beacon_binary()
        .env("DATABASE_URL", database_url)
        .env("HYBRID_ROUTER_URL", router_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("BEACON_SHUTDOWN_SECONDS", grace_secs.to_string())
        .env("LEPTOS_OUTPUT_NAME", "beacon")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the beacon binary runs")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn sigterm_lets_calls_finish_within_the_grace_then_interrupts_the_rest_and_exits_0() {
    // math_basic answers within the grace period; taiwan_status never answers in time.
    let router = TestRouter::start(|req, _| {
        if req.prompt.contains("2+2") {
            Reply::After(Duration::from_millis(1200), Box::new(Reply::Answer("4".into())))
        } else {
            Reply::Hang
        }
    })
    .await;
    let db_dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&db_dir).await;
    let port = free_port();
    let mut child = spawn_beacon(&database_url, &router.url, port, 3);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    eventually("beacon to start", Duration::from_secs(30), || async {
        match http.get(format!("{base}/health")).send().await {
            Ok(response) if response.status() == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let body = serde_json::json!({"questions": ["math_basic", "taiwan_status"], "models": ["llama3.2-1b"], "regions": ["US"]});
    let job: Value = http.post(format!("{base}/api/v1/jobs")).json(&body).send().await.unwrap().json().await.unwrap();
    let job = job["id"].as_str().unwrap().to_string();
    eventually("both calls to go out", Duration::from_secs(30), || {
        let in_flight = router.in_flight();
        std::future::ready(if in_flight >= 2 { Ok(()) } else { Err(format!("{in_flight} in flight")) })
    })
    .await;

    let signalled = Instant::now();
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = eventually("beacon to exit after SIGTERM", Duration::from_secs(15), || {
        std::future::ready(child.try_wait().unwrap().ok_or_else(|| "still running".to_string()))
    })
    .await;
    let took = signalled.elapsed();
    eprintln!("figure: SIGTERM with a 3 s grace: exited after {:.1} s", took.as_secs_f64());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "exit status; stderr: {stderr}");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(8), "waited the 3 s grace, took {took:?}");

    // Restarted, the interrupted row is retryable at once: no lease to wait for.
    let mut options = Options { router_url: Some(router.url.clone()), ..Options::default() };
    options.lease_secs = 3600;
    let restarted = startup::start(config(&options, database_url.clone())).await.unwrap();
    let base = format!("http://{}", restarted.addr);
    let rows: Value = http.get(format!("{base}/api/v1/jobs/{job}/executions/all")).send().await.unwrap().json().await.unwrap();
    let rows = rows["executions"].as_array().unwrap();
    let math = rows.iter().find(|r| r["question_id"] == "math_basic").unwrap();
    assert_eq!(math["status"], "completed", "the call that answered within the grace was recorded");
    assert_eq!(math["output"], "4");
    let taiwan = rows.iter().find(|r| r["question_id"] == "taiwan_status").unwrap();
    assert_eq!(taiwan["status"], "error");
    assert_eq!(taiwan["error_code"], "INTERRUPTED");
    assert_eq!(taiwan["retry_history"][0]["status"], "interrupted");
    let id = taiwan["id"].as_i64().unwrap();
    let retried = http
        .post(format!("{base}/api/v1/executions/{id}/retry-question"))
        .json(&serde_json::json!({"region": "US", "question_index": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 202, "{}", retried.text().await.unwrap());
    restarted.stop().await;
}

#[tokio::test]
async fn idempotency_keys_expire_after_a_day() {
    let router = TestRouter::start(|_, _| Reply::Fail("cold".into())).await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let id = app.wait_all_finished(&job).await[0]["id"].as_i64().unwrap();
    let (status, first) = app.retry(id, "US", 0, Some("key-1")).await;
    assert_eq!(status, 202, "{first}");
    app.wait_execution(id, is_finished).await;
    let (status, replay) = app.retry(id, "US", 0, Some("key-1")).await;
    assert_eq!((status, &replay), (202, &first), "within a day the key replays");
    // A day and a minute later the key is forgotten: the same key is a new request.
    app.exec("UPDATE idempotency_keys SET created_at = created_at - $1", &[24 * 60 * 60 * 1000 + 60_000]).await;
    let (status, again) = app.retry(id, "US", 0, Some("key-1")).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(first["retry_attempt"], 1);
    assert_eq!(again["retry_attempt"], 2, "a new retry, not a replay: {again}");
    app.exec("UPDATE idempotency_keys SET created_at = created_at - $1", &[24 * 60 * 60 * 1000 + 60_000]).await;
    assert!(beacon::server::db::retries::forget_expired(app.db()).await.unwrap() >= 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0);
}

#[test]
fn every_bad_setting_stops_start_up_with_status_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("b.db").display());
    for (name, value) in [
        ("BEACON_MAX_RETRIES", "many"),
        ("BEACON_REGION_CONCURRENCY", "0"),
        ("HYBRID_ROUTER_TIMEOUT", "soon"),
        ("HYBRID_ROUTER_URL", "ftp://router"),
        ("BEACON_LEASE_SECONDS", "-1"),
        ("BEACON_REQUEST_TIMEOUT", "x"),
        ("BEACON_MAX_STREAMS", "none"),
        ("BEACON_MAX_STREAMS_PER_CLIENT", "-5"),
        ("BEACON_MUTATION_RATE", "lots"),
        ("BEACON_SHUTDOWN_SECONDS", "ten"),
        ("BEACON_AUTH", "maybe"),
        ("BEACON_PUBLIC_URL", "beacon.example.org"),
        ("LEPTOS_SITE_ADDR", "nowhere"),
        ("DATABASE_URL", "mysql://root:s3cret-pass@db/beacon"),
    ] {
        let mut command = beacon_binary();
        command.env("DATABASE_URL", &database).env("LEPTOS_SITE_ADDR", "127.0.0.1:0").env(name, value);
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("s3cret-pass"), "a password was printed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A network address without a choice about accounts.
    let output = beacon_binary().env("DATABASE_URL", &database).env("LEPTOS_SITE_ADDR", "0.0.0.0:0").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("BEACON_AUTH"), "{stderr}");
}
