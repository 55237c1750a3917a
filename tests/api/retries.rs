//! PRODUCT.md §4: one retry service, its decision table row by row, exactly-once acceptance,
//! identical router requests, idempotency, batch retries.

use std::time::Duration;

use beacon::domain::views::BatchRetryResult;
use beacon::domain::{AttemptStatus, ExecutionStatus, JobStatus, Trigger};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

/// A Beacon whose single execution (math_basic · llama3.2-1b · us-east) has failed once.
async fn one_failed_execution(router: &TestRouter) -> (TestApp, String, i64) {
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.finished_rows(&job).await;
    assert_ne!(rows[0].status, ExecutionStatus::Completed);
    (app, job, rows[0].id)
}

/// Asserts the refusal's status and code, and that the execution and its attempts are exactly
/// as they were in `before`.
async fn refused(app: &TestApp, id: i64, before: &(Vec<String>, i64), call: (u16, Value), status: u16, code: &str) -> Value {
    assert_eq!(&app.snapshot(id).await, before, "a refusal changed the execution");
    let (got_status, body) = call;
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    body
}

#[tokio::test]
async fn each_row_of_the_decision_table_answers_as_specified_and_refusals_change_nothing() {
    let router = TestRouter::start(|req, nth| {
        if req.prompt.contains("2+2") && nth == 0 {
            Reply::Fail("cold".into())
        } else if req.prompt.contains("2+2") {
            Reply::Hang
        } else {
            Reply::Answer("ok".into())
        }
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "geography_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.finished_rows(&job).await;
    let failed = rows.iter().find(|r| r.question_id == "math_basic").unwrap();
    let completed = rows.iter().find(|r| r.question_id == "geography_basic").unwrap();
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(completed.status, ExecutionStatus::Completed);
    let (id, done) = (failed.id, completed.id);
    let before = app.snapshot(id).await;
    let path = |id: &str| format!("/api/v1/executions/{id}/retry-question");

    // id not a positive integer
    for bad in ["abc", "0", "-1"] {
        let call = app.post_json(&path(bad), &json!({"region": "US", "question_index": 0})).await;
        refused(&app, id, &before, call, 400, "invalid_execution_id").await;
    }
    // body missing, not JSON, wrong types, unknown region
    let call = app.post_raw(&path(&id.to_string()), None, "").await;
    refused(&app, id, &before, call, 400, "invalid_request").await;
    let call = app.post_raw(&path(&id.to_string()), Some("application/json"), "{nope").await;
    refused(&app, id, &before, call, 400, "invalid_request").await;
    for (body, field) in [
        (json!({"region": "US"}), "question_index"),
        (json!({"question_index": 0}), "region"),
        (json!({"region": 5, "question_index": 0}), "region"),
        (json!({"region": "US", "question_index": "zero"}), "question_index"),
        (json!({"region": "US", "question_index": 1.5}), "question_index"),
        (json!({"region": "mars", "question_index": 0}), "region"),
        (json!({"region": "US", "question_index": -1}), "question_index"),
    ] {
        let call = app.post_json(&path(&id.to_string()), &body).await;
        let answer = refused(&app, id, &before, call, 400, "invalid_request").await;
        assert!(answer["error"].as_str().unwrap().contains(field), "{answer} should name {field}");
    }
    // no such execution
    let (status, body) = app.retry(999_999, "US", 0, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    // region mismatch (any spelling of another region), question mismatch
    for region in ["EU", "eu-west", "asia"] {
        let call = app.retry(id, region, 0, None).await;
        refused(&app, id, &before, call, 400, "region_mismatch").await;
    }
    let call = app.retry(id, "US", 1, None).await;
    refused(&app, id, &before, call, 400, "question_mismatch").await;
    // already completed
    let call = app.retry(done, "us", 1, None).await;
    refused(&app, done, &app.snapshot(done).await, call, 409, "already_completed").await;
    assert_eq!(app.snapshot(id).await, before, "refusals changed nothing");

    // accepted: the region in any spelling
    let accepted = app.retry_accepted(id, "us-EAST", 0, None).await;
    assert_eq!(accepted.execution_id, id.to_string());
    assert_eq!(accepted.region.as_str(), "us-east");
    assert_eq!(accepted.question_index, 0);
    assert_eq!(accepted.status, ExecutionStatus::Retrying);
    assert_eq!(accepted.retry_attempt, 1);
    // The moment it was accepted (sent as RFC 3339, read back by the type).
    let age = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - accepted.updated_at.millis();
    assert!((0..60_000).contains(&age), "updated {age} ms ago");

    // pending, running or already retrying: in progress (the router hangs on the retry)
    app.wait_for(&job, Duration::from_secs(5), |_| router.in_flight() == 1).await;
    let retrying = app.snapshot(id).await;
    let call = app.retry(id, "US", 0, None).await;
    refused(&app, id, &retrying, call, 409, "in_progress").await;

    // cancelled job: not retryable
    app.post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({})).await;
    let cancelled = app.snapshot(id).await;
    let call = app.retry(id, "US", 0, None).await;
    refused(&app, id, &cancelled, call, 409, "not_retryable").await;
}

#[tokio::test]
async fn of_100_simultaneous_retries_exactly_one_is_accepted_and_the_fourth_retry_is_429() {
    // The initial attempt fails at once; the first retry fails after a pause, so that all
    // hundred requests arrive while it is retrying; later retries fail at once.
    let router = TestRouter::start(|_, nth| match nth {
        1 => Reply::After(Duration::from_millis(1500), Box::new(Reply::Fail("still cold".into()))),
        _ => Reply::Http(500, format!("failure {nth}")),
    })
    .await;
    let (app, _job, id) = one_failed_execution(&router).await;

    let mut calls = Vec::new();
    for _ in 0..100 {
        let (http, base) = (app.http.clone(), app.base.clone());
        calls.push(tokio::spawn(async move {
            http.post(format!("{base}/api/v1/executions/{id}/retry-question"))
                .json(&json!({"region": "US", "question_index": 0}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 99, "{statuses:?}");
    assert_eq!(app.detail(id).await.retry_count, 1);

    let row = app.wait_detail(id, Detail::is_finished).await;
    assert_eq!(row.error.as_deref(), Some("still cold"));
    for attempt in 2..=3 {
        let accepted = app.retry_accepted(id, "US", 0, None).await;
        assert_eq!(accepted.retry_attempt, attempt);
        app.wait_detail(id, Detail::is_finished).await;
    }
    let (status, body) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "max_retries_reached");
    assert_eq!(body["retry_attempt"], 3);
    assert_eq!(body["max_attempts"], 3);
    assert_eq!(body["error"], "Max retries reached (3/3)");

    let row = app.detail(id).await;
    assert_eq!(row.retry_count, 3);
    assert_eq!(row.original_error_code.as_deref(), Some("ROUTER_HTTP_500"));
    assert!(row.original_error.as_deref().unwrap().contains("failure 0"), "{row:#?}");
    let history = &row.retry_history;
    let triggers: Vec<Trigger> = history.iter().map(|a| a.trigger).collect();
    assert_eq!(triggers, [Trigger::Initial, Trigger::Manual, Trigger::Manual, Trigger::Manual]);
    assert!(history.iter().all(|a| a.status != AttemptStatus::Running && a.finished_at.is_some()));
    assert_eq!(history[1].error_code.as_deref(), Some("ROUTER_ERROR"), "every outcome is recorded, not just 'retrying'");

    // The router received the same bytes for the initial attempt and every retry.
    let received = router.received();
    assert_eq!(received.len(), 4);
    assert!(received.iter().all(|body| body == &received[0]));
}

#[tokio::test]
async fn a_successful_retry_completes_the_row_keeps_the_original_error_and_recomputes_the_job() {
    let router =
        TestRouter::start(
            |_, nth| if nth == 0 { Reply::Fail("app for invoked web endpoint is stopped".into()) } else { Reply::Answer("warm answer".into()) },
        )
        .await;
    let (app, job, id) = one_failed_execution(&router).await;
    assert_eq!(app.job(&job).await.status, JobStatus::Failed);

    app.retry_accepted(id, "US", 0, None).await;
    let row = app.wait_detail(id, Detail::is_finished).await;
    assert_eq!(row.status, ExecutionStatus::Completed);
    assert_eq!(row.output.as_deref(), Some("warm answer"));
    assert!(row.error.is_none() && row.error_code.is_none());
    assert!(row.original_error.as_deref().unwrap().contains("app for invoked web endpoint is stopped"));
    assert_eq!(row.retry_count, 1);
    assert!(row.last_retry_at.is_some());
    assert_eq!(app.job(&job).await.status, JobStatus::Completed);
}

#[tokio::test]
async fn the_same_idempotency_key_replays_the_first_answer_and_starts_nothing_new() {
    let router = TestRouter::start(|_, _| Reply::Fail("down".into())).await;
    let (app, _job, id) = one_failed_execution(&router).await;

    let (status, first) = app.retry(id, "US", 0, Some("click-1")).await;
    assert_eq!(status, 202);
    app.wait_detail(id, Detail::is_finished).await;
    let (status, again) = app.retry(id, "US", 0, Some("click-1")).await;
    assert_eq!(status, 202);
    assert_eq!(again, first, "the first answer, verbatim");
    assert_eq!(app.detail(id).await.retry_count, 1);
    assert_eq!(router.received().len(), 2, "no new inference");

    // A new key is a new request.
    let second = app.retry_accepted(id, "US", 0, Some("click-2")).await;
    assert_eq!(second.retry_attempt, 2);
}

#[tokio::test]
async fn simultaneous_requests_with_one_key_get_one_answer_and_others_are_refused() {
    // The first retry hangs a while, so every request below arrives while the execution is
    // retrying or just accepted: they are committed in a few groups, often one.
    let router = TestRouter::start(|_, nth| match nth {
        1 => Reply::After(Duration::from_millis(1500), Box::new(Reply::Fail("still cold".into()))),
        _ => Reply::Fail("down".into()),
    })
    .await;
    let (app, _job, id) = one_failed_execution(&router).await;

    let mut calls = Vec::new();
    for n in 0..40 {
        let (http, base) = (app.http.clone(), app.base.clone());
        calls.push(tokio::spawn(async move {
            let mut request = http.post(format!("{base}/api/v1/executions/{id}/retry-question")).json(&json!({"region": "US", "question_index": 0}));
            let keyed = n % 2 == 0;
            if keyed {
                request = request.header("Idempotency-Key", "double-click");
            }
            let response = request.send().await.unwrap();
            (keyed, response.status().as_u16(), response.json::<Value>().await.unwrap())
        }));
    }
    let mut keyed_answers = Vec::new();
    let mut accepted = 0;
    for call in calls {
        let (keyed, status, body) = call.await.unwrap();
        if status == 202 {
            accepted += 1;
        }
        if keyed {
            keyed_answers.push((status, body));
        } else {
            assert_eq!(status, 409, "{body}");
        }
    }
    // Every request with the key got the first one's answer, verbatim: the acceptance if it came
    // first, or the same refusal if a keyless request won.
    assert!(keyed_answers.iter().all(|answer| answer == &keyed_answers[0]), "{keyed_answers:#?}");
    assert_eq!(accepted, if keyed_answers[0].0 == 202 { 20 } else { 1 }, "one acceptance, replayed to its key's repeats");
    assert_eq!(app.detail(id).await.retry_count, 1);
    app.wait_detail(id, Detail::is_finished).await;
    assert_eq!(router.received().len(), 2, "one retry reached the router");
}

#[tokio::test]
async fn retry_all_failed_queues_every_eligible_failure_and_paces_them_through_the_region_limit() {
    // Every initial attempt fails; retries take a moment and then answer.
    let router = TestRouter::start(|_, nth| match nth {
        0 => Reply::Fail("cold".into()),
        _ => Reply::After(Duration::from_millis(200), Box::new(Reply::Answer("warm".into()))),
    })
    .await;
    let app = spawn_app(Options { router_url: Some(router.url.clone()), region_concurrency: 2, max_retries: 1, ..Options::default() }).await;
    let job = app.submit(&["math_basic", "geography_basic", "identity_basic", "taiwan_status"], &["llama3.2-1b", "mistral-7b"], &["US", "EU"]).await;
    let rows = app.finished_rows(&job).await;
    assert!(rows.iter().all(|r| r.status == ExecutionStatus::Failed));

    // Bad filters and unknown jobs are refused.
    let path = format!("/api/v1/jobs/{job}/retry-all-failed");
    let (status, body) = app.post_json(&path, &json!({"region": "mars"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
    let (status, body) = app.post_json(&path, &json!({"model_id": "gpt-99"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
    let (status, body) = app.post_raw(&path, Some("application/json"), "[1]").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
    let (status, _) = app.post_json("/api/v1/jobs/nope/retry-all-failed", &json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("SELECT COUNT(*) FROM executions WHERE retry_count > 0").await, 0);

    // One region and one model first.
    let (status, body) = app.post_json(&path, &json!({"region": "EU", "model_id": "mistral-7b"})).await;
    assert_eq!(status, 200, "{body}");
    let result: BatchRetryResult = serde_json::from_value(body).unwrap();
    assert_eq!(result.queued.len(), 4);
    assert!(result.skipped.is_empty());

    // Then the rest, with no body at all: the ones already retrying are skipped as in progress.
    let (status, body) = app.post_raw(&path, None, "").await;
    assert_eq!(status, 200, "{body}");
    // The four already queued are skipped while still retrying, or left out once completed.
    let result: BatchRetryResult = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(result.queued.len(), 12, "{body}");
    assert!(result.skipped.len() <= 4 && result.skipped.iter().all(|s| s.code == "in_progress"), "{body}");

    let rows = app.finished_rows(&job).await;
    assert!(rows.iter().all(|r| r.status == ExecutionStatus::Completed), "{rows:#?}");
    assert!(rows.iter().all(|r| r.retry_history.get(1).is_some_and(|a| a.trigger == Trigger::Batch)));
    assert!(router.max_in_flight() <= 4, "at most 2 per region: saw {}", router.max_in_flight());

    // Nothing left to retry: exhausted (max_retries 1) rows would be skipped, completed ones ignored.
    let (_, body) = app.post_json(&path, &json!({})).await;
    assert_eq!(body, json!({"queued": [], "skipped": []}));
}

#[tokio::test]
async fn cancelling_a_job_cancels_its_retries_and_keeps_a_sent_retrys_late_answer() {
    let router = TestRouter::start(|_, nth| {
        if nth == 0 {
            Reply::Fail("cold".into())
        } else {
            Reply::After(Duration::from_millis(800), Box::new(Reply::Answer("warm now".into())))
        }
    })
    .await;
    let (app, job, id) = one_failed_execution(&router).await;
    app.retry_accepted(id, "US", 0, None).await;
    app.wait_for(&job, Duration::from_secs(5), |_| router.in_flight() == 1).await;

    app.post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({})).await;
    let row = app.detail(id).await;
    assert_eq!(row.status, ExecutionStatus::Cancelled);
    assert_eq!(row.retry_history[1].status, AttemptStatus::Cancelled);
    eventually("the retry's router call to answer", Duration::from_secs(5), || async {
        if router.in_flight() == 0 {
            Ok(())
        } else {
            Err(format!("{} in flight", router.in_flight()))
        }
    })
    .await;
    let row = app.wait_detail(id, |row| row.retry_history.get(1).is_some_and(|a| a.late)).await;
    assert_eq!(row.retry_history[1].output.as_deref(), Some("warm now"));
    assert_eq!(row.status, ExecutionStatus::Cancelled, "the late answer does not change the execution");
    assert!(!row.retry_history[0].late);
}

#[tokio::test]
async fn a_retry_interrupted_by_a_crash_does_not_stay_retrying_past_its_lease() {
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Hang }).await;
    let options = || Options { router_url: Some(router.url.clone()), router_timeout_secs: 3600, lease_secs: 1, ..Options::default() };
    let mut app = spawn_app(options()).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let id = app.finished_rows(&job).await[0].id;
    app.retry_accepted(id, "US", 0, None).await;
    app.wait_for(&job, Duration::from_secs(5), |_| router.in_flight() == 1).await;

    app.stop().await;
    let restarted = beacon::server::startup::start(config(&options(), app.database_url())).await.unwrap();
    let base = format!("http://{}", restarted.addr);
    let row = eventually("the interrupted retry to end", Duration::from_secs(10), || async {
        let row: Detail = reqwest::get(format!("{base}/api/v1/executions/{id}/details")).await.unwrap().json().await.unwrap();
        if row.status != ExecutionStatus::Retrying {
            Ok(row)
        } else {
            Err(format!("{row:#?}"))
        }
    })
    .await;
    assert_eq!(row.status, ExecutionStatus::Error);
    assert_eq!(row.error_code.as_deref(), Some("INTERRUPTED"));
    assert_eq!(row.original_error.as_deref(), Some("cold"), "the first failure stays the original error");
    let history = &row.retry_history;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].status, AttemptStatus::Failed);
    assert_eq!(history[1].status, AttemptStatus::Interrupted);
    restarted.stop().await;
}

/// UI.md §2: with several samples per cell, an accepted retry names its sample, in the API's
/// answer and in the notice a form post without JavaScript comes back with.
#[tokio::test]
async fn an_accepted_retry_names_its_sample_when_the_job_has_several() {
    let router = TestRouter::start(|_, nth| if nth < 2 { Reply::Fail("cold".into()) } else { Reply::Answer("4".into()) }).await;
    let app = spawn_with_router(&router.url).await;
    let (status, created) =
        app.post_json("/api/v1/jobs", &json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"], "samples": 2})).await;
    assert_eq!(status, 202, "{created}");
    let job = created["id"].as_str().unwrap().to_string();
    let rows = app.finished_rows(&job).await;
    let second = rows.iter().find(|r| r.sample_index == 1).expect("sample #2");
    assert_eq!(second.status, ExecutionStatus::Failed);
    let accepted = app.retry_accepted(second.id, "US", 0, None).await;
    assert_eq!((accepted.sample_index, accepted.samples), (1, 2));

    let first = rows.iter().find(|r| r.sample_index == 0).unwrap().id;
    let retry = <beacon::serverfns::retries::RetryExecution as leptos::server_fn::ServerFn>::PATH;
    let (_, location) = app.post_form(retry, &format!("id={first}&region=US&question_index=0"), &format!("/jobs/{job}")).await;
    assert!(location.contains("notice=Retry+queued%3A+math_basic+%231+%C2%B7+llama3.2-1b+%C2%B7+us-east"), "{location}");
}

/// UI.md §3: "Retry all failed" for one model, from the page filtered to it (a form post, as
/// without JavaScript): only that model's failures are retried.
#[tokio::test]
async fn a_page_filtered_to_a_model_retries_that_models_failures_only() {
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Answer("4".into()) }).await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b", "mistral-7b"], &["US"]).await;
    let rows = app.finished_rows(&job).await;
    assert!(rows.iter().all(|r| r.status == ExecutionStatus::Failed), "{rows:?}");
    let page = format!("/jobs/{job}?model=mistral-7b");
    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("Retry failed of mistral-7b (1)"), "the button names the model and counts its failures");
    let action = form_action(&html[html.find(r#"data-testid="model-batch""#).expect("the model's button")..], "retry_all_failed");
    let (status, location) = app.post_form(&action, &format!("job_id={job}&model_id=mistral-7b"), &page).await;
    assert_eq!(status, 302);
    assert!(location.contains("notice=1+queued"), "{location}");
    let rows = app.finished_rows(&job).await;
    let status_of_model = |model: &str| rows.iter().find(|r| r.model_id == model).unwrap().status;
    assert_eq!(status_of_model("mistral-7b"), ExecutionStatus::Completed);
    assert_eq!(status_of_model("llama3.2-1b"), ExecutionStatus::Failed, "the other model's failure is left alone");
}
