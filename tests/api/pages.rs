//! The pages as the server sends them, before any WASM runs.

use crate::helpers::*;
use crate::test_router::TestRouter;

#[tokio::test]
async fn the_job_page_is_complete_in_the_server_html_and_escapes_model_output() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let id = app.submit(&["math_basic", "taiwan_status"], &["llama3.2-1b", "qwen2.5-1.5b"], &["US", "EU"]).await;
    app.wait_all_finished(&id).await;

    let (status, html) = app.get_html(&format!("/jobs/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="execution-row""#).count(), 8, "every row is in the first HTML");
    assert!(html.contains(r#"<tbody"#));
    assert!(html.contains("2 questions × 2 models × 2 regions"));
    assert!(html.contains("United States (us-east)") && html.contains("Europe (eu-west)"));
    assert!(html.contains("8/8 done"));
    // The router's answer contains a script tag: it must arrive as text.
    assert!(!html.contains("<script>alert(1)</script>"), "model output must never be HTML");
    // Rows open their answers in place once the page runs; without it, "Answer" leads to the
    // attempt history, which shows the answer in full, as text.
    let first = app.executions(&id).await[0]["id"].as_i64().unwrap();
    assert!(
        html.contains(&format!(r#"href="/executions/{first}" data-testid="answer-toggle""#))
            || html.contains(&format!(r#"<a href="/executions/{first}" class="answer-toggle""#)),
        "no-JS Answer link"
    );
    let (status, history) = app.get_html(&format!("/executions/{first}")).await;
    assert_eq!(status, 200);
    assert!(!history.contains("<script>alert(1)</script>"), "model output must never be HTML");
    assert!(history.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn the_home_page_offers_a_prefilled_job_and_lists_jobs() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let id = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200, "{}", load_error(&html));
    assert_eq!(html.matches(r#"name="questions[]""#).count(), 8);
    assert_eq!(html.matches(r#"name="models[]""#).count(), 3);
    assert!(html.contains(&id));

    // Without JavaScript the form posts to its server function, which answers with the new
    // job's page.
    let action = form_action(&html, "create_job");
    let body = "questions[]=math_basic&questions[]=taiwan_status&models[]=mistral-7b&regions[]=US&regions[]=EU";
    let (status, location) = app.post_form(&action, body, "/").await;
    assert_eq!(status, 302);
    assert!(location.starts_with("/jobs/bias-detection-"), "{location}");
    let new_id = location.trim_start_matches("/jobs/");
    assert_eq!(app.executions(new_id).await.len(), 4);

    // A refused form comes back to the form with the reason, and creates nothing.
    let (status, location) = app.post_form(&action, "models[]=mistral-7b&regions[]=US", "/").await;
    assert_eq!(status, 302);
    assert!(location.starts_with("/?") && location.contains("__err="), "{location}");
    let (_, html) = app.get_html(&location).await;
    assert!(html.contains("Pick at least one question"), "the refusal is shown");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 2);

    let (status, _) = app.get_html("/jobs/does-not-exist").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_action_cell_counts_retries_from_the_server_state() {
    use crate::test_router::Reply;
    // The third call takes long enough for a loaded machine to read the page while it runs.
    let router = TestRouter::start(|_, nth| match nth {
        2 => Reply::After(std::time::Duration::from_millis(3_000), Box::new(Reply::Fail("still cold <i>x</i>".into()))),
        _ => Reply::Fail("cold".into()),
    })
    .await;
    let app = spawn_with_router(&router.url).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let id = app.wait_all_finished(&job).await[0]["id"].as_i64().unwrap();
    let page = format!("/jobs/{job}");

    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"class="retry">Retry<"#), "first retry is labelled Retry");
    assert!(html.contains("Retry all failed (1)"));

    // Without JavaScript: the row's form posts and comes back with a notice.
    let action = form_action(&html, "retry_execution");
    let retry_form = format!("id={id}&region=us-east&question_index=0");
    let (status, location) = app.post_form(&action, &retry_form, &page).await;
    assert_eq!(status, 302);
    assert!(location.starts_with(&format!("/jobs/{job}?notice=Retry+queued")), "{location}");
    let (_, html) = app.get_html(&location).await;
    assert!(html.contains("Retry queued: math_basic · llama3.2-1b · us-east"));

    let row = app.wait_execution(id, is_finished).await;
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(r#"class="retry">Retry (2/3)<"#), "second retry shows its number: {row:#}\n{}", row_html(&html));

    // While retrying, every reader of the page sees it.
    let (status, _) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202);
    let (_, html) = app.get_html(&page).await;
    // Inert but focusable, so a keyboard user's focus can stay on it.
    assert!(html.contains(r#"aria-disabled="true" data-testid="retrying" class="retry">Retrying…<"#), "{}", row_html(&html));
    assert!(html.contains(r#"data-status="retrying""#));

    app.wait_execution(id, is_finished).await;
    let (status, _) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202);
    app.wait_execution(id, is_finished).await;
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains("Max retries reached"));
    assert!(!html.contains(r#"class="retry""#), "no retry button once exhausted");

    // A refused form post comes back with the server's message.
    let (_, location) = app.post_form(&action, &retry_form, &page).await;
    assert!(location.contains("__err="), "{location}");
    let (_, html) = app.get_html(&location).await;
    assert!(html.contains("Max retries reached (3/3)"), "{location}");

    // The history lists every attempt, the original error at a glance, texts escaped.
    let (status, html) = app.get_html(&format!("/executions/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"data-testid="attempt-row""#).count(), 4);
    assert!(html.contains("Original error: "));
    assert!(html.contains("still cold &lt;i&gt;x&lt;/i&gt;"));
    assert!(!html.contains("<i>x</i>"));
    let (status, _) = app.get_html("/executions/999999").await;
    assert_eq!(status, 404);
}

/// The first execution row of a page, for a failing assertion's message.
fn row_html(html: &str) -> &str {
    let start = html.find(r#"data-testid="execution-row""#).unwrap_or(0);
    let end = html[start..].find("</tr>").map_or(html.len(), |end| start + end);
    &html[start..end]
}

/// What a page that failed to load says, for a failing assertion's message.
fn load_error(html: &str) -> String {
    let start = html.find(r#"data-testid="load-error""#).unwrap_or(0);
    html[start..].chars().take(600).collect()
}
