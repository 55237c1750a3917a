//! SAFETY.md §7, hardening found by an audit of the running server: one spelling per path,
//! roles at the server function, odd methods, proxies and login throttling, streams that end
//! with their credential, signed notices, spreadsheet-safe CSV, the operators' endpoints.

use std::time::{Duration, Instant};

use beacon::domain::Role;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::test_router::{Reply, TestRouter};

/// What only an admin may read (the admin page lists users and token labels).
const ADMIN_ONLY: &str = "label-only-admins-see";
/// A job's answer, which nobody without an account may read.
const ANSWER: &str = "answer-only-accounts-see";

/// A request sent byte for byte as written: HTTP clients normalise `..` and `%2e` away before
/// sending, which is exactly what an attacker does not do. Returns the status and everything
/// after the status line.
async fn raw(base: &str, request_line: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut text = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await.expect("an answer").unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status =
        answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status line for {request_line:?}: {answer:?}"));
    (status, answer)
}

/// Logs in through the form and returns the session cookie (`name=value`).
async fn log_in(app: &TestApp, name: &str) -> String {
    let response = TestApp::browser()
        .post(format!("{}/login", app.base))
        .header("origin", &app.base)
        .form(&[("username", name), ("password", &format!("password-of-{name}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{name} logs in");
    response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn every_spelling_of_a_path_gets_one_decision() {
    let router = TestRouter::start(|_, _| Reply::Answer(ANSWER.into())).await;
    let mut app = spawn_app(Options { router_url: Some(router.url.clone()), ..Options::with_auth() }).await;
    let admin = app.user_with_token("ada", Role::Admin).await;
    beacon::server::auth::accounts::create_token(app.db(), "ada", Some(ADMIN_ONLY)).await.unwrap();
    let viewer = app.user_with_token("vera", Role::Viewer).await;
    let viewer_cookie = log_in(&app, "vera").await;
    app.use_token(&admin);
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let rows = app.wait_all_finished(&job).await;
    assert!(rows.iter().all(|r| r["status"] == "completed"), "the job answered: {rows:?}");
    let (first, rest) = job.split_at(1);
    let escaped_first = format!("%{:02X}", first.as_bytes()[0]);

    // (request target, always refused with 400)
    let spellings: Vec<(String, bool)> = vec![
        ("/pkg/%2e%2e/admin".into(), true),
        ("/pkg/%2E%2E/admin".into(), true),
        ("/pkg/%2e%2E/admin".into(), true),
        ("/pkg/.%2e/admin".into(), true),
        ("/pkg/%2e./admin".into(), true),
        ("/pkg/../admin".into(), true),
        ("/./admin".into(), true),
        ("/%2e/admin".into(), true),
        ("//admin".into(), true),
        ("/admin/".into(), true),
        ("/pkg%2f..%2fadmin".into(), true),
        ("/pkg%2F..%2Fadmin".into(), true),
        ("/pkg\\..\\admin".into(), true),
        ("/pkg%5c..%5cadmin".into(), true),
        ("/%61dmin".into(), true),
        ("/admin%00".into(), true),
        ("/api/v1/%2e%2e/%2e%2e/admin".into(), true),
        ("/api/v1/jobs/%2e%2e/%2e%2e/admin".into(), true),
        (format!("/pkg/%2e%2e/jobs/{job}"), true),
        (format!("/jobs/{escaped_first}{rest}"), true),
        (format!("/jobs/{first}%2e{rest}"), true),
        (format!("/api/v1/jobs/{job}/%2e%2e/{job}/executions"), true),
        (format!("/api/v1/jobs//{job}/executions"), true),
        // Spellings that are paths of their own: whatever they answer, never the data.
        ("/pkg/..;/admin".into(), false),
        ("/pkg/%252e%252e/admin".into(), false),
        ("/ADMIN".into(), false),
        ("/admin;x=1".into(), false),
        ("/pkg/admin".into(), false),
    ];
    assert!(spellings.len() >= 20);
    let callers: [(&str, Vec<(&str, String)>); 3] = [
        ("nobody", vec![]),
        ("a viewer's session", vec![("Cookie", viewer_cookie.clone())]),
        ("a viewer's token", vec![("Authorization", format!("Bearer {viewer}"))]),
    ];
    for (target, refused) in &spellings {
        for (who, headers) in &callers {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let (status, answer) = raw(&app.base, &format!("GET {target} HTTP/1.1"), &headers).await;
            assert!(!answer.contains(ADMIN_ONLY), "{who} read the admin page through {target}: {status}");
            if *who == "nobody" {
                assert!(!answer.contains(ANSWER), "nobody read a job through {target}: {status}");
            }
            if *refused {
                assert_eq!(status, 400, "{who}: GET {target}\n{answer}");
            } else {
                assert!(status != 200 || !answer.contains("/admin"), "{who}: GET {target} → {status}");
            }
        }
    }
    // The absolute form of a request target is judged by its path too.
    let (status, answer) = raw(&app.base, &format!("GET {}/pkg/%2e%2e/admin HTTP/1.1", app.base), &[]).await;
    assert_eq!(status, 400, "{answer}");
    // A miss under /pkg is a plain 404, never a page.
    let (status, answer) = raw(&app.base, "GET /pkg/no-such-file.js HTTP/1.1", &[]).await;
    assert_eq!(status, 404);
    assert!(!answer.contains("<html") && !answer.contains("<!DOCTYPE"), "{answer}");
    // What the plain paths give, for comparison: the admin page to the admin only.
    let (status, answer) = raw(&app.base, "GET /admin HTTP/1.1", &[("Authorization", &format!("Bearer {admin}"))]).await;
    assert_eq!(status, 200);
    assert!(answer.contains(ADMIN_ONLY), "the plain path shows an admin the tokens");
    let (status, _) = raw(&app.base, "GET /admin HTTP/1.1", &[("Cookie", &viewer_cookie)]).await;
    assert_eq!(status, 403);
    let (status, answer) = raw(&app.base, &format!("GET /jobs/{job} HTTP/1.1"), &[("Cookie", &viewer_cookie)]).await;
    assert_eq!(status, 200);
    assert!(answer.contains(ANSWER), "a viewer reads the job at its plain path");
    // Server functions by their paths' spellings too.
    for target in ["/api/read/%2e%2e/admin/load_accounts", "/api/read/../admin/load_accounts", "/api/admin/load%5Faccounts"] {
        let (status, answer) =
            raw(&app.base, &format!("POST {target} HTTP/1.1"), &[("Cookie", &viewer_cookie), ("Content-Length", "0"), ("Origin", &app.base)]).await;
        assert_eq!(status, 400, "POST {target}: {answer}");
    }
}

#[tokio::test]
async fn a_server_function_checks_the_callers_role_wherever_it_runs() {
    use beacon::server::auth::Caller;
    use leptos::prelude::{provide_context, Owner};
    use leptos::server_fn::ServerFn;
    let mut app = spawn_app(Options::with_auth()).await;
    let admin = app.user_with_token("ada", Role::Admin).await;
    let viewer = app.user_with_token("vera", Role::Viewer).await;
    beacon::server::auth::accounts::create_token(app.db(), "ada", Some(ADMIN_ONLY)).await.unwrap();

    // Called directly over HTTP: by nobody, by a viewer.
    let call = |token: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}{}", app.base, beacon::serverfns::admin::LoadAccounts::PATH))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(call(None).await.unwrap().status(), 401);
    let refused = call(Some(&viewer)).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(!refused.text().await.unwrap().contains(ADMIN_ONLY));
    let allowed = call(Some(&admin)).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(allowed.text().await.unwrap().contains(ADMIN_ONLY));

    // Called as a page rendering on the server calls it: inside the page request's context,
    // with no access rule in front (as if a path had slipped past it).
    let state = app.server.as_ref().unwrap().state.clone();
    let callers = [
        (Caller::Anonymous, Some(401)),
        (Caller::Account { name: "vera".into(), role: Role::Viewer }, Some(403)),
        (Caller::Account { name: "rita".into(), role: Role::Researcher }, Some(403)),
        (Caller::Account { name: "ada".into(), role: Role::Admin }, None),
    ];
    // Runs a server function as it runs while `path` renders for `caller`.
    let in_page_request = |caller: &Caller, path: &str| {
        let owner = Owner::new();
        let (mut parts, ()) = axum::http::Request::get(path).body(()).unwrap().into_parts();
        parts.extensions.insert(caller.clone());
        owner.with(|| {
            provide_context(parts);
            provide_context(state.clone());
        });
        owner
    };
    for (caller, refused) in callers {
        let owner = in_page_request(&caller, "/admin");
        let result = owner.with(|| leptos::reactive::computed::ScopedFuture::new(beacon::serverfns::admin::load_accounts())).await;
        match refused {
            Some(status) => assert_eq!(result.map(|_| ()).unwrap_err().status, status, "{caller:?}"),
            None => assert!(result.unwrap().tokens.iter().any(|t| t.label.as_deref() == Some(ADMIN_ONLY))),
        }
        // A change needs a researcher, wherever it runs.
        let owner = in_page_request(&caller, "/");
        let status = owner
            .with(|| leptos::reactive::computed::ScopedFuture::new(beacon::serverfns::jobs::cancel_job("job_missing".into())))
            .await
            .unwrap_err()
            .status;
        match caller.may(Role::Researcher) {
            true => assert_eq!(status, 404, "{caller:?} may try, and the job is not there"),
            false => assert!(status == 401 || status == 403, "{caller:?}: {status}"),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn odd_methods_are_answered_and_the_server_keeps_serving() {
    let app = spawn_app(Options::default()).await;
    for request_line in
        ["CONNECT example.com:443 HTTP/1.1", "CONNECT 127.0.0.1:1 HTTP/1.1", "TRACE / HTTP/1.1", "TRACK /admin HTTP/1.1", "BREW /pot HTTP/1.1"]
    {
        let (status, answer) = raw(&app.base, request_line, &[]).await;
        assert!(status == 405 || status == 400, "{request_line}: {answer}");
        assert!(answer.contains("application/json"), "{request_line}: {answer}");
        let (health, _) = app.get("/health").await;
        assert_eq!(health, 200, "after {request_line}");
    }
}

#[tokio::test]
async fn many_wrong_passwords_at_once_check_at_most_five_and_a_colleague_still_logs_in() {
    let app = spawn_app(Options {
        env: vec![("BEACON_AUTH", "on".into()), ("BEACON_METRICS_TOKEN", METRICS_TOKEN.into()), ("BEACON_TRUSTED_PROXIES", "127.0.0.1".into())],
        ..Options::default()
    })
    .await;
    app.user_with_token("rita", Role::Researcher).await;
    let browser = TestApp::browser();
    let attempt = |from: &str, password: &str| {
        browser
            .post(format!("{}/login", app.base))
            .header("origin", &app.base)
            .header("x-forwarded-for", from)
            .form(&[("username", "rita"), ("password", password)])
            .send()
    };
    let statuses = futures::future::join_all((0..200).map(|_| attempt("198.51.100.1", "wrong-guess"))).await;
    let statuses: Vec<u16> = statuses.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 5, "{checked} passwords were checked: {statuses:?}");
    assert_eq!(checked + throttled, 200, "{statuses:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, checked as i64);
    // That client is locked out of this name, even with the right password …
    assert_eq!(attempt("198.51.100.1", "password-of-rita").await.unwrap().status(), 429);
    // … and a colleague elsewhere is not.
    assert_eq!(attempt("203.0.113.7", "password-of-rita").await.unwrap().status(), 303);

    // The name alone locks after 20 failures in ten minutes, from however many addresses.
    for i in 0..(20 - checked) {
        let status = attempt(&format!("192.0.2.{i}"), "wrong-guess").await.unwrap().status();
        assert_eq!(status, 401, "failure {i} from its own address");
    }
    assert_eq!(attempt("203.0.113.99", "password-of-rita").await.unwrap().status(), 429, "the name is locked everywhere");
    // Without a trusted proxy, the header is nobody's word: every request is the peer.
    let untrusting = spawn_app(Options::with_auth()).await;
    untrusting.user_with_token("rita", Role::Researcher).await;
    for i in 0..5 {
        let response = TestApp::browser()
            .post(format!("{}/login", untrusting.base))
            .header("origin", &untrusting.base)
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&[("username", "rita"), ("password", "wrong-guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let locked = TestApp::browser()
        .post(format!("{}/login", untrusting.base))
        .header("origin", &untrusting.base)
        .header("x-forwarded-for", "203.0.113.1")
        .form(&[("username", "rita"), ("password", "password-of-rita")])
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429, "a forged X-Forwarded-For does not make a new client");
}

/// Reads a live stream until it ends; returns how long that took after `since`.
async fn ended_within(response: reqwest::Response, since: Instant, limit: Duration) -> Duration {
    let mut response = response;
    loop {
        let left = limit.saturating_sub(since.elapsed());
        match tokio::time::timeout(left, response.chunk()).await {
            Err(_) => panic!("the stream was still open {limit:?} after its credential ended"),
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) | Ok(Err(_)) => return since.elapsed(),
        }
    }
}

#[tokio::test]
async fn live_streams_end_with_their_session_user_or_token() {
    let app = spawn_app(Options::with_auth()).await;
    app.user_with_token("vera", Role::Viewer).await;
    let heartbeat = Duration::from_secs(15);
    let open = |headers: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new().get(format!("{}/api/v1/jobs/events", app.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    // Logging out.
    let cookie = log_in(&app, "vera").await;
    let stream = open(vec![("cookie", cookie.clone())]).await.unwrap();
    assert_eq!(stream.status(), 200);
    let other = open(vec![("cookie", log_in(&app, "vera").await)]).await.unwrap();
    let out = TestApp::browser().post(format!("{}/logout", app.base)).header("cookie", &cookie).header("origin", &app.base).send().await.unwrap();
    assert_eq!(out.status(), 303);
    let took = ended_within(stream, Instant::now(), heartbeat).await;
    println!("a stream ended {took:?} after its logout");
    // Another session of the same user goes on.
    let mut other = other;
    assert!(
        tokio::time::timeout(Duration::from_secs(6), other.chunk()).await.map(|c| c.is_ok()).unwrap_or(true),
        "the other session's stream is open"
    );

    // Revoking a token.
    let token = beacon::server::auth::accounts::create_token(app.db(), "vera", Some("stream")).await.unwrap();
    let stream = open(vec![("authorization", format!("Bearer {token}"))]).await.unwrap();
    assert_eq!(stream.status(), 200);
    beacon::server::auth::accounts::revoke_token(app.db(), &token[..12]).await.unwrap();
    ended_within(stream, Instant::now(), heartbeat).await;

    // Removing the user ends the rest.
    let removed_at = Instant::now();
    beacon::server::auth::accounts::remove_user(app.db(), "vera").await.unwrap();
    ended_within(other, removed_at, heartbeat).await;
}

#[tokio::test]
async fn only_notices_beacon_wrote_show_as_banners() {
    use leptos::server_fn::ServerFn;
    let cancel = beacon::serverfns::jobs::CancelJob::PATH;
    let app = spawn_app(Options::default()).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    // A link anyone could write: sent to the same page without it.
    let forged = "Your session expired: log in again at https://evil.example";
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("notice", forged).append_pair("status", "failed").finish();
    let response = TestApp::browser().get(format!("{}/jobs/{job}?{query}", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"].to_str().unwrap(), format!("/jobs/{job}?status=failed"));
    let (_, page) = app.get_html(&format!("/jobs/{job}?{query}")).await;
    assert!(!page.contains("evil.example"), "the forged notice is not shown");
    let with_bad_signature = format!("/jobs/{job}?notice=Job+cancelled&sig=00000000000000000000000000000000");
    let response = TestApp::browser().get(format!("{}{with_bad_signature}", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    // Leptos' error parameter likewise.
    let response = TestApp::browser().get(format!("{}/jobs/{job}?__path=/api/x&__err=eyJlcnJvciI6ImV2aWwifQ", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 303);

    // A notice Beacon wrote (a form posted without JavaScript) shows.
    let (status, location) = app.post_form(cancel, &format!("id={job}"), &format!("/jobs/{job}")).await;
    assert!(status == 302 || status == 303, "{status}");
    assert!(location.contains("notice=Job+cancelled") && location.contains("sig="), "{location}");
    let (status, page) = app.get_html(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains("Job cancelled"), "the signed notice shows");
    // An error Beacon wrote shows too.
    let (status, location) = app.post_form(cancel, "id=job_missing", &format!("/jobs/{job}")).await;
    assert!(status == 302 || status == 303, "{status}");
    assert!(location.contains("__err=") && location.contains("sig="), "{location}");
    let (status, page) = app.get_html(&location).await;
    assert_eq!(status, 200, "{location}");
    assert!(page.contains("error-banner"), "the signed error shows");

    // With accounts off, a banner is for the address that made it: a link someone had Beacon
    // sign with their own words ("unknown region \"Your session expired…\"") shows to nobody
    // else.
    let retry = beacon::serverfns::retries::RetryExecution::PATH;
    let (_, location) = app.post_form(retry, &format!("id=1&region={}&question_index=0", urlencode(forged)), &format!("/jobs/{job}")).await;
    assert!(location.contains("__err=") && location.contains("sig="), "{location}");
    assert_eq!(app.get_html(&location).await.0, 200, "the one who posted sees it");
    let elsewhere =
        reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = elsewhere.get(format!("{}{location}", app.base)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(response.status(), 303, "another address is sent to the page without it");
    assert!(!response.headers()["location"].to_str().unwrap().contains("__err"));
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn csv_exports_are_spreadsheet_safe_unless_raw_is_asked_for() {
    const ANSWER: &str = "=HYPERLINK(\"https://evil.example\",\"click\")";
    let router = TestRouter::start(|_, _| Reply::Answer(ANSWER.into())).await;
    let app = spawn_with_router(&router.url).await;
    let (status, body) = app.post_json("/api/v1/questions", &json!({"id": "formula_q", "text": "+1 is it a number?", "category": "@risk"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app.post_json("/api/v1/questions", &json!({"id": "minus_q", "text": "-2 or 2?", "category": "-cat"})).await;
    assert_eq!(status, 201, "{body}");
    let job = app.submit(&["formula_q", "minus_q"], &["llama3.2-1b"], &["US"]).await;
    app.wait_all_finished(&job).await;

    let read = |raw: bool| {
        let url = format!("{}/api/v1/jobs/{job}/export.csv{}", app.base, if raw { "?raw=true" } else { "" });
        async move {
            let text = reqwest::get(url).await.unwrap().text().await.unwrap();
            // Read back by Python's csv module, as a researcher's script would.
            let mut python = std::process::Command::new("python3")
                .args(["-c", "import csv, json, sys; print(json.dumps(list(csv.DictReader(sys.stdin))))"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python3");
            use std::io::Write;
            python.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let output = python.wait_with_output().unwrap();
            assert!(output.status.success());
            serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
        }
    };
    let safe = read(false).await;
    assert_eq!(safe.len(), 2);
    for row in &safe {
        for column in ["question_text", "category", "output"] {
            let field = row[column].as_str().unwrap();
            assert!(field.starts_with('\''), "{column}: {field:?}");
            assert!(!field[1..].is_empty());
        }
        assert_eq!(row["output"], format!("'{ANSWER}"));
    }
    let raw_rows = read(true).await;
    let texts: Vec<&str> = raw_rows.iter().map(|r| r["question_text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["+1 is it a number?", "-2 or 2?"]);
    assert_eq!(raw_rows[0]["category"], "@risk");
    assert!(raw_rows.iter().all(|r| r["output"] == ANSWER));
    // JSON Lines is always exact.
    let jsonl = reqwest::get(format!("{}/api/v1/jobs/{job}/export.jsonl", app.base)).await.unwrap().text().await.unwrap();
    let first: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["output"], ANSWER);
    // A raw that is not a yes or no is a 400.
    let (status, body) = app.get(&format!("/api/v1/jobs/{job}/export.csv?raw=maybe")).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn metrics_need_their_token_when_accounts_are_on() {
    let app = spawn_app(Options::with_auth()).await;
    let scrape = |token: Option<&str>| {
        let mut request = reqwest::Client::new().get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(scrape(Some("test-metrics-tokeN")).await.unwrap().status(), 401);
    assert_eq!(scrape(Some(&METRICS_TOKEN[..4])).await.unwrap().status(), 401);
    assert_eq!(scrape(Some(METRICS_TOKEN)).await.unwrap().status(), 200);

    // Start-up refuses accounts without a metrics token, naming the variable.
    let output =
        beacon_binary().env("BEACON_AUTH", "on").env("LEPTOS_SITE_ADDR", "127.0.0.1:0").env("DATABASE_URL", "sqlite::memory:").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("BEACON_METRICS_TOKEN"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn a_backup_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Options::default()).await;
    if !app.database_url().starts_with("sqlite:") {
        return; // PostgreSQL is backed up with pg_dump.
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let output = beacon_binary().env("DATABASE_URL", app.database_url()).arg("backup").arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[tokio::test]
async fn sqlite_commits_survive_power_loss_by_default() {
    let app = spawn_app(Options::default()).await;
    if !app.database_url().starts_with("sqlite:") {
        return;
    }
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(synchronous, 2, "FULL");
    let fast = spawn_app(Options { env: vec![("BEACON_SQLITE_SYNCHRONOUS", "normal".into())], ..Options::default() }).await;
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&fast.db().pool).await.unwrap();
    assert_eq!(synchronous, 1, "NORMAL");
}

#[tokio::test]
async fn a_server_function_called_with_bad_arguments_is_the_callers_mistake() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app(Options::default()).await;
    let response = reqwest::Client::new()
        .post(format!("{}{}", app.base, beacon::serverfns::jobs::LoadJobPage::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_request", "{body}");
    // A body that is not UTF-8.
    let response = reqwest::Client::new()
        .post(format!("{}{}", app.base, beacon::serverfns::jobs::LoadJobPage::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xffu8, 0xfe])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_connection_that_says_nothing_is_closed_and_one_address_cannot_hold_them_all() {
    use beacon::server::http::listener::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS_PER_ADDRESS};
    let app = spawn_app(Options::default()).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // More silent connections than one address may hold: the extra ones are closed at once.
    let mut silent = Vec::new();
    for _ in 0..MAX_CONNECTIONS_PER_ADDRESS {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut extra = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut buffer)).await.expect("closed at once");
    assert!(matches!(read, Ok(0) | Err(_)), "the connection over the share is closed");
    // Another address still gets in (the test client is 127.0.0.1; this is 127.0.0.2).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr.parse().unwrap()).await.unwrap();
    other.write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // So is one that sent only the first byte of HTTP/2's preface (version detection once
    // waited for the rest forever); from another address, as this one's share is full.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.3:0".parse().unwrap()).unwrap();
    let mut preface = socket.connect(addr.parse().unwrap()).await.unwrap();
    preface.write_all(b"P").await.unwrap();
    // A silent connection is closed when the header time-out has passed.
    let started = Instant::now();
    let read = tokio::time::timeout(HEADER_READ_TIMEOUT + Duration::from_secs(5), silent[0].read(&mut buffer)).await.expect("closed");
    assert!(matches!(read, Ok(0) | Err(_)));
    assert!(started.elapsed() <= HEADER_READ_TIMEOUT + Duration::from_secs(1));
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), preface.read_to_end(&mut rest)).await.expect("the half-preface is closed too").ok();
    drop(silent);
    // Their places are free again.
    eventually("the closed connections' places to be free", Duration::from_secs(5), || async {
        match app.http.get(format!("{}/health", app.base)).send().await {
            Ok(response) if response.status() == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// What an outsider tried against the login page, the visitor function and the request id
/// once `/login` became a page of the app.
#[tokio::test]
async fn the_login_page_and_the_visitor_hold_against_made_up_names_and_credentials() {
    let app = spawn_app(Options::with_auth()).await;
    let token = app.user_with_token("rita", Role::Researcher).await;
    let browser = TestApp::browser();
    let base = app.base.clone();

    // A name no account can have is refused like a wrong password, and nothing is written.
    let long = "n".repeat(60_000);
    let refused =
        browser.post(format!("{base}/login")).header("origin", &base).form(&[("username", long.as_str()), ("password", "x")]).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("wrong user name or password"));
    let failures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures").fetch_one(&app.db().pool).await.unwrap();
    assert_eq!(failures, 0, "made-up names fill no log");

    // The visitor is open, says who is asking, and a credential that does not hold is no 401.
    let visitor = |bearer: &str| {
        browser.post(format!("{base}{}", beacon::server::auth::policy::VISITOR_FN)).header("authorization", format!("Bearer {bearer}")).send()
    };
    let known: Value = visitor(&token).await.unwrap().json().await.unwrap();
    assert_eq!((known["name"].as_str(), known["role"].as_str()), (Some("rita"), Some("researcher")), "{known}");
    let bogus = visitor("bcn_bogus").await.unwrap();
    assert_eq!(bogus.status(), 200);
    let bogus: Value = bogus.json().await.unwrap();
    assert_eq!(bogus["name"], Value::Null);

    // The API's documentation is a page: a browser without a session is sent to log in.
    let docs = browser.get(format!("{base}/api/docs")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(docs.status(), 303);
    assert_eq!(docs.headers()["location"], "/login?next=%2Fapi%2Fdocs");

    // A request id that could write into the log lines is replaced; a plain one is kept.
    for (sent, kept) in [("abc}: forged line", false), ("req-42.a_b", true)] {
        let answer = browser.get(format!("{base}/health")).header("x-request-id", sent).send().await.unwrap();
        let echoed = answer.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(echoed == sent, kept, "{sent:?} → {echoed:?}");
    }
}
