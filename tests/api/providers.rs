//! PROVIDERS.md §1, §2, §5: regions, models and providers from a file; OpenAI-compatible
//! providers with their request shape, failure classes, limits and `Retry-After`; provenance.

use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::openai_server::{question, Chat, OpenAiServer};

/// Two regions and two models on OpenAI-compatible servers; `extra` is appended to each
/// provider (limits, time-outs).
fn two_region_config(iowa: &str, finland: &str, extra: &str) -> String {
    format!(
        r#"
[[regions]]
id = "us-central"
label = "United States (Iowa)"
aliases = ["US"]
system_prompt = "You are an assistant in Iowa."

[[regions]]
id = "eu-north"
label = "Europe (Finland)"
aliases = ["EU", "FI"]

[[models]]
id = "llama3.1-8b"
name = "Llama 3.1 8B Instruct"

[[models]]
id = "qwen2.5-7b"
name = "Qwen 2.5 7B Instruct"

[[providers]]
id = "ollama-iowa"
kind = "openai"
region = "us-central"
base_url = "{iowa}"
api_key_env = "IOWA_KEY"
models = {{ "llama3.1-8b" = "llama3.1:8b", "qwen2.5-7b" = "qwen2.5:7b" }}
{extra}

[[providers]]
id = "vllm-finland"
kind = "openai"
region = "eu-north"
base_url = "{finland}"
models = {{ "llama3.1-8b" = "meta-llama/Llama-3.1-8B-Instruct" }}
{extra}
"#
    )
}

/// Beacon started on `config`, with the key the providers' configuration names.
async fn spawn_with_file(config: &str) -> (TestApp, tempfile::TempDir) {
    spawn_with_config(config, &[("IOWA_KEY", "sk-iowa-secret")]).await
}

#[tokio::test]
async fn a_job_over_two_configured_regions_runs_through_openai_compatible_providers() {
    let iowa = OpenAiServer::start(|body, _| Chat::Answer(format!("Iowa says: {}", question(body)))).await;
    let finland = OpenAiServer::start(|body, _| Chat::Answer(format!("Finland says: {}", question(body)))).await;
    let (app, _config) = spawn_with_file(&two_region_config(&iowa.base_url, &finland.base_url, "")).await;

    // The configuration is the catalogue.
    let (_, regions) = app.get("/api/v1/regions").await;
    assert_eq!(regions["regions"][0], json!({"id": "us-central", "label": "United States (Iowa)", "aliases": ["US"]}));
    assert_eq!(regions["regions"][1]["id"], "eu-north");
    let (_, models) = app.get("/api/v1/models").await;
    assert_eq!(models["models"][0], json!({"id": "llama3.1-8b", "name": "Llama 3.1 8B Instruct", "regions": ["us-central", "eu-north"]}));
    assert_eq!(models["models"][1]["regions"], json!(["us-central"]));
    let (_, home) = app.get_html("/").await;
    assert!(home.contains("United States (Iowa)") && home.contains("Qwen 2.5 7B Instruct"), "the form offers the configuration");

    // A pair no provider serves is refused, naming it; nothing is created.
    let (status, body) = app.post_json("/api/v1/jobs", &json!({"questions": ["math_basic"], "models": ["qwen2.5-7b"], "regions": ["EU"]})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("qwen2.5-7b in eu-north"), "{body}");
    let (status, _) = app.post_json("/api/v1/jobs", &json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]})).await;
    assert_eq!(status, 400, "a built-in model is not offered by this configuration");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);

    let job = app.submit(&["math_basic", "geography_basic"], &["llama3.1-8b"], &["us", "FI"]).await;
    let rows = app.wait_all_finished(&job).await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["status"] == "completed"), "{rows:#?}");

    // The request as an OpenAI-compatible server expects it, with the region's system prompt.
    let sent = iowa.received();
    assert_eq!(sent.len(), 2);
    for request in &sent {
        assert_eq!(request.authorization.as_deref(), Some("Bearer sk-iowa-secret"));
        assert_eq!(request.json["model"], "llama3.1:8b", "the provider's own model name");
        assert_eq!(request.json["messages"][0], json!({"role": "system", "content": "You are an assistant in Iowa."}));
        assert_eq!(request.json["messages"][1]["role"], "user");
        assert_eq!(request.json["temperature"], 0.1);
        assert_eq!(request.json["max_tokens"], 500);
        assert!(request.json.get("seed").is_none());
    }
    let finnish = finland.received();
    assert_eq!(finnish.len(), 2);
    assert!(finnish.iter().all(|r| r.authorization.is_none()), "no key configured, none sent");
    assert!(finnish[0].json["messages"][0]["content"].as_str().unwrap().contains("based in Europe (Finland)"));

    // Provenance on the attempt; the answer of each region its own.
    let row = rows.iter().find(|r| r["region"] == "us-central" && r["question_id"] == "math_basic").unwrap();
    assert!(row["output"].as_str().unwrap().starts_with("Iowa says:"));
    assert_eq!(row["provider_id"], "ollama-iowa");
    let attempt = &row["retry_history"][0];
    assert_eq!(attempt["provider_id"], "ollama-iowa");
    assert_eq!(attempt["provider_kind"], "openai");
    assert_eq!(attempt["region"], "us-central");
    assert_eq!(attempt["served_model"], "llama3.1:8b-served");
    assert_eq!(attempt["finish_reason"], "stop");
    assert_eq!(attempt["usage"], json!({"prompt_tokens": 21, "completion_tokens": 5}));
    assert_eq!(attempt["system_fingerprint"], "fp_test");
    assert_eq!(attempt["output"], row["output"]);
    let body = sent.iter().find(|r| question(&r.json).contains("2+2")).unwrap();
    assert_eq!(attempt["request_hash"], hex::encode(Sha256::digest(&body.body)), "the hash of the exact bytes received");
    assert_eq!(attempt["request"], body.json, "the attempt shows the body as sent");
}

#[tokio::test]
async fn every_failure_class_of_an_openai_provider_has_its_code() {
    // Each question gets one kind of answer; the router time-out is one second.
    let server = OpenAiServer::start(|body, _| {
        let q = question(body);
        match () {
            _ if q.contains("2+2") => Chat::Status(500, r#"{"error": {"message": "model crashed"}}"#.into(), None),
            _ if q.contains("capital of France") => Chat::Status(429, "slow down".into(), None),
            _ if q.contains("Who are you") => Chat::Raw(r#"{"answer": "not a completion"}"#.into()),
            _ if q.contains("Taiwan") => Chat::Raw(r#"{"choices": []}"#.into()),
            _ if q.contains("Hong Kong") => Chat::Hang,
            _ => Chat::Raw(format!(r#"{{"choices":[{{"message":{{"content":"{}"}}}}]}}"#, "x".repeat(1_100_000))),
        }
    })
    .await;
    let (app, _config) = spawn_with_file(&two_region_config(&server.base_url, &server.base_url, "timeout_seconds = 1")).await;
    let questions = ["math_basic", "geography_basic", "identity_basic", "taiwan_status", "hongkong_2019", "greatest_leader"];
    let job = app.submit(&questions, &["llama3.1-8b"], &["US"]).await;
    let rows = app.wait_all_finished(&job).await;
    let code = |question: &str| {
        let row = rows.iter().find(|r| r["question_id"] == question).unwrap();
        (row["status"].as_str().unwrap().to_string(), row["error_code"].as_str().unwrap_or_default().to_string(), row["error"].clone())
    };
    for (question, status, wanted) in [
        ("math_basic", "failed", "ROUTER_HTTP_500"),
        ("geography_basic", "failed", "ROUTER_RATE_LIMITED"),
        ("identity_basic", "failed", "ROUTER_JSON_ERROR"),
        ("taiwan_status", "failed", "ROUTER_EMPTY_RESPONSE"),
        ("hongkong_2019", "timeout", "ROUTER_TIMEOUT"),
        ("greatest_leader", "failed", "ROUTER_RESPONSE_TOO_LARGE"),
    ] {
        let (got_status, got_code, error) = code(question);
        assert_eq!((got_status.as_str(), got_code.as_str()), (status, wanted), "{question}: {error}");
    }
    assert!(code("math_basic").2.as_str().unwrap().contains("model crashed"), "the provider's own message is kept");
}

#[tokio::test]
async fn providers_keep_their_concurrency_rate_and_retry_after_measured_at_the_server() {
    // Iowa: at most 2 calls at once, each 300 ms. Finland: 120 requests a minute (one every
    // 500 ms after a burst of 2), and its first answer is a 429 asking for 2 s of quiet.
    let iowa = OpenAiServer::start(|_, _| Chat::After(Duration::from_millis(300), Box::new(Chat::Answer("ok".into())))).await;
    let finland = OpenAiServer::start(|_, _| Chat::Answer("ok".into())).await;
    let config = two_region_config(&iowa.base_url, &finland.base_url, "")
        .replacen(
            "models = { \"llama3.1-8b\" = \"llama3.1:8b\", \"qwen2.5-7b\" = \"qwen2.5:7b\" }",
            "models = { \"llama3.1-8b\" = \"llama3.1:8b\", \"qwen2.5-7b\" = \"qwen2.5:7b\" }\nconcurrency = 2",
            1,
        )
        .replacen(
            "models = { \"llama3.1-8b\" = \"meta-llama/Llama-3.1-8B-Instruct\" }",
            "models = { \"llama3.1-8b\" = \"meta-llama/Llama-3.1-8B-Instruct\" }\nrequests_per_minute = 120",
            1,
        );
    let (app, _config) = spawn_with_file(&config).await;
    let questions = app.add_questions(8).await;
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    let job = app.submit(&questions, &["llama3.1-8b"], &["US"]).await;
    let rows = app.wait_all_finished(&job).await;
    assert!(rows.iter().all(|r| r["status"] == "completed"));
    assert_eq!(iowa.max_in_flight(), 2, "concurrency = 2, measured at the server");

    let job = app.submit(&questions[..6], &["llama3.1-8b"], &["EU"]).await;
    let rows = app.wait_all_finished(&job).await;
    assert!(rows.iter().all(|r| r["status"] == "completed"));
    let times: Vec<_> = finland.received().iter().map(|r| r.at).collect();
    let span = times.last().unwrap().duration_since(times[0]);
    assert!(span >= Duration::from_millis(1800), "6 requests at 2/s after a burst of 2 took {span:?}");

    // A 429 with Retry-After holds the provider back, whatever is queued.
    let paused = OpenAiServer::start(|_, n| if n == 0 { Chat::Status(429, "busy".into(), Some(2)) } else { Chat::Answer("ok".into()) }).await;
    let (app, _config) = spawn_with_file(&two_region_config(&paused.base_url, &paused.base_url, "concurrency = 1")).await;
    let job = app.submit(&["math_basic", "geography_basic", "identity_basic"], &["llama3.1-8b"], &["US"]).await;
    app.wait_all_finished(&job).await;
    let times: Vec<_> = paused.received().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 3);
    let quiet = times[1].duration_since(times[0]);
    assert!(quiet >= Duration::from_millis(1900), "the next call came {quiet:?} after a 429 asking for 2 s");
}

#[tokio::test]
async fn every_attempt_of_an_execution_sends_the_same_bytes() {
    let server = OpenAiServer::start(|_, n| if n == 0 { Chat::Status(503, "cold".into(), None) } else { Chat::Answer("warm".into()) }).await;
    let (app, _config) = spawn_with_file(&two_region_config(&server.base_url, &server.base_url, "")).await;
    let job = app.submit(&["math_basic"], &["llama3.1-8b"], &["US"]).await;
    let id = app.wait_all_finished(&job).await[0]["id"].as_i64().unwrap();
    let (status, _) = app.retry(id, "us-central", 0, None).await;
    assert_eq!(status, 202);
    let row = app.wait_execution(id, |r| r["status"] == "completed").await;
    let hashes: Vec<&Value> = row["retry_history"].as_array().unwrap().iter().map(|a| &a["request_hash"]).collect();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0], hashes[1], "a retry asks the same question the same way");
    let bodies: Vec<Vec<u8>> = server.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(*hashes[0], json!(hex::encode(Sha256::digest(&bodies[0]))));
    assert_eq!(row["retry_history"][0]["error_code"], "ROUTER_HTTP_503");
}

#[test]
fn a_bad_configuration_file_stops_start_up_naming_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beacon.toml");
    std::fs::write(
        &path,
        two_region_config("http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1", "").replace("region = \"eu-north\"", "region = \"mars\""),
    )
    .unwrap();
    let database = format!("sqlite:{}", dir.path().join("b.db").display());
    let run = |path: &str| {
        beacon_binary()
            .env("DATABASE_URL", &database)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("IOWA_KEY", "k")
            .env("BEACON_CONFIG", path)
            .output()
            .unwrap()
    };
    let output = run(&path.display().to_string());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("BEACON_CONFIG") && stderr.contains("beacon.toml"), "{stderr}");
    assert!(stderr.contains("line 33") && stderr.contains("providers[1].region") && stderr.contains("mars"), "{stderr}");
    let missing = run("/nonexistent/beacon.toml");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot be read"));
}

#[tokio::test]
async fn work_is_spread_over_the_providers_of_one_pair_and_each_answer_says_which() {
    let first = OpenAiServer::start(|_, _| Chat::After(Duration::from_millis(200), Box::new(Chat::Answer("one".into())))).await;
    let second = OpenAiServer::start(|_, _| Chat::After(Duration::from_millis(200), Box::new(Chat::Answer("two".into())))).await;
    let config = two_region_config(&first.base_url, &first.base_url, "concurrency = 2")
        + &format!(
            r#"
[[providers]]
id = "ollama-iowa-2"
kind = "openai"
region = "us-central"
base_url = "{}"
models = {{ "llama3.1-8b" = "llama3.1:8b" }}
concurrency = 2
"#,
            second.base_url
        );
    let (app, _config) = spawn_with_file(&config).await;
    let questions = app.add_questions(12).await;
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    let job = app.submit(&questions, &["llama3.1-8b"], &["US"]).await;
    let rows = app.wait_all_finished(&job).await;
    assert!(rows.iter().all(|r| r["status"] == "completed"));
    let (to_first, to_second) = (first.received().len(), second.received().len());
    assert_eq!(to_first + to_second, 12, "each row sent once");
    assert!(to_first >= 3 && to_second >= 3, "both providers took work: {to_first} and {to_second}");
    for row in &rows {
        let expected = if row["output"] == "one" { "ollama-iowa" } else { "ollama-iowa-2" };
        assert_eq!(row["provider_id"], expected, "the provider that answered is the one recorded");
    }
}

#[tokio::test]
async fn a_cancel_stops_calls_still_waiting_for_their_turn_and_the_jobs_warm_ups() {
    // One request a second, four slots: after the first call, the other three wait for the
    // rate limit. A cancel in that second means they are never sent.
    let server = OpenAiServer::start(|body, _| {
        if question(body) == "Reply with OK." {
            Chat::Hang
        } else {
            Chat::After(Duration::from_millis(300), Box::new(Chat::Answer("ok".into())))
        }
    })
    .await;
    let config = two_region_config(&server.base_url, &server.base_url, "concurrency = 4\nrequests_per_minute = 20");
    let (app, _config) = spawn_with_file(&config).await;
    let job = app.submit(&["math_basic", "geography_basic", "identity_basic", "taiwan_status"], &["llama3.1-8b"], &["US"]).await;
    eventually("the first call to be sent", Duration::from_secs(5), || {
        std::future::ready(if server.received().is_empty() { Err("nothing was sent".to_string()) } else { Ok(()) })
    })
    .await;
    let (status, _) = app.post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({})).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(server.received().len(), 1, "only the call sent before the cancel went out");

    // A job cancelled while its warm-up runs sends no more warm-ups, and says why.
    let job =
        app.post_json("/api/v1/jobs", &json!({"questions": ["math_basic"], "models": ["llama3.1-8b"], "regions": ["EU"], "warmup": true})).await.1
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let (status, _) = app.post_json(&format!("/api/v1/jobs/{job}/cancel"), &json!({})).await;
    assert_eq!(status, 200);
    let (_, body) = app.get(&format!("/api/v1/jobs/{job}/warmups")).await;
    assert_eq!(body["warmups"][0]["status"], "failed", "{body}");
    assert_eq!(body["warmups"][0]["error"], "the job was cancelled");
}
