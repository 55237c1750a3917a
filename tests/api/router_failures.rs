//! Every way a router call can fail ends in the right status and code (issue 2 §4).

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

async fn single_execution_outcome(router_url: &str, timeout_secs: u64) -> Value {
    let app = spawn_app(Options { router_url: Some(router_url.to_string()), router_timeout_secs: timeout_secs, ..Options::default() }).await;
    let id = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.wait_all_finished(&id).await;
    assert_eq!(rows.len(), 1);
    rows[0].clone()
}

async fn outcome_for(reply: Reply) -> Value {
    let router = TestRouter::start(move |_, _| reply.clone()).await;
    single_execution_outcome(&router.url, 1).await
}

fn assert_failure(row: &Value, status: &str, code: &str, message_contains: &str) {
    assert_eq!(row["status"], status, "{row:#}");
    assert_eq!(row["error_code"], code, "{row:#}");
    let error = row["error"].as_str().unwrap();
    assert!(error.contains(message_contains), "{error:?} should contain {message_contains:?}");
    assert_eq!(row["original_error"], row["error"], "the first failure is the original error");
    let history = row["retry_history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["status"], status);
    assert_eq!(history[0]["error_code"], code);
    assert!(history[0]["finished_at"].is_string());
}

#[tokio::test]
async fn a_router_that_does_not_answer_in_time_is_a_timeout() {
    let row = outcome_for(Reply::Hang).await;
    assert_failure(&row, "timeout", "ROUTER_TIMEOUT", "did not answer in time");
}

#[tokio::test]
async fn success_false_is_a_router_error_with_the_routers_message() {
    let row = outcome_for(Reply::Fail("app for invoked web endpoint is stopped".into())).await;
    assert_failure(&row, "failed", "ROUTER_ERROR", "app for invoked web endpoint is stopped");
    assert_eq!(row["provider_id"], "hybrid-us-east");
}

#[tokio::test]
async fn a_non_2xx_answer_is_a_router_http_error_with_its_status() {
    let row = outcome_for(Reply::Http(503, r#"{"detail": "No healthy providers available"}"#.into())).await;
    assert_failure(&row, "failed", "ROUTER_HTTP_503", "No healthy providers available");
    let row = outcome_for(Reply::Http(502, "<html>bad gateway</html>".into())).await;
    assert_failure(&row, "failed", "ROUTER_HTTP_502", "bad gateway");
}

#[tokio::test]
async fn an_unparsable_body_is_a_json_error() {
    let row = outcome_for(Reply::Raw("this is not json".into())).await;
    assert_failure(&row, "failed", "ROUTER_JSON_ERROR", "not the expected JSON");
}

#[tokio::test]
async fn an_empty_answer_is_a_failure() {
    let row = outcome_for(Reply::Answer("   ".into())).await;
    assert_failure(&row, "failed", "ROUTER_EMPTY_RESPONSE", "empty answer");
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_reading_it_all() {
    let huge = format!(r#"{{"success": true, "response": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let row = outcome_for(Reply::Raw(huge)).await;
    assert_failure(&row, "failed", "ROUTER_RESPONSE_TOO_LARGE", "exceeded");
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // A router URL with credentials: the stored error text must not carry them (SAFETY.md §6).
    let row = single_execution_outcome(&format!("http://beacon:router-s3cret@127.0.0.1:{port}"), 2).await;
    assert_failure(&row, "failed", "ROUTER_NETWORK", "network error");
    assert!(!row.to_string().contains("router-s3cret"), "{row:#}");
}

#[tokio::test]
async fn a_second_failure_keeps_the_original_error() {
    let router = TestRouter::start(|_, nth| match nth {
        0 => Reply::Fail("first: cold start".into()),
        _ => Reply::Http(500, "second: provider crashed".into()),
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let id = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.wait_all_finished(&id).await;
    assert_eq!(rows[0]["error_code"], "ROUTER_ERROR");

    // Queue the execution again, as an accepted retry does, and let the runner take it.
    let db = app.db();
    sqlx::query("UPDATE executions SET status = 'retrying', retry_count = 1 WHERE job_id = $1").bind(&id).execute(&db.pool).await.unwrap();
    app.server.as_ref().unwrap().state.runner.wake();
    let rows = app.wait_for(&id, Duration::from_secs(10), |rows| rows[0]["status"] == "failed" && rows[0]["error_code"] == "ROUTER_HTTP_500").await;
    let row = &rows[0];
    assert!(row["error"].as_str().unwrap().contains("second: provider crashed"));
    assert_eq!(row["original_error"], "first: cold start");
    assert_eq!(row["original_error_code"], "ROUTER_ERROR");
    let history = row["retry_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "both attempts stay in the history");
    assert_eq!(history[0]["error_code"], "ROUTER_ERROR");
    assert_eq!(history[1]["error_code"], "ROUTER_HTTP_500");

    // Both attempts sent byte-identical requests.
    let received = router.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0], received[1]);
}
