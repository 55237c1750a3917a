//! OPERATIONS.md §1, §3, §4: Prometheus metrics that move as a job runs, JSON log lines that
//! carry the request id, and an online backup.

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

/// `/metrics` parsed as Prometheus text: each sample's value by name and labels.
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, Vec<prometheus_parse::Sample>) {
    let mut request = app.http.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    if status != 200 {
        return (status, Vec::new());
    }
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format");
    (status, scrape.samples)
}

fn value(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_move_as_a_job_with_failures_and_retries_runs() {
    let router =
        TestRouter::start(|req, nth| if req.prompt.contains("2+2") && nth == 0 { Reply::Fail("cold".into()) } else { Reply::Answer("ok".into()) })
            .await;
    let app = spawn_app(Options {
        router_url: Some(router.url.clone()),
        env: vec![("BEACON_METRICS_TOKEN", "scrape-secret".into())],
        ..Options::default()
    })
    .await;
    let (status, _) = scrape(&app, None).await;
    assert_eq!(status, 401, "the token is asked for when set");
    let (_, before) = scrape(&app, Some("scrape-secret")).await;
    assert_eq!(value(&before, "beacon_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    assert_eq!(value(&before, "beacon_executions", &[("status", "completed")]), 0.0);

    let job = app.submit(&["math_basic", "geography_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.wait_all_finished(&job).await;
    let failed = rows.iter().find(|r| r["status"] == "failed").unwrap()["id"].as_i64().unwrap();
    let done = rows.iter().find(|r| r["status"] == "completed").unwrap()["id"].as_i64().unwrap();
    assert_eq!(app.retry(failed, "US", 0, None).await.0, 202);
    assert_eq!(app.retry(done, "US", 1, None).await.0, 409);
    app.wait_execution(failed, |r| r["status"] == "completed").await;

    let (_, after) = scrape(&app, Some("scrape-secret")).await;
    assert_eq!(value(&after, "beacon_executions", &[("status", "completed")]), 2.0);
    assert_eq!(value(&after, "beacon_executions", &[("status", "failed")]), 0.0);
    let calls = |outcome| {
        value(
            &after,
            "beacon_router_requests_total",
            &[("provider", "hybrid-us-east"), ("region", "us-east"), ("model", "llama3.2-1b"), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("ROUTER_ERROR"), 1.0);
    assert_eq!(calls("completed"), 2.0);
    assert_eq!(value(&after, "beacon_retries_total", &[("trigger", "manual"), ("decision", "accepted")]), 1.0);
    assert_eq!(value(&after, "beacon_retries_total", &[("trigger", "manual"), ("decision", "already_completed")]), 1.0);
    assert!(value(&after, "beacon_http_requests_total", &[("route", "/api/v1/jobs/:id/executions/all"), ("status", "2xx")]) >= 1.0);
    assert_eq!(value(&after, "beacon_http_requests_total", &[("route", "/api/v1/executions/:id/retry-question"), ("status", "4xx")]), 1.0);
    let durations = after.iter().find(|s| s.metric == "beacon_router_request_duration_seconds_count");
    assert!(durations.is_some(), "the call durations are a histogram");
    // Labels come from configuration and Beacon's own codes, never from request paths.
    assert!(after.iter().all(|s| s.labels.get("route").is_none_or(|r| !r.contains(&job))), "no job id in a label");
}

#[test]
fn json_logs_carry_each_requests_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = beacon_binary()
        .env("DATABASE_URL", format!("sqlite:{}", dir.path().join("b.db").display()))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "beacon")
        .env("BEACON_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (echoed, generated) = runtime.block_on(async {
        let http = reqwest::Client::new();
        eventually("beacon to start", Duration::from_secs(30), || async {
            http.get(format!("{base}/health")).send().await.map(drop).map_err(|e| e.to_string())
        })
        .await;
        let kept = http.get(format!("{base}/api/v1/jobs")).header("x-request-id", "req-from-the-proxy-42").send().await.unwrap();
        let fresh = http.get(format!("{base}/api/v1/jobs")).send().await.unwrap();
        (kept.headers()["x-request-id"].to_str().unwrap().to_string(), fresh.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string()))
    });
    assert_eq!(echoed, "req-from-the-proxy-42", "a request id given is kept and echoed");
    assert!(generated.is_some_and(|id| id.len() >= 16), "one is made when none is given");
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let mut output = String::new();
    child.stdout.take().unwrap().read_to_string(&mut output).unwrap();
    let lines: Vec<Value> = output.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}"))).collect();
    assert!(lines.len() > 2, "{output}");
    assert!(lines.iter().all(|l| l["timestamp"].is_string() && l["level"].is_string() && l["target"].is_string()));
    let tagged: Vec<&Value> = lines.iter().filter(|l| l["span"]["request_id"] == "req-from-the-proxy-42").collect();
    assert!(!tagged.is_empty(), "the request's log line carries its id: {output}");
    assert_eq!(tagged[0]["span"]["path"], "/api/v1/jobs");

    let bad = beacon_binary().env("BEACON_LOG_FORMAT", "xml").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BEACON_LOG_FORMAT"));
}

#[tokio::test]
async fn a_backup_taken_while_a_job_runs_opens_and_holds_the_job() {
    let router = TestRouter::start(|_, _| Reply::Hang).await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "geography_basic"], &["llama3.2-1b", "mistral-7b"], &["US"]).await;
    app.wait_for(&job, Duration::from_secs(5), |rows| rows.iter().any(|r| r["status"] == "running")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("beacon-backup.db");
    let output = beacon_binary().env("DATABASE_URL", app.database_url()).arg("backup").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if app.database_url().starts_with("postgres") {
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("pg_dump"), "{stderr}");
        return;
    }
    assert!(output.status.success(), "{stderr}");
    let copy = beacon::server::db::connect(&format!("sqlite:{}", file.display())).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE job_id = $1").bind(&job).fetch_one(&copy.pool).await.unwrap();
    assert_eq!(rows, 4, "the copy holds the running job");
    // Beacon kept serving meanwhile, and a backup never overwrites a file.
    assert_eq!(app.get(&format!("/api/v1/jobs/{job}")).await.0, 200);
    let again = beacon_binary().env("DATABASE_URL", app.database_url()).arg("backup").arg(&file).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let _ = json!({});
}

#[tokio::test]
async fn a_database_from_a_newer_beacon_stops_start_up_with_a_clear_message() {
    let mut app = spawn_app(Options::default()).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (9999, 'from the future', CURRENT_TIMESTAMP, TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(&app.db().pool)
    .await
    .unwrap();
    app.stop().await;
    let err = beacon::server::db::connect(&app.database_url()).await.unwrap_err();
    assert!(err.to_string().contains("migrated by a newer Beacon") && err.to_string().contains("9999"), "{err}");
}
