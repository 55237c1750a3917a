//! Every malformed request is a 4xx with a JSON error naming the problem, and changes nothing.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::TestRouter;

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str, mentions: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], want_code, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains(mentions), "{message:?} should mention {mentions:?}");
}

#[tokio::test]
async fn malformed_job_submissions_are_refused_and_create_nothing() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let ok = || json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]});
    let with = |field: &str, value: Value| {
        let mut body = ok();
        body[field] = value;
        body
    };

    let cases: Vec<(Value, &str)> = vec![
        (with("questions", json!([])), "questions"),
        (with("models", json!([])), "models"),
        (with("regions", json!([])), "regions"),
        (with("questions", json!(["nope"])), "questions"),
        (with("models", json!(["gpt-99"])), "models"),
        (with("regions", json!(["mars"])), "regions"),
        (with("questions", json!(["math_basic", "math_basic"])), "twice"),
        (with("regions", json!(["US", "us-east"])), "twice"),
        (with("questions", json!([1, 2])), "questions"),
        (with("regions", json!("US")), "regions"),
        (with("id", json!("has spaces")), "id"),
        (with("id", json!(42)), "id"),
        (json!({"models": ["llama3.2-1b"], "regions": ["US"]}), "questions"),
        (json!([1, 2, 3]), "body"),
    ];
    for (body, mentions) in cases {
        let (status, answer) = app.post_json("/api/v1/jobs", &body).await;
        assert_error(status, &answer, 400, "invalid_request", mentions);
    }
    let (status, answer) = app.post_raw("/api/v1/jobs", Some("application/json"), "{not json").await;
    assert_error(status, &answer, 400, "invalid_request", "body");
    let (status, answer) = app.post_raw("/api/v1/jobs", None, r#"{"questions": []}"#).await;
    assert_error(status, &answer, 400, "invalid_request", "Content-Type");
    let (status, answer) = app.post_raw("/api/v1/jobs", Some("application/json"), "").await;
    assert_error(status, &answer, 400, "invalid_request", "body");
    let huge = format!(r#"{{"questions": ["{}"], "models": [], "regions": []}}"#, "x".repeat(200_000));
    let (status, answer) = app.post_raw("/api/v1/jobs", Some("application/json"), huge).await;
    assert_error(status, &answer, 413, "payload_too_large", "too large");

    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM executions").await, 0);

    // An existing id is a conflict, and leaves the first job as it was.
    let (status, _) = app.post_json("/api/v1/jobs", &with("id", json!("taken"))).await;
    assert_eq!(status, 202);
    let mut second = with("id", json!("taken"));
    second["regions"] = json!(["EU", "ASIA"]);
    let (status, answer) = app.post_json("/api/v1/jobs", &second).await;
    assert_error(status, &answer, 409, "job_exists", "taken");
    assert_eq!(app.count("SELECT COUNT(*) FROM executions").await, 1);
}

#[tokio::test]
async fn bad_ids_in_paths_are_clear_client_errors() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    // One spelling per execution (STYLE.md, issue 21): a trailing space, a sign or a leading
    // zero is not execution 1, even with execution 1 existing.
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let one = app.executions(&job).await[0]["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/executions/{one}/details")).await.0, 200);
    for bad in [
        "abc".to_string(),
        "0".into(),
        "-3".into(),
        "1.5".into(),
        "99999999999999999999999".into(),
        format!("{one}%20"),
        format!("%20{one}"),
        format!("+{one}"),
        format!("0{one}"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/executions/{bad}/details")).await;
        assert_error(status, &body, 400, "invalid_execution_id", "positive integer");
    }
    let (status, body) = app.get("/api/v1/executions/12345/details").await;
    assert_error(status, &body, 404, "not_found", "12345");
    let (status, body) = app.get("/api/v1/jobs/no-such-job").await;
    assert_error(status, &body, 404, "not_found", "no-such-job");
    let (status, body) = app.get("/api/v1/jobs/no-such-job/executions/all").await;
    assert_error(status, &body, 404, "not_found", "no-such-job");
    let (status, body) = app.post_json("/api/v1/jobs/no-such-job/cancel", &json!({})).await;
    assert_error(status, &body, 404, "not_found", "no-such-job");
    // An Idempotency-Key is parsed at the edge: a bad one is refused before anything is decided.
    for bad in ["k".repeat(256), "two words".to_string()] {
        let (status, body) = app.retry(one, "US", 0, Some(&bad)).await;
        assert_error(status, &body, 400, "invalid_request", "Idempotency-Key");
    }
    assert_eq!(app.details(one).await["retry_count"], 0, "nothing was retried");
    // The page's call and the REST route agree about a job that does not exist.
    let (status, body) = app.get("/api/v1/jobs/no-such-job/warmups").await;
    assert_error(status, &body, 404, "not_found", "no-such-job");
    let warmups = <beacon::serverfns::jobs::LoadWarmups as leptos::server_fn::ServerFn>::PATH;
    let (status, body) = app.post_raw(warmups, Some("application/x-www-form-urlencoded"), "job_id=no-such-job").await;
    assert_error(status, &body, 404, "not_found", "no-such-job");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 1);
}
