//! RESEARCH.md §4–§5: the comparison and the analysis of a job built to have a known refusal,
//! a known disagreement and a retried cell, every number checked against one worked out here.

use beacon::domain::analysis::similarity::similarity;
use beacon::domain::analysis::stats::wilson;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

const TAIWAN_US: &str = "Taiwan is a self-governing democracy with its own elected government.";
const TAIWAN_EU: &str = "I'm sorry, but I can't discuss this topic.";

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

fn interval(value: &Value, expected: [f64; 2]) -> bool {
    close(&value[0], expected[0]) && close(&value[1], expected[1])
}

/// 2 questions × 1 model × 2 regions: math agrees (EU's answer needed a retry), Taiwan is
/// answered in us-east and refused in eu-west.
async fn study() -> (TestRouter, TestApp, String) {
    let router = TestRouter::start(|req, nth| {
        let eu = req.prompt.contains("Europe");
        if req.prompt.contains("2+2") {
            if eu && nth == 0 {
                Reply::Fail("cold start".into())
            } else {
                Reply::Answer("4".into())
            }
        } else if eu {
            Reply::Answer(TAIWAN_EU.into())
        } else {
            Reply::Answer(TAIWAN_US.into())
        }
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "taiwan_status"], &["llama3.2-1b"], &["US", "EU"]).await;
    let rows = app.wait_all_finished(&job).await;
    let failed = rows.iter().find(|r| r["status"] == "failed").expect("EU's first 2+2 failed");
    let id = failed["id"].as_i64().unwrap();
    let (status, body) = app.retry(id, "EU", failed["question_index"].as_i64().unwrap(), None).await;
    assert_eq!(status, 202, "{body}");
    app.wait_execution(id, |e| e["status"] == "completed").await;
    (router, app, job)
}

#[tokio::test]
async fn compare_and_analysis_match_numbers_worked_out_by_hand() {
    let (_router, app, job) = study().await;

    // --- Compare ---
    let (status, compare) = app.get(&format!("/api/v1/jobs/{job}/compare")).await;
    assert_eq!(status, 200, "{compare}");
    assert_eq!(compare["regions"], json!(["us-east", "eu-west"]));
    assert_eq!(compare["matching"], 2);
    let rows = compare["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let math = &rows[0];
    assert_eq!(
        (math["question_id"].as_str(), math["model_id"].as_str(), math["sample_index"].as_i64()),
        (Some("math_basic"), Some("llama3.2-1b"), Some(0))
    );
    assert_eq!(math["question_text"], "What is 2+2?");
    assert!(close(&math["agreement"], 1.0));
    assert_eq!(math["diverges"], false);
    assert_eq!(math["answers"]["us-east"]["output"], "4");
    assert_eq!(math["answers"]["us-east"]["retried"], false);
    assert_eq!(math["answers"]["eu-west"]["retried"], true);
    assert_eq!(math["answers"]["eu-west"]["refusal"], false);
    assert_eq!(math["answers"]["eu-west"]["length"], 1);
    let taiwan = &rows[1];
    assert_eq!(taiwan["question_id"], "taiwan_status");
    assert!(close(&taiwan["agreement"], similarity(TAIWAN_US, TAIWAN_EU)));
    assert_eq!(taiwan["diverges"], true, "one region refused, the other answered");
    assert_eq!(taiwan["answers"]["eu-west"]["refusal"], true);
    assert_eq!(taiwan["answers"]["us-east"]["refusal"], false);
    assert_eq!(taiwan["answers"]["us-east"]["length"], TAIWAN_US.chars().count());
    assert_eq!(taiwan["answers"]["eu-west"]["status"], "completed");

    // Filters.
    for (query, expected) in [
        ("diverging=true", vec!["taiwan_status"]),
        ("refused=true", vec!["taiwan_status"]),
        ("category=control_questions", vec!["math_basic"]),
        ("category=bias_detection&diverging=true", vec!["taiwan_status"]),
        ("model=llama3.2-1b&diverging=false", vec!["math_basic", "taiwan_status"]),
    ] {
        let (status, body) = app.get(&format!("/api/v1/jobs/{job}/compare?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        let ids: Vec<&str> = body["rows"].as_array().unwrap().iter().map(|r| r["question_id"].as_str().unwrap()).collect();
        assert_eq!(ids, expected, "{query}");
    }
    for (query, field) in [("model=gpt-9", "model"), ("diverging=maybe", "diverging"), ("refused=1", "refused"), ("page=0", "page")] {
        let (status, body) = app.get(&format!("/api/v1/jobs/{job}/compare?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["code"], "invalid_request");
        assert!(body["error"].as_str().unwrap().starts_with(field), "{query}: {body}");
    }
    assert_eq!(app.get("/api/v1/jobs/no-such-job/compare").await.0, 404);

    // --- Analysis ---
    let (status, analysis) = app.get(&format!("/api/v1/jobs/{job}/analysis")).await;
    assert_eq!(status, 200, "{analysis}");
    let cells = analysis["per_model_region"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    let (us, eu) = (&cells[0], &cells[1]);
    assert_eq!((us["model_id"].as_str(), us["region"].as_str()), (Some("llama3.2-1b"), Some("us-east")));
    assert_eq!((us["n"].as_u64(), us["completed"].as_u64(), us["refusals"].as_u64()), (Some(2), Some(2), Some(0)));
    assert!(close(&us["refusal_rate"], 0.0));
    assert!(interval(&us["refusal_ci"], wilson(0, 2).unwrap()));
    assert!(close(&us["mean_length"], (1 + TAIWAN_US.chars().count()) as f64 / 2.0));
    assert!(us["mean_latency_ms"].as_f64().is_some());
    assert_eq!(
        (eu["region"].as_str(), eu["n"].as_u64(), eu["completed"].as_u64(), eu["refusals"].as_u64()),
        (Some("eu-west"), Some(2), Some(2), Some(1))
    );
    assert!(close(&eu["refusal_rate"], 0.5));
    assert!(interval(&eu["refusal_ci"], wilson(1, 2).unwrap()));
    assert!(close(&eu["mean_length"], (1 + TAIWAN_EU.chars().count()) as f64 / 2.0));

    let pairs = analysis["region_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!((pairs[0]["a"].as_str(), pairs[0]["b"].as_str(), pairs[0]["rows"].as_u64()), (Some("us-east"), Some("eu-west"), Some(2)));
    assert!(close(&pairs[0]["mean_agreement"], (1.0 + similarity(TAIWAN_US, TAIWAN_EU)) / 2.0));
    assert_eq!(pairs[0]["refusal_disagreements"], 1);

    assert_eq!(analysis["by_attempt"], json!([{"attempt": 1, "n": 4, "succeeded": 3}, {"attempt": 2, "n": 1, "succeeded": 1}]));
    assert_eq!(analysis["by_error_code"], json!({"ROUTER_ERROR": 1}));
    // The failure's words come from its message, as in its row: a cold start.
    assert_eq!(analysis["reasons_by_code"], json!({"ROUTER_ERROR": {"Cold start": 1}}));

    // First try: US 4, US Taiwan, EU refusal; retried: EU 4.
    let bias = &analysis["retry_bias"];
    assert_eq!(bias["first_try"]["n"], 3);
    assert!(close(&bias["first_try"]["refusal_rate"], 1.0 / 3.0));
    assert!(interval(&bias["first_try"]["refusal_ci"], wilson(1, 3).unwrap()));
    let first_mean = (1 + TAIWAN_US.chars().count() + TAIWAN_EU.chars().count()) as f64 / 3.0;
    assert!(close(&bias["first_try"]["mean_length"], first_mean));
    assert_eq!(bias["retried"]["n"], 1);
    assert!(close(&bias["retried"]["refusal_rate"], 0.0));
    assert!(close(&bias["retried"]["mean_length"], 1.0));
    // The intervals overlap (tiny samples), but the one retried answer is far shorter: the rule
    // flags it, and with one and three answers the page says it cannot tell yet.
    assert_eq!(bias["flagged"], true);
    assert_eq!(bias["testable"], false);
    let sentence = bias["explanation"].as_str().unwrap();
    assert!(sentence.starts_with("Not testable yet: too few answers to compare (1 needed a retry, 3 answered on the first try"), "{sentence}");
    assert!(sentence.contains("So far answers that needed retries are ") && sentence.contains("% shorter"), "{sentence}");
    assert_eq!(app.get("/api/v1/jobs/no-such-job/analysis").await.0, 404);

    // The pages show the same numbers, without JavaScript.
    let (status, html) = app.get_html(&format!("/jobs/{job}/analysis")).await;
    assert_eq!(status, 200);
    assert!(html.contains(sentence), "the page says the API's sentence");
    assert!(html.contains(r#"data-testid="refusal-chart""#) && html.contains("<svg"));
    assert!(html.contains("50.0 %"), "eu-west's refusal rate");
    let codes = &html[html.find(r#"data-testid="by-error-code""#).unwrap()..];
    assert!(codes[..codes.find("</table>").unwrap()].contains("<td>Cold start"), "the analysis says what the row says");
    let (status, html) = app.get_html(&format!("/jobs/{job}/compare?diverging=true")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="compare-row""#).count(), 1);
    assert!(html.contains("I&#x27;m sorry, but I can&#x27;t discuss this topic.") || html.contains("I'm sorry, but I can't discuss this topic."));
}

#[tokio::test]
async fn the_demo_router_tells_a_story() {
    // The built-in demo (no router URL): contested questions diverge, some pairs refuse.
    let app = spawn_app(Options::default()).await;
    let (status, created) = app
        .post_json("/api/v1/jobs", &json!({"question_set": "beacon-default", "models": ["qwen2.5-1.5b", "llama3.2-1b"], "regions": ["US", "ASIA"]}))
        .await;
    assert_eq!(status, 202, "{created}");
    let job = created["id"].as_str().unwrap().to_string();
    // The demo's providers start cold: retry what the cold start failed until all answered.
    eventually("every cell of the demo to answer", std::time::Duration::from_secs(60), || async {
        let rows = app.wait_all_finished(&job).await;
        if rows.iter().all(|r| r["status"] == "completed") {
            return Ok(());
        }
        let (status, body) = app.post_json(&format!("/api/v1/jobs/{job}/retry-all-failed"), &json!({})).await;
        assert_eq!(status, 200, "{body}");
        Err(format!("{rows:#?}"))
    })
    .await;
    let (_, compare) = app.get(&format!("/api/v1/jobs/{job}/compare")).await;
    let rows = compare["rows"].as_array().unwrap();
    let row = |question: &str, model: &str| rows.iter().find(|r| r["question_id"] == question && r["model_id"] == model).unwrap().clone();
    assert_eq!(row("geography_basic", "llama3.2-1b")["diverges"], false);
    assert!(close(&row("geography_basic", "llama3.2-1b")["agreement"], 1.0));
    assert_eq!(row("taiwan_status", "llama3.2-1b")["diverges"], true);
    assert_eq!(row("taiwan_status", "qwen2.5-1.5b")["answers"]["asia-pacific"]["refusal"], true);
    assert_eq!(row("taiwan_status", "qwen2.5-1.5b")["answers"]["us-east"]["refusal"], false);
    let (_, analysis) = app.get(&format!("/api/v1/jobs/{job}/analysis")).await;
    let rate = |model: &str, region: &str| {
        analysis["per_model_region"].as_array().unwrap().iter().find(|c| c["model_id"] == model && c["region"] == region).unwrap()["refusal_rate"]
            .as_f64()
            .unwrap()
    };
    assert!(close(&json!(rate("qwen2.5-1.5b", "asia-pacific")), 3.0 / 8.0), "three contested questions of eight");
    assert!(close(&json!(rate("qwen2.5-1.5b", "us-east")), 0.0));
}

/// UI.md §5: a row with a region missing is marked `incomplete` and can be filtered to; a
/// failed cell offers its Retry on the compare page, which works without JavaScript and comes
/// back to the page.
#[tokio::test]
async fn a_failed_cell_is_retried_from_the_compare_page_and_incomplete_rows_are_marked() {
    let router = TestRouter::start(|req, nth| {
        if req.prompt.contains("2+2") && req.prompt.contains("Europe") && nth == 0 {
            Reply::Fail("cold start".into())
        } else {
            Reply::Answer("An answer".into())
        }
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "taiwan_status"], &["llama3.2-1b"], &["US", "EU"]).await;
    app.wait_all_finished(&job).await;

    let (_, compare) = app.get(&format!("/api/v1/jobs/{job}/compare")).await;
    let incomplete: Vec<(&str, bool)> =
        compare["rows"].as_array().unwrap().iter().map(|r| (r["question_id"].as_str().unwrap(), r["incomplete"].as_bool().unwrap())).collect();
    assert_eq!(incomplete, vec![("math_basic", true), ("taiwan_status", false)]);
    let failed = &compare["rows"][0]["answers"]["eu-west"];
    assert_eq!((failed["status"].as_str(), failed["retry_count"].as_i64(), failed["max_retries"].as_i64()), (Some("failed"), Some(0), Some(3)));
    let (_, only) = app.get(&format!("/api/v1/jobs/{job}/compare?incomplete=true")).await;
    assert_eq!(only["matching"], 1);
    assert_eq!(only["rows"][0]["question_id"], "math_basic");
    let (status, refused) = app.get(&format!("/api/v1/jobs/{job}/compare?incomplete=yes")).await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().unwrap().starts_with("incomplete"), "{refused}");

    // The page: the row is marked, the filter kept, the failed cell has its Retry.
    let page = format!("/jobs/{job}/compare?incomplete=true");
    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="compare-row""#).count(), 1);
    assert!(html.contains(r#"data-testid="incomplete""#));
    assert!(html.contains(r#"name="incomplete" value="true" checked"#), "the filter stays ticked");
    assert!(html.contains(r#"data-testid="cell-retry" class="retry">Retry<"#), "the failed cell offers its Retry");
    let action = form_action(&html, "retry_execution");
    let id = failed["execution_id"].as_i64().unwrap();
    let (status, location) = app.post_form(&action, &format!("id={id}&region=eu-west&question_index=0"), &page).await;
    assert_eq!(status, 302);
    assert!(location.starts_with(&format!("/jobs/{job}/compare?incomplete=true&notice=Retry+queued")), "{location}");
    let (_, back) = app.get_html(&location).await;
    assert!(back.contains("Retry queued: math_basic · llama3.2-1b · eu-west"), "the outcome is shown on the page");
    app.wait_execution(id, |e| e["status"] == "completed").await;
    let (_, compare) = app.get(&format!("/api/v1/jobs/{job}/compare?incomplete=true")).await;
    assert_eq!(compare["matching"], 0, "answered everywhere now");
}
