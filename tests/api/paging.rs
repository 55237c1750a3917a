//! SCALE.md: large jobs page. The job page shows at most 200 rows (SCALE allows 500) with plain filter and page
//! links; the API pages by key, with no gaps or duplicates while executions change.

use std::collections::HashSet;
use std::time::Duration;

use beacon::domain::views::ExecutionView;
use beacon::domain::ExecutionStatus;
use serde::Deserialize;

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

const MODELS: [&str; 3] = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"];

/// One page of the keyset API (the server's `ExecutionsPage`, which is only `Serialize`).
#[derive(Deserialize)]
struct Page {
    executions: Vec<ExecutionView>,
    next: Option<String>,
}

/// Every page of `path` (a keyset URL without `after`), following `next`.
async fn all_pages(app: &TestApp, path: &str) -> Vec<ExecutionView> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(cursor) => format!("{path}&after={cursor}"),
            None => path.to_string(),
        };
        let page: Page = app.get_ok(&url).await;
        rows.extend(page.executions);
        match page.next {
            Some(next) => after = Some(next),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn the_api_pages_by_key_without_gaps_or_duplicates_while_executions_change() {
    // Slow answers, half of them failures: rows change status while the pages are read.
    let router = TestRouter::start(|req, nth| {
        let reply = if (req.prompt.len() + nth) % 2 == 0 { Reply::Answer("ok".into()) } else { Reply::Fail("cold".into()) };
        Reply::After(Duration::from_millis(20), Box::new(reply))
    })
    .await;
    let app = spawn_app(Options { router_url: Some(router.url.clone()), region_concurrency: 4, ..Options::default() }).await;
    let questions = app.add_questions(100).await;
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    let job = app.submit(&questions, &MODELS, &["US", "EU"]).await;

    let rows = all_pages(&app, &format!("/api/v1/jobs/{job}/executions?limit=37")).await;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 600, "every row once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 600, "no duplicates");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in table order");

    // Filters narrow the pages; what they return matches them.
    let eu = all_pages(&app, &format!("/api/v1/jobs/{job}/executions?region=EU&model=mistral-7b&limit=1000")).await;
    assert_eq!(eu.len(), 100);
    assert!(eu.iter().all(|r| r.region.as_str() == "eu-west" && r.model_id == "mistral-7b"));
    app.wait_all_finished(&job).await;
    let failed = all_pages(&app, &format!("/api/v1/jobs/{job}/executions?status=failed,timeout,error")).await;
    let summary = app.job(&job).await;
    assert_eq!(failed.len() as i64, summary.progress.failed);
    assert!(failed.iter().all(|r| r.status == ExecutionStatus::Failed));

    // Bad paging is a clear 400 naming the parameter.
    for (query, mentions) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after=-1", "after"),
        ("after=abc", "after"),
        ("status=done", "status"),
        ("region=mars", "region"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/jobs/{job}/executions?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_request");
        assert!(body["error"].as_str().unwrap().contains(mentions), "{query}: {body}");
    }
    let (status, _) = app.get("/api/v1/jobs/nope/executions").await;
    assert_eq!(status, 404);

    // The whole job, streamed, is the same rows with their histories.
    let all = app.rows(&job).await;
    assert_eq!(all.len(), 600);
    assert!(all.iter().all(|r| !r.retry_history.is_empty()));
}

#[tokio::test]
async fn a_large_job_page_shows_200_rows_with_filter_and_page_links_and_whole_job_counts() {
    let router =
        TestRouter::start(|req, _| if req.prompt.contains("number 1") { Reply::Fail("cold".into()) } else { Reply::Answer("ok".into()) }).await;
    let app = spawn_with_router(&router.url).await;
    let questions = app.add_questions(120).await;
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    let job = app.submit(&questions, &MODELS, &["US", "EU"]).await;
    app.wait_all_finished(&job).await;
    let failed = app.job(&job).await.progress.failed;
    assert!(failed > 0);

    // 720 rows: four pages.
    let (status, html) = app.get_html(&format!("/jobs/{job}")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="execution-row""#).count(), 200);
    assert!(html.contains("Rows 1–200 of 720 · page 1 of 4"), "the pager says where we are");
    assert!(html.contains(r#"data-testid="pager-bottom""#), "above and below the table");
    assert!(html.contains(&format!(r#"href="/jobs/{job}?page=2""#)), "a plain link to page 2");
    // The header covers the whole job, not the page.
    assert!(html.contains("720/720 done"), "whole-job progress in the header");
    assert!(html.contains(&format!("Retry all failed ({failed})")));

    let (_, html) = app.get_html(&format!("/jobs/{job}?page=4")).await;
    assert_eq!(html.matches(r#"data-testid="execution-row""#).count(), 120);
    assert!(html.contains("Rows 601–720 of 720 · page 4 of 4"));
    assert!(html.contains(&format!(r#"href="/jobs/{job}?page=3""#)), "a plain link back");
    // A page past the end shows the last.
    let (_, html) = app.get_html(&format!("/jobs/{job}?page=99")).await;
    assert!(html.contains("page 4 of 4"));

    // Filter links: status, region, model; each keeps the others.
    let failed_link = format!("/jobs/{job}?status=failed,timeout,error");
    assert!(html.contains(&format!(r#"href="{failed_link}""#)), "a Failed link");
    let (_, html) = app.get_html(&failed_link).await;
    assert_eq!(html.matches(r#"data-testid="execution-row""#).count() as i64, failed);
    assert_eq!(html.matches(r#"data-status="failed""#).count() as i64, failed);
    assert!(!html.contains(r#"data-testid="pager""#), "one page of failures needs no pager");
    let (_, html) = app.get_html(&format!("/jobs/{job}?region=eu-west&model=qwen2.5-1.5b")).await;
    assert_eq!(html.matches(r#"data-testid="execution-row""#).count(), 120);
    assert!(html.matches(r#"data-model="qwen2.5-1.5b""#).count() == 120 && !html.contains("region-us-east"));
    assert!(
        html.contains(&format!(r#"href="/jobs/{job}?status=failed,timeout,error&amp;region=eu-west&amp;model=qwen2.5-1.5b""#)),
        "{}",
        "filters combine"
    );

    // A bad filter is the caller's mistake, said on the page.
    let (status, html) = app.get_html(&format!("/jobs/{job}?status=done")).await;
    assert_eq!(status, 400);
    assert!(html.contains("status: unknown status"));
}
