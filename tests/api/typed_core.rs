//! The typed core's promises, seen from outside: the schema refuses spellings the code does not
//! have; every error under `/api/` has one JSON shape, whichever layer produced it; a server
//! function's refusal reaches the browser with its status and code; pages say 404 only for
//! what does not exist and 500 when the server failed.

use beacon::domain::{AttemptStatus, ExecutionStatus, JobStatus, Trigger};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::TestRouter;

#[tokio::test]
async fn the_schema_accepts_every_status_the_code_has_and_refuses_any_other() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    app.wait_all_finished(&job).await;
    let db = app.db();
    let set = |sql: &'static str, value: &'static str| async move { sqlx::query(sql).bind(value).execute(&db.pool).await };

    for status in ExecutionStatus::ALL {
        set("UPDATE executions SET status = $1", status.as_str()).await.unwrap();
    }
    for status in JobStatus::ALL {
        set("UPDATE jobs SET status = $1", status.as_str()).await.unwrap();
    }
    for status in AttemptStatus::ALL {
        set("UPDATE execution_attempts SET status = $1", status.as_str()).await.unwrap();
    }
    for trigger in Trigger::ALL {
        set("UPDATE execution_attempts SET trigger = $1", trigger.as_str()).await.unwrap();
    }

    for (sql, bogus) in [
        ("UPDATE executions SET status = $1", "done"),
        ("UPDATE executions SET status = $1", "Completed"),
        ("UPDATE jobs SET status = $1", "paused"),
        ("UPDATE execution_attempts SET status = $1", "pending"),
        ("UPDATE execution_attempts SET trigger = $1", "robot"),
    ] {
        let err = set(sql, bogus).await.expect_err(bogus).to_string();
        assert!(err.to_lowercase().contains("check"), "{sql} with {bogus:?}: {err}");
    }
    // Nothing bogus got in, so everything still reads back.
    let (status, _) = app.get(&format!("/api/v1/jobs/{job}/executions/all")).await;
    assert_eq!(status, 200);
}

/// The JSON error shape: a sentence and a machine code, as JSON.
async fn api_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/json"), "{status}: {content_type}");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
    (status, body)
}

#[tokio::test]
async fn every_rejection_under_api_answers_in_the_same_json_shape() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let http = &app.http;
    let url = |path: &str| format!("{}{path}", app.base);

    // Path: ids are parsed at the edge.
    let (status, body) = api_error(http.get(url("/api/v1/jobs/has%20space")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_job_id")), "{body}");
    let (status, body) = api_error(http.get(url("/api/v1/executions/x1/details")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_execution_id")), "{body}");

    // Query string that axum's extractor cannot read.
    let (status, body) = api_error(http.get(url(&format!("/api/v1/jobs/{job}/events?since=1&since=2"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body["error"].as_str().unwrap().contains("since"), "{body}");

    // JSON body.
    let response = http.post(url("/api/v1/jobs")).header("content-type", "application/json").body("{nope").send().await.unwrap();
    let (status, body) = api_error(response).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");

    // Body over the limit, on a route that reads raw bytes (axum's own rejection).
    let response = http.post(url(&format!("/api/v1/jobs/{job}/retry-all-failed"))).body(vec![b' '; 200_000]).send().await.unwrap();
    let (status, body) = api_error(response).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("payload_too_large")), "{body}");

    // Unknown route, wrong method.
    let (status, body) = api_error(http.get(url("/api/v1/nothing-here")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
    assert!(body["error"].as_str().unwrap().contains("/api/v1/nothing-here"), "{body}");
    let (status, body) = api_error(http.delete(url("/api/v1/jobs")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
    let (status, body) = api_error(http.get(url(&format!("/api/v1/jobs/{job}/cancel"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (405, Some("method_not_allowed")), "{body}");

    // Pages outside /api/ keep their HTML.
    let response = http.get(url("/no-such-page")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn a_server_function_refusal_reaches_the_browser_with_its_status_and_code() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let id = app.wait_all_finished(&job).await[0]["id"].as_i64().unwrap();
    let (_, html) = app.get_html(&format!("/jobs/{job}")).await;
    // A finished job offers no Cancel form; the server function is the same for every job.
    let _ = html;
    let cancel = <beacon::serverfns::jobs::CancelJob as leptos::server_fn::ServerFn>::PATH.to_string();
    // The row completed, so it offers no Retry form; the server function is the same for
    // every row, so it is found on a page that has one.
    let retry = {
        let failing = TestRouter::start(|_, _| crate::test_router::Reply::Fail("cold".into())).await;
        let other = spawn_with_router(&failing.url).await;
        let other_job = other.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
        other.wait_all_finished(&other_job).await;
        form_action(&other.get_html(&format!("/jobs/{other_job}")).await.1, "retry_execution")
    };

    // Called as the hydrated page calls it: a fetch that wants JSON back.
    let call = |action: String, body: String| {
        let request = app
            .http
            .post(format!("{}{action}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        async move { api_error(request.send().await.unwrap()).await }
    };

    let (status, body) = call(retry.clone(), format!("id={id}&region=US&question_index=0")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "already_completed");
    assert_eq!(body["status"], 409);
    assert_eq!(body["error"], "This execution already completed");

    let (status, body) = call(retry.clone(), "id=987654&region=US&question_index=0".into()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = call(retry.clone(), "id=abc&region=US&question_index=0".into()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_execution_id")), "{body}");
    let (status, body) = call(retry, format!("id={id}&region=mars&question_index=0")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");

    // A finished job cannot be cancelled, through the page or the REST API, and stays as it was.
    let (status, body) = call(cancel, format!("id={job}")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_cancellable")), "{body}");
    let (status, body) = app.post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_cancellable")), "{body}");
    assert_eq!(app.get(&format!("/api/v1/jobs/{job}")).await.1["status"], "completed");
}

#[tokio::test]
async fn pages_say_not_found_only_for_what_does_not_exist_and_500_when_the_server_failed() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    app.wait_all_finished(&job).await;

    let (status, html) = app.get_html("/jobs/does-not-exist").await;
    assert_eq!(status, 404);
    assert!(html.contains("Not found"), "{html}");
    let (status, html) = app.get_html("/jobs/has%20space").await;
    assert_eq!(status, 400);
    assert!(html.contains("job id must be"), "{html}");
    let (status, _) = app.get_html("/executions/0").await;
    assert_eq!(status, 400);

    // The database loses a table the page needs: an internal failure, said as such, with
    // nothing of its cause shown.
    app.exec("DROP TABLE changes", &[]).await;
    let (status, html) = app.get_html(&format!("/jobs/{job}")).await;
    assert_eq!(status, 500);
    assert!(html.contains("This page could not be loaded"), "{html}");
    assert!(html.contains("Something went wrong on the server"), "{html}");
    assert!(!html.contains("no such table") && !html.contains("does not exist"), "the cause stays in the log");
}
