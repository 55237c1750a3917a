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
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn the_home_page_offers_a_prefilled_job_and_lists_jobs() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let id = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"name="questions""#).count(), 8);
    assert_eq!(html.matches(r#"name="models""#).count(), 3);
    assert!(html.contains(&id));

    // The form posts to /jobs and lands on the new job's page.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{}/jobs", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("questions=math_basic&questions=taiwan_status&models=mistral-7b&regions=US&regions=EU")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/jobs/bias-detection-"), "{location}");
    let new_id = location.trim_start_matches("/jobs/");
    assert_eq!(app.executions(new_id).await.len(), 4);

    // A refused form comes back to the form with the reason.
    let response = client
        .post(format!("{}/jobs", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("models=mistral-7b&regions=US")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/?error=questions"), "{location}");

    let (status, _) = app.get_html("/jobs/does-not-exist").await;
    assert_eq!(status, 404);
}
