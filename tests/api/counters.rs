//! SCALE.md: a job's progress counters are kept incrementally by the database, and always
//! equal a full recount of its executions, whatever mix of changes happened.

use std::time::Duration;

use beacon::server::db;
use serde_json::json;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

/// A small deterministic generator, so a failing mix can be replayed from its seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn assert_counters_match(app: &TestApp, when: &str) {
    let drifted = db::jobs::check_counters(app.db(), false).await.unwrap();
    // One statement reads the stored counters and recounts: a consistent view while the
    // runner keeps changing rows.
    assert!(drifted.is_empty(), "{when}: counters drifted from a recount: {drifted:?}");
}

#[tokio::test]
async fn counters_equal_a_recount_after_a_random_mix_of_finishes_retries_cancels_and_sweeps() {
    let seed = 0x5eed_cafe_u64;
    // Half the calls fail, some slowly, so retries, cancels and sweeps meet rows in every state.
    let router = TestRouter::start(move |req, nth| {
        let roll = (req.prompt.len() as u64 * 31 + nth as u64 * 17 + seed) % 6;
        match roll {
            0 | 1 => Reply::Fail("cold".into()),
            2 => Reply::After(Duration::from_millis(300), Box::new(Reply::Answer("late".into()))),
            _ => Reply::Answer("ok".into()),
        }
    })
    .await;
    let app = spawn_app(Options { router_url: Some(router.url.clone()), region_concurrency: 3, ..Options::default() }).await;
    let mut mix = Mix(seed);
    let questions = ["math_basic", "geography_basic", "identity_basic", "taiwan_status", "hongkong_2019"];
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(app.submit(&questions, &["llama3.2-1b", "mistral-7b"], &["US", "EU"]).await);
    }
    assert_counters_match(&app, "after submission").await;

    for round in 0..12 {
        let job = &jobs[mix.next(jobs.len() as u64) as usize];
        let rows = app.executions(job).await;
        match mix.next(4) {
            // Retry a failure (accepted or refused, both must leave the counters right).
            0 | 1 => {
                if let Some(row) = rows.iter().find(|r| matches!(status_of(r), "failed" | "timeout" | "error")) {
                    app.retry(row["id"].as_i64().unwrap(), row["region"].as_str().unwrap(), row["question_index"].as_i64().unwrap(), None).await;
                }
            }
            // Retry every failure of the job at once.
            2 => {
                app.post_json(&format!("/api/v1/jobs/{job}/retry-all-failed"), &json!({})).await;
            }
            // A worker dies mid-call: its row is left leased, then swept.
            _ => {
                if let Some(row) = rows.iter().find(|r| status_of(r) == "completed") {
                    let id = row["id"].as_i64().unwrap();
                    sqlx::query("UPDATE executions SET status = 'running', lease_owner = 'dead', lease_expires_at = 0, updated_at = updated_at + 1 WHERE id = $1")
                        .bind(id)
                        .execute(&app.db().pool)
                        .await
                        .unwrap();
                    db::executions::sweep_expired_leases(app.db()).await.unwrap();
                }
            }
        }
        if round == 6 {
            // Cancel one job while it has work in flight.
            app.post_json(&format!("/api/v1/jobs/{}/cancel", jobs[0]), &json!({})).await;
        }
        assert_counters_match(&app, &format!("round {round}")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for job in &jobs {
        app.wait_all_finished(job).await;
    }
    assert_counters_match(&app, "at the end").await;
    // What the API shows of a settled job is its recount.
    for job in &jobs {
        let rows = app.executions(job).await;
        let (_, body) = app.get(&format!("/api/v1/jobs/{job}")).await;
        let progress = &body["progress"];
        assert_eq!(progress["total"].as_u64().unwrap() as usize, rows.len());
        let count = |names: &[&str]| rows.iter().filter(|r| names.contains(&status_of(r))).count() as u64;
        assert_eq!(progress["completed"].as_u64().unwrap(), count(&["completed"]), "{body}");
        assert_eq!(progress["failed"].as_u64().unwrap(), count(&["failed", "timeout", "error"]), "{body}");
        assert_eq!(progress["cancelled"].as_u64().unwrap(), count(&["cancelled"]), "{body}");
    }
}

#[tokio::test]
async fn beacon_check_reports_and_repairs_drifted_counters() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic", "geography_basic"], &["llama3.2-1b"], &["US"]).await;
    app.wait_all_finished(&job).await;
    assert!(db::jobs::check_counters(app.db(), false).await.unwrap().is_empty());

    // Counters broken behind Beacon's back (a hand edit, a restore of a partial backup).
    sqlx::query("UPDATE jobs SET completed = 0, pending = 2").execute(&app.db().pool).await.unwrap();
    let drifted = db::jobs::check_counters(app.db(), false).await.unwrap();
    assert_eq!(drifted.len(), 1);
    let (id, stored, actual) = &drifted[0];
    assert_eq!(id.as_str(), job);
    assert_eq!((stored.completed, stored.pending), (0, 2));
    assert_eq!((actual.completed, actual.pending), (2, 0));

    let repaired = db::jobs::check_counters(app.db(), true).await.unwrap();
    assert_eq!(repaired.len(), 1);
    assert!(db::jobs::check_counters(app.db(), false).await.unwrap().is_empty());
    let (_, body) = app.get(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(body["progress"]["completed"], 2);
    assert_eq!(body["status"], "completed");
}
