//! SAFETY.md §1: accounts, roles, sessions shared by instances, login throttling, attribution.

use beacon::domain::Role;
use beacon::server::startup;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

async fn status_and_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn every_route_asks_for_its_role_and_work_is_attributed() {
    let router = TestRouter::start(|_, nth| if nth == 0 { Reply::Fail("cold".into()) } else { Reply::Answer("warm".into()) }).await;
    let mut app = spawn_app(Options { router_url: Some(router.url.clone()), ..Options::with_auth() }).await;
    let viewer = app.user_with_token("vera", Role::Viewer).await;
    let researcher = app.user_with_token("rita", Role::Researcher).await;
    let admin = app.user_with_token("ada", Role::Admin).await;
    let http = reqwest::Client::new();
    let base = app.base.clone();
    let call = |method: reqwest::Method, path: &str, token: Option<&str>| {
        let mut request = http.request(method, format!("{base}{path}")).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };
    let job_body = json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]}).to_string();

    // Nobody: 401 on the API, the login page for pages, /health open.
    let (status, code) = status_and_code(call(reqwest::Method::GET, "/api/v1/jobs", None).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthenticated"));
    let page = TestApp::browser().get(format!("{base}/jobs/abc?page=2")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2Fjobs%2Fabc%3Fpage%3D2");
    assert_eq!(call(reqwest::Method::GET, "/health", None).send().await.unwrap().status(), 200);
    // Open routes look at no credential: a token meant for something else (a Prometheus
    // scraper's) must not make them answer 401.
    assert_eq!(call(reqwest::Method::GET, "/health", Some("not-an-api-token")).send().await.unwrap().status(), 200);
    assert_eq!(call(reqwest::Method::GET, "/metrics", Some(METRICS_TOKEN)).send().await.unwrap().status(), 200);
    let (status, code) = status_and_code(call(reqwest::Method::GET, "/api/v1/jobs", Some("bcn_not-a-token")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthenticated"), "a bad token");

    // viewer reads, and may not change anything.
    assert_eq!(call(reqwest::Method::GET, "/api/v1/jobs", Some(&viewer)).send().await.unwrap().status(), 200);
    assert_eq!(call(reqwest::Method::GET, "/", Some(&viewer)).send().await.unwrap().status(), 200);
    let (status, code) =
        status_and_code(call(reqwest::Method::POST, "/api/v1/jobs", Some(&viewer)).body(job_body.clone()).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0, "a refused request changes nothing");
    use leptos::server_fn::ServerFn;
    let read_fn = beacon::serverfns::jobs::LoadHome::PATH;
    assert!(read_fn.starts_with("/api/read/"), "{read_fn}");
    let (status, _) = status_and_code(call(reqwest::Method::POST, read_fn, Some(&viewer)).send().await.unwrap()).await;
    assert_eq!(status, 200, "a viewer may call the read-only server functions");

    // researcher: creates, retries; the job and the attempt say who.
    let response = call(reqwest::Method::POST, "/api/v1/jobs", Some(&researcher)).body(job_body).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let job = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (status, code) =
        status_and_code(call(reqwest::Method::POST, beacon::serverfns::admin::LoadAccounts::PATH, Some(&researcher)).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"), "accounts are for admins");
    app.use_token(&researcher);
    let (_, view) = app.get(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(view["created_by"], "rita");
    let rows = app.wait_all_finished(&job).await;
    let id = rows[0]["id"].as_i64().unwrap();
    let (status, body) = app.retry(id, "US", 0, None).await;
    assert_eq!(status, 202, "{body}");
    let row = app.wait_execution(id, |row| row["status"] == "completed").await;
    assert_eq!(row["retry_history"][0]["requested_by"], Value::Null, "the runner's own attempt");
    assert_eq!(row["retry_history"][1]["requested_by"], "rita");
    let (_, jobs) = app.get("/api/v1/jobs").await;
    assert_eq!(jobs["jobs"][0]["created_by"], "rita");

    // admin manages accounts; a revoked token stops working at once.
    let response = call(reqwest::Method::POST, beacon::serverfns::admin::LoadAccounts::PATH, Some(&admin)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let accounts: Value = response.json().await.unwrap();
    let names: Vec<&str> = accounts["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada", "rita", "vera"]);
    let listed = accounts.to_string();
    assert!(!listed.contains(&viewer) && !listed.contains("password_hash"), "no secret is ever listed");
    beacon::server::auth::accounts::revoke_token(app.db(), &viewer[..12]).await.unwrap();
    let (status, _) = status_and_code(call(reqwest::Method::GET, "/api/v1/jobs", Some(&viewer)).send().await.unwrap()).await;
    assert_eq!(status, 401, "a revoked token");

    // With accounts off nothing is attributed.
    let open = spawn_with_router(&router.url).await;
    let job = open.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let (_, view) = open.get(&format!("/api/v1/jobs/{job}")).await;
    assert_eq!(view["created_by"], Value::Null);
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    let set = response.headers().get("set-cookie")?.to_str().ok()?.to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().map(str::to_string)
}

#[tokio::test]
async fn a_browser_logs_in_on_one_instance_and_is_known_to_another_until_it_logs_out() {
    let first = spawn_app(Options::with_auth()).await;
    first.user_with_token("rita", Role::Researcher).await;
    let second = startup::start(config(&Options::with_auth(), first.database_url())).await.unwrap();
    let second_base = format!("http://{}", second.addr);
    let browser = TestApp::browser();
    let login = |base: &str, password: &str| {
        browser.post(format!("{base}/login")).header("origin", base).form(&[("username", "rita"), ("password", password), ("next", "/jobs/x")]).send()
    };

    let form = browser.get(format!("{}/login?next=/jobs/x", first.base)).send().await.unwrap();
    let status = form.status();
    let text = form.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#"name="next" value="/jobs/x""#), "{text}");

    let wrong = login(&first.base, "not her password").await.unwrap();
    assert_eq!(wrong.status(), 401);
    let text = wrong.text().await.unwrap();
    assert!(text.contains("wrong user name or password") && text.contains("<form"), "{text}");

    let ok = login(&first.base, "password-of-rita").await.unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/jobs/x");
    let cookie = session_cookie(&ok).expect("a session cookie");
    assert!(!ok.headers()["set-cookie"].to_str().unwrap().contains("Secure"), "plain http: no Secure flag");

    // The session lives in the database: the other instance knows it.
    let on_second = browser.get(format!("{second_base}/api/v1/jobs")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(on_second.status(), 200);
    // A browser with a session must say where a mutation comes from.
    let job = json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]});
    let bare = browser.post(format!("{second_base}/api/v1/jobs")).header("cookie", &cookie).json(&job).send().await.unwrap();
    assert_eq!(status_and_code(bare).await, (403, "cross_origin".to_string()));
    let same_origin = browser
        .post(format!("{second_base}/api/v1/jobs"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 202);

    let out = browser.post(format!("{}/logout", first.base)).header("cookie", &cookie).header("origin", &first.base).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let after = browser.get(format!("{second_base}/api/v1/jobs")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 401, "a logged-out session is gone everywhere");
    second.stop().await;
}

#[tokio::test]
async fn five_failed_logins_lock_the_name_for_a_while() {
    let app = spawn_app(Options::with_auth()).await;
    app.user_with_token("rita", Role::Researcher).await;
    let browser = TestApp::browser();
    let attempt = |password: &'static str| {
        browser.post(format!("{}/login", app.base)).header("origin", &app.base).form(&[("username", "rita"), ("password", password)]).send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("guess").await.unwrap().status(), 401);
    }
    let locked = attempt("password-of-rita").await.unwrap();
    assert_eq!(locked.status(), 429, "even the right password waits");
    let wait: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&wait), "Retry-After {wait}");
}
