use std::time::Duration;

use beacon::domain::{AttemptStatus, ExecutionStatus, JobStatus};
use beacon::server::startup;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

#[tokio::test]
async fn rows_of_a_dead_server_become_interrupted_when_their_lease_expires() {
    let router = TestRouter::start(|_, _| Reply::Hang).await;
    let options =
        || Options { router_url: Some(router.url.clone()), router_timeout_secs: 3600, region_concurrency: 1, lease_secs: 1, ..Options::default() };
    let mut first = spawn_app(options()).await;
    let id = first.submit(&["math_basic", "taiwan_status"], &["mistral-7b"], &["EU"]).await;
    let is_running = |r: &&Detail| r.status == ExecutionStatus::Running;
    let rows = first.wait_rows(&id, Duration::from_secs(5), |rows| rows.iter().any(|r| is_running(&r))).await;
    let orphan = rows.iter().find(is_running).unwrap().id;

    // The first server dies mid-call: nobody renews its lease any more.
    first.stop().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let db = beacon::server::db::connect(&first.database_url()).await.unwrap();
    let still_running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM executions WHERE id = $1 AND status = 'running'").bind(orphan).fetch_one(&db.pool).await.unwrap();
    assert_eq!(still_running, 1, "a crash leaves the row running until its lease expires");

    // A new server on the same database recovers it.
    let second = startup::start(config(&options(), first.database_url())).await.unwrap();
    let base = format!("http://{}", second.addr);
    let row = eventually("the orphaned row to be recovered", Duration::from_secs(10), || async {
        let row: Detail = reqwest::get(format!("{base}/api/v1/executions/{orphan}/details")).await.unwrap().json().await.unwrap();
        if row.status == ExecutionStatus::Error {
            Ok(row)
        } else {
            Err(format!("not recovered: {row:#?}"))
        }
    })
    .await;
    assert_eq!(row.error_code.as_deref(), Some("INTERRUPTED"));
    assert_eq!(row.original_error_code.as_deref(), Some("INTERRUPTED"));
    let history = &row.retry_history;
    assert_eq!(history.len(), 1, "the interrupted attempt stays in the history");
    assert_eq!(history[0].status, AttemptStatus::Interrupted);
    assert!(history[0].finished_at.is_some());
    second.stop().await;
}

#[tokio::test]
async fn cancelling_a_job_sends_nothing_more_and_keeps_the_answers_of_calls_already_sent() {
    // SAFETY.md §5: a call already sent is not cut off (the GPU time is spent either way); its
    // answer is kept on its attempt as a late answer, and the execution stays cancelled.
    let router = TestRouter::start(|req, _| {
        if req.prompt.contains("2+2") {
            Reply::Answer("4".into())
        } else {
            Reply::After(Duration::from_millis(1500), Box::new(Reply::Answer("an answer after the cancel".into())))
        }
    })
    .await;
    let app =
        spawn_app(Options { router_url: Some(router.url.clone()), router_timeout_secs: 3600, region_concurrency: 2, ..Options::default() }).await;
    let id = app.submit(&["math_basic", "taiwan_status", "hongkong_2019", "greatest_leader"], &["llama3.2-1b"], &["US"]).await;
    app.wait_rows(&id, Duration::from_secs(5), |rows| {
        rows.iter().any(|r| r.status == ExecutionStatus::Completed) && rows.iter().filter(|r| r.status == ExecutionStatus::Running).count() == 2
    })
    .await;
    assert_eq!(router.in_flight(), 2);

    let (status, body) = app.post_json(&format!("/api/v1/jobs/{id}/cancel"), &serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "cancelled");
    assert_eq!(router.in_flight(), 2, "calls already sent are not cut off");

    let rows = app.rows(&id).await;
    for row in &rows {
        if row.question_id == "math_basic" {
            assert_eq!(row.status, ExecutionStatus::Completed, "finished work is kept");
        } else {
            assert_eq!(row.status, ExecutionStatus::Cancelled, "{row:#?}");
            for attempt in &row.retry_history {
                assert_eq!(attempt.status, AttemptStatus::Cancelled);
            }
        }
    }
    eventually("the sent calls to answer", Duration::from_secs(5), || {
        let in_flight = router.in_flight();
        std::future::ready(if in_flight == 0 { Ok(()) } else { Err(format!("{in_flight} in flight")) })
    })
    .await;
    let sent = router.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(router.received().len(), sent, "nothing is sent after the cancel");
    assert_eq!(sent, 3, "the pending execution was never sent");
    let rows = app.rows(&id).await;
    let late: Vec<_> = rows.iter().flat_map(|r| &r.retry_history).filter(|a| a.late).collect();
    assert_eq!(late.len(), 2, "both answers that came after the cancel are kept: {rows:#?}");
    for attempt in late {
        assert_eq!(attempt.output.as_deref(), Some("an answer after the cancel"));
        assert_eq!(attempt.status, AttemptStatus::Cancelled, "the attempt stays as the cancel left it");
    }
    for row in rows.iter().filter(|r| r.question_id != "math_basic") {
        assert_eq!(row.status, ExecutionStatus::Cancelled, "a late answer does not change the execution");
        assert!(row.output.is_none());
    }
    assert_eq!(app.job(&id).await.status, JobStatus::Cancelled);
}

#[tokio::test]
async fn a_claim_takes_exactly_as_many_rows_as_it_has_slots_for() {
    use beacon::server::db::executions;
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    // This test claims by hand, as the runner would.
    app.server.as_ref().unwrap().state.runner.stop_claiming();
    let questions = ["math_basic", "geography_basic", "identity_basic", "taiwan_status", "hongkong_2019", "greatest_leader"];
    let job = app.submit(&questions, &["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], &["US"]).await;
    let db = app.db();
    // On PostgreSQL a sub-select with LIMIT … SKIP LOCKED may run more than once: the claim must
    // still take exactly its limit, or rows would sit leased with nobody running them.
    // 18 queued rows: claims of 3, 1, 10, then 10 of which only 4 are left.
    for (limit, taken, running_after) in [(3, 3, 3), (1, 1, 4), (10, 10, 14), (10, 4, 18)] {
        let claimed = executions::claim_batch(db, "hybrid-us-east", &us_east(), &all_models(), "test-owner", i64::MAX, limit).await.unwrap();
        assert_eq!(claimed.len(), taken, "a claim of {limit}");
        assert!(claimed.iter().all(|c| c.attempt_id > 0));
        let running = app.count("SELECT COUNT(*) FROM executions WHERE status = 'running'").await;
        assert_eq!(running, running_after, "after a claim of {limit}");
    }
    assert!(executions::claim_batch(db, "hybrid-us-east", &us_east(), &all_models(), "test-owner", i64::MAX, 5).await.unwrap().is_empty());
    // Each claimed row has its one running attempt.
    assert_eq!(app.count("SELECT COUNT(*) FROM execution_attempts WHERE status = 'running'").await, 18);
    assert_eq!(app.executions(&job).await.len(), 18);
}

/// A claim's cost must not grow with the queue: it reads the region's queued rows in claim
/// order from the front (no sort of them all) and updates the picked rows by id.
#[tokio::test]
async fn a_claim_walks_the_queue_in_order_instead_of_sorting_it() {
    use beacon::server::db::{assembled, executions, Dialect};
    use sqlx::Row;
    let app = spawn_with_router("http://127.0.0.1:9").await;
    let db = app.db();
    if db.dialect != Dialect::Sqlite {
        return; // PostgreSQL's plans depend on its statistics; the index is there all the same.
    }
    let plan: Vec<String> = sqlx::query(assembled(format!("EXPLAIN QUERY PLAN {}", executions::claim_statement(db, 3))))
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(3))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("USING INDEX executions_claim_order (region=?)"), "{plan}");
    assert!(plan.contains("SEARCH executions USING INTEGER PRIMARY KEY"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}
