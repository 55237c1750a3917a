//! The built-in demo router: cold first, then warm and deterministic.

use std::net::SocketAddr;
use std::time::Duration;

use beacon::server::router::demo::{self, DemoConfig};
use serde_json::{json, Value};

use crate::helpers::*;

fn fast() -> DemoConfig {
    DemoConfig {
        cold_requests: 2,
        cold_fail: Duration::from_millis(10),
        cold_hang: Duration::from_millis(10),
        warm_latency: Duration::from_millis(10),
        idle_cooldown: Duration::from_secs(600),
        down: vec![("asia-pacific".into(), "mistral-7b".into())],
    }
}

async fn ask(base: &str, region: &str, prompt: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/inference"))
        .json(&json!({"model": "mistral-7b", "prompt": prompt, "temperature": 0.1, "max_tokens": 500,
                      "region_preference": region, "cost_priority": false}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_region_and_model_fails_while_cold_then_answers_the_same_way_every_time() {
    let addr = demo::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), fast()).await.unwrap();
    let base = format!("http://{addr}");
    let prompt = "You are … based in Europe.\n\nUser: What is the capital of France?\nAssistant:";

    // us-east: "app … is stopped", the way Modal answers a stopped app.
    for _ in 0..2 {
        let (status, body) = ask(&base, "us-east", prompt).await;
        assert_eq!(status, 200);
        assert_eq!(body["success"], false);
        assert_eq!(body["error"], "app for invoked web endpoint is stopped");
    }
    // eu-west: the proxy gives up while the container starts.
    for _ in 0..2 {
        let (status, _) = ask(&base, "eu-west", prompt).await;
        assert_eq!(status, 504);
    }
    let (status, first) = ask(&base, "eu-west", prompt).await;
    assert_eq!(status, 200);
    assert_eq!(first["success"], true);
    assert_eq!(first["provider_used"], "modal-eu-west");
    assert!(first["response"].as_str().unwrap().contains("Paris"));
    let (_, again) = ask(&base, "eu-west", prompt).await;
    assert_eq!(again["response"], first["response"], "warm answers are deterministic");

    // A broken provider never warms up.
    for _ in 0..4 {
        let (_, body) = ask(&base, "asia-pacific", prompt).await;
        assert_eq!(body["error"], "app for invoked web endpoint is stopped");
    }

    let (status, health) = {
        let response = reqwest::get(format!("{base}/health")).await.unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(health["status"], "healthy");
}

#[tokio::test]
async fn without_a_router_url_beacon_runs_a_job_against_the_built_in_demo_router() {
    // No router URL: the demo router starts in-process with its defaults (2 cold failures
    // per region and model, us-east failing fast).
    let app = spawn_app(Options { router_url: None, ..Options::default() }).await;
    let id = app.submit(&["math_basic", "geography_basic", "identity_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows =
        app.wait_for(&id, Duration::from_secs(20), |rows| rows.iter().all(|r| matches!(r["status"].as_str(), Some("completed" | "failed")))).await;
    let failed: Vec<&Value> = rows.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 2, "{rows:#?}");
    for row in failed {
        assert_eq!(row["error_code"], "ROUTER_ERROR");
        assert!(row["error"].as_str().unwrap().contains("app for invoked web endpoint is stopped"));
    }
}
