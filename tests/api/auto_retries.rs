//! PROVIDERS.md §3: automatic retries of infrastructure failures, with backoff, their own
//! trigger and budget, and the row's "Retrying automatically (k/N)" state.

use std::time::Duration;

use beacon::domain::views::WarmupView;
use beacon::domain::{ExecutionStatus, Trigger, WarmupStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::openai_server::{question, Chat, OpenAiServer};

fn config(base_url: &str, defaults: &str) -> String {
    format!(
        r#"
[defaults]
{defaults}

[[regions]]
id = "us-central"
label = "United States (Iowa)"
aliases = ["US"]

[[models]]
id = "llama3.1-8b"
name = "Llama 3.1 8B Instruct"

[[providers]]
id = "ollama-iowa"
kind = "openai"
region = "us-central"
base_url = "{base_url}"
models = {{ "llama3.1-8b" = "llama3.1:8b" }}
"#
    )
}

/// `GET /api/v1/jobs/:id/warmups`' answer.
#[derive(Deserialize)]
struct Warmups {
    warmups: Vec<WarmupView>,
}

async fn submit(app: &TestApp, questions: &[&str], auto_retries: Option<i64>) -> (u16, Value) {
    let mut body = json!({"questions": questions, "models": ["llama3.1-8b"], "regions": ["US"]});
    if let Some(n) = auto_retries {
        body["auto_retries"] = json!(n);
    }
    app.post_json("/api/v1/jobs", &body).await
}

#[tokio::test]
async fn cold_starts_are_retried_automatically_after_the_backoff_and_leave_the_manual_budget_alone() {
    // Two cold-start 503s, then an answer; a broken answer is never retried automatically.
    let server = OpenAiServer::start(|body, n| {
        if question(body).contains("capital of France") {
            Chat::Raw("{\"not\": \"a completion\"}".into())
        } else if n < 2 {
            Chat::Status(503, "warming up".into(), None)
        } else {
            Chat::Answer("4".into())
        }
    })
    .await;
    let (app, _dir) = spawn_with_config(&config(&server.base_url, "auto_retries = 2\nauto_retry_backoff_seconds = [1, 2]"), &[]).await;
    let (status, created) = submit(&app, &["math_basic", "geography_basic"], None).await;
    assert_eq!(status, 202, "{created}");
    let job = created["id"].as_str().unwrap().to_string();

    // While it waits, the row says so, on the page and in the API.
    let waiting = app.wait_rows(&job, Duration::from_secs(10), |rows| rows.iter().any(|r| r.next_attempt_at.is_some())).await;
    let row = waiting.iter().find(|r| r.question_id == "math_basic").unwrap();
    assert_eq!(row.status, ExecutionStatus::Retrying);
    assert_eq!(row.auto_retry_count, 1);
    let (_, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert!(page.contains("Retrying automatically (1/2)"), "the row shows the wait");

    let rows = app.finished_rows(&job).await;
    let math = rows.iter().find(|r| r.question_id == "math_basic").unwrap();
    assert_eq!(math.status, ExecutionStatus::Completed, "{math:#?}");
    assert_eq!(math.retry_count, 0, "automatic retries do not use the manual budget");
    assert_eq!(math.auto_retry_count, 2);
    let history = &math.retry_history;
    let triggers: Vec<Trigger> = history.iter().map(|a| a.trigger).collect();
    assert_eq!(triggers, [Trigger::Initial, Trigger::Auto, Trigger::Auto]);
    assert_eq!(history[0].error_code.as_deref(), Some("ROUTER_HTTP_503"));
    assert_eq!(math.original_error_code.as_deref(), Some("ROUTER_HTTP_503"), "the first failure stays the original");
    let backoffs: Vec<i64> = history[1..].iter().map(|a| a.backoff_ms.unwrap()).collect();
    assert!((1000..=1200).contains(&backoffs[0]) && (2000..=2400).contains(&backoffs[1]), "schedule plus at most 20 %: {backoffs:?}");
    // Measured at the server: no attempt came before its wait was over.
    let times: Vec<_> = server.received().iter().filter(|r| question(&r.json).contains("2+2")).map(|r| r.at).collect();
    assert!(times[1].duration_since(times[0]) >= Duration::from_millis(backoffs[0] as u64));
    assert!(times[2].duration_since(times[1]) >= Duration::from_millis(backoffs[1] as u64));

    let broken = rows.iter().find(|r| r.question_id == "geography_basic").unwrap();
    assert_eq!(broken.status, ExecutionStatus::Failed);
    assert_eq!(broken.error_code.as_deref(), Some("ROUTER_JSON_ERROR"));
    assert_eq!(broken.retry_history.len(), 1, "not an infrastructure failure: no automatic retry");
}

#[tokio::test]
async fn a_spent_automatic_budget_leaves_a_failed_row_whose_manual_retry_starts_it_afresh() {
    let server = OpenAiServer::start(|_, _| Chat::Status(502, "bad gateway".into(), None)).await;
    let (app, _dir) = spawn_with_config(&config(&server.base_url, "auto_retry_backoff_seconds = [0]"), &[]).await;
    // The job asks for one automatic retry (the configuration's default is none); 6 is too many.
    let (status, body) = submit(&app, &["math_basic"], Some(6)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")), "{body}");
    let (_, created) = submit(&app, &["math_basic"], Some(1)).await;
    let job = created["id"].as_str().unwrap().to_string();
    let rows = app.finished_rows(&job).await;
    let row = &rows[0];
    assert_eq!(row.status, ExecutionStatus::Failed);
    assert_eq!(row.retry_history.len(), 2, "one initial, one automatic");
    assert_eq!(row.next_attempt_at, None);

    let id = row.id;
    let (status, _) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202, "the manual Retry works as before");
    let row = app.wait_detail(id, |r| r.status == ExecutionStatus::Failed && r.retry_history.len() == 4).await;
    let triggers: Vec<Trigger> = row.retry_history.iter().map(|a| a.trigger).collect();
    assert_eq!(triggers, [Trigger::Initial, Trigger::Auto, Trigger::Manual, Trigger::Auto], "a manual retry starts the automatic budget afresh");
    assert_eq!(row.retry_count, 1);
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn warm_up_comes_before_the_first_question_and_a_pair_that_never_warms_still_runs() {
    // Iowa answers its third warm-up; Finland never answers a warm-up (but answers questions).
    let iowa = OpenAiServer::start(|body, n| {
        if question(body) == "Reply with OK." && n < 2 {
            Chat::Status(503, "loading model".into(), None)
        } else {
            Chat::Answer("OK".into())
        }
    })
    .await;
    let finland = OpenAiServer::start(|body, _| {
        if question(body) == "Reply with OK." {
            Chat::Status(503, "still loading".into(), None)
        } else {
            Chat::Answer("Paris".into())
        }
    })
    .await;
    let file = config(&iowa.base_url, "auto_retry_backoff_seconds = [1]")
        + &format!(
            r#"
[[regions]]
id = "eu-north"
label = "Europe (Finland)"
aliases = ["EU"]

[[providers]]
id = "vllm-finland"
kind = "openai"
region = "eu-north"
base_url = "{}"
models = {{ "llama3.1-8b" = "llama" }}
timeout_seconds = 3
"#,
            finland.base_url
        );
    let (app, _dir) = spawn_with_config(&file, &[]).await;
    let (status, created) = app
        .post_json(
            "/api/v1/jobs",
            &json!({"questions": ["math_basic", "geography_basic"], "models": ["llama3.1-8b"], "regions": ["US", "EU"], "warmup": true}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let job = created["id"].as_str().unwrap().to_string();
    let (_, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert!(page.contains("warming up"), "the job page says what is warming up");

    let rows = app.finished_rows(&job).await;
    assert!(rows.iter().all(|r| r.status == ExecutionStatus::Completed), "{rows:#?}");
    // Iowa: three warm-ups, and only then the questions.
    let sent: Vec<String> = iowa.received().iter().map(|r| question(&r.json)).collect();
    assert_eq!(&sent[..3], ["Reply with OK.", "Reply with OK.", "Reply with OK."]);
    assert_eq!(sent.len(), 5, "{sent:?}");
    let warm_body = &iowa.received()[0].json;
    assert_eq!(warm_body["max_tokens"], 5);

    let warmups = app.get_ok::<Warmups>(&format!("/api/v1/jobs/{job}/warmups")).await.warmups;
    assert_eq!(warmups.len(), 2);
    let by = |provider: &str| warmups.iter().find(|w| w.provider_id == provider).unwrap().clone();
    let ok = by("ollama-iowa");
    assert_eq!((ok.status, ok.requests, ok.region.as_str()), (WarmupStatus::Ok, 3, "us-central"));
    assert!(ok.duration_ms.unwrap() >= 2000, "two 1 s waits between three requests: {ok:?}");
    assert!(ok.started_at.is_some() && ok.finished_at.is_some());
    let failed = by("vllm-finland");
    assert_eq!(failed.status, WarmupStatus::Failed);
    assert!(failed.error.as_deref().unwrap().contains("503"), "{failed:?}");
    // Warm-ups are not attempts: each execution has its one initial attempt.
    assert!(rows.iter().all(|r| r.retry_history.len() == 1));
    let (status, _) = app.get("/api/v1/jobs/nope/warmups").await;
    assert_eq!(status, 404);
}
