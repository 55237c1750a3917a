//! RESEARCH.md §3: a job's export as CSV and JSON Lines, read back the way pandas would.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

/// An answer that breaks naive CSV writers: quotes, commas, a newline, and non-ASCII text.
const AWKWARD: &str = "He said \"four\", then\nadded: 2+2=4 — 四";

async fn download(app: &TestApp, path: &str) -> (u16, HashMap<String, String>, String) {
    let response = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
    (status, headers, response.text().await.unwrap())
}

fn read_csv(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows =
        reader.records().map(|record| header.iter().cloned().zip(record.expect("an RFC 4180 record").iter().map(str::to_string)).collect()).collect();
    (header, rows)
}

#[tokio::test]
async fn exports_read_back_with_every_field_in_the_studys_order() {
    // 2+2 is answered awkwardly; the capital question fails first, then answers after a retry;
    // "Who are you?" is refused.
    let router = TestRouter::start(|req, nth| {
        if req.prompt.contains("2+2") {
            Reply::Answer(AWKWARD.into())
        } else if req.prompt.contains("France") && nth == 0 {
            Reply::Fail("cold start".into())
        } else if req.prompt.contains("Who are you") {
            Reply::Answer("I'm sorry, but I can't share that.".into())
        } else {
            Reply::Answer("Paris".into())
        }
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let (status, created) = app
        .post_json(
            "/api/v1/jobs",
            &json!({"questions": ["math_basic", "geography_basic", "identity_basic"], "models": ["llama3.2-1b"], "regions": ["US", "EU"], "samples": 2}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let job = created["id"].as_str().unwrap().to_string();
    let rows = app.wait_all_finished(&job).await;
    assert_eq!(rows.len(), 12);
    // The France question failed once per region (the router's first call for each prompt):
    // retry those two.
    let failed: Vec<&Value> = rows.iter().filter(|r| r["status"] != "completed").collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    let mut retried_ids = Vec::new();
    for row in failed {
        let id = row["id"].as_i64().unwrap();
        let (status, body) = app.retry(id, row["region"].as_str().unwrap(), row["question_index"].as_i64().unwrap(), None).await;
        assert_eq!(status, 202, "{body}");
        app.wait_execution(id, |e| e["status"] == "completed").await;
        retried_ids.push(id);
    }
    let retried_id = retried_ids[0];

    let (status, headers, text) = download(&app, &format!("/api/v1/jobs/{job}/export.csv")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("text/csv"));
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"{job}.csv\""));
    let (header, records) = read_csv(&text);
    assert_eq!(
        header.join(","),
        "job_id,execution_id,question_id,question_text,category,model_id,region,sample_index,status,output,error_code,error,\
         original_error_code,attempts,manual_retries,auto_retries,retried,final_trigger,request_hash,provider_id,served_model,\
         finish_reason,started_at,completed_at,duration_ms,refusal"
    );
    assert_eq!(records.len(), 12);
    // Question order, then model, then region (US before EU as the job lists them), then sample.
    let order: Vec<(String, String, String)> =
        records.iter().map(|r| (r["question_id"].clone(), r["region"].clone(), r["sample_index"].clone())).collect();
    let mut expected = Vec::new();
    for question in ["math_basic", "geography_basic", "identity_basic"] {
        for region in ["us-east", "eu-west"] {
            for sample in ["0", "1"] {
                expected.push((question.to_string(), region.to_string(), sample.to_string()));
            }
        }
    }
    assert_eq!(order, expected);

    for record in &records {
        assert_eq!(record["job_id"], job);
        assert_eq!(record["status"], "completed");
        assert!(record["request_hash"].len() == 64, "{record:?}");
        assert!(!record["completed_at"].is_empty());
        assert_eq!(record["error_code"], "", "empty fields are empty, never null");
        match record["question_id"].as_str() {
            "math_basic" => {
                assert_eq!(record["output"], AWKWARD, "quotes, commas and newlines survive");
                assert_eq!(record["question_text"], "What is 2+2?");
                assert_eq!(record["category"], "control_questions");
                assert_eq!(record["refusal"], "false");
            }
            "identity_basic" => assert_eq!(record["refusal"], "true"),
            _ => {}
        }
    }
    let retried = records.iter().find(|r| r["execution_id"] == retried_id.to_string()).unwrap();
    assert_eq!(retried["retried"], "true");
    assert_eq!(retried["attempts"], "2");
    assert_eq!(retried["manual_retries"], "1");
    assert_eq!(retried["final_trigger"], "manual");
    assert_eq!(retried["original_error_code"], "ROUTER_ERROR");
    assert_eq!(records.iter().filter(|r| r["retried"] == "true").count(), 2);

    // JSON Lines: the same keys, the attempts as objects.
    let (status, headers, text) = download(&app, &format!("/api/v1/jobs/{job}/export.jsonl")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("application/x-ndjson"));
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"{job}.jsonl\""));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 12);
    let keys: Vec<&str> = lines[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), header.len());
    let retried = lines.iter().find(|l| l["execution_id"] == retried_id).unwrap();
    assert_eq!(retried["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(retried["attempts"][1]["trigger"], "manual");
    assert_eq!(retried["retried"], true);
    assert!(lines.iter().any(|l| l["output"] == AWKWARD));
    assert!(lines.iter().all(|l| l["error_code"].is_null()));

    // Filters narrow both.
    let (_, _, text) = download(&app, &format!("/api/v1/jobs/{job}/export.csv?region=EU")).await;
    let (_, eu) = read_csv(&text);
    assert_eq!(eu.len(), 6);
    assert!(eu.iter().all(|r| r["region"] == "eu-west"));
    let (_, _, text) = download(&app, &format!("/api/v1/jobs/{job}/export.jsonl?status=failed")).await;
    assert_eq!(text.lines().count(), 0);

    // Bad input: a clear 4xx.
    let (status, _, body) = download(&app, &format!("/api/v1/jobs/{job}/export.csv?status=bogus")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("status"));
    let (status, _, _) = download(&app, "/api/v1/jobs/no-such-job/export.csv").await;
    assert_eq!(status, 404);
}
