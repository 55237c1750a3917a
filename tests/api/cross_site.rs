//! SAFETY.md §2: other sites cannot act through a visitor's browser, Beacon answers only to its
//! own names with accounts off, and its pages carry the security headers.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn mutations_from_other_sites_are_refused_and_scripts_are_not() {
    let app = spawn_app(Options::default()).await;
    let job = json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]});
    let post = |headers: &[(&str, String)]| {
        let mut request = app.http.post(format!("{}/api/v1/jobs", app.base)).json(&job);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send()
    };
    let ours = app.base.clone();
    for (headers, why) in [
        (vec![("origin", "https://evil.example".to_string())], "a foreign Origin"),
        (vec![("origin", "null".to_string())], "an opaque Origin"),
        (vec![("referer", "https://evil.example/page".to_string())], "a foreign Referer"),
        (vec![("sec-fetch-site", "cross-site".to_string())], "Sec-Fetch-Site: cross-site"),
        (vec![("sec-fetch-site", "same-site".to_string()), ("origin", ours.clone())], "Sec-Fetch-Site: same-site"),
        (vec![("cookie", "beacon_session=whatever".to_string())], "a session cookie without Origin"),
    ] {
        let response = post(&headers).await.unwrap();
        assert_eq!(response.status(), 403, "{why}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "cross_origin", "{why}: {body}");
    }
    // The same refusal for server functions and plain form posts.
    let (_, home) = app.get_html("/").await;
    let action = form_action(&home, "create_job");
    let form = app
        .http
        .post(format!("{}{action}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body("questions[]=math_basic&models[]=llama3.2-1b&regions[]=US")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403, "a form posted from another site");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0, "nothing was created");

    // Scripts (no browser headers), Beacon's own pages, and bearer tokens pass.
    assert_eq!(post(&[]).await.unwrap().status(), 202, "curl");
    assert_eq!(post(&[("origin", ours.clone())]).await.unwrap().status(), 202, "own Origin");
    assert_eq!(post(&[("referer", format!("{ours}/jobs/x"))]).await.unwrap().status(), 202, "own Referer");
    assert_eq!(
        post(&[("sec-fetch-site", "same-origin".into()), ("cookie", "beacon_session=x".into())]).await.unwrap().status(),
        202,
        "a same-origin fetch with a cookie"
    );
    // No CORS for anyone else.
    let read = app.http.get(format!("{}/api/v1/jobs", app.base)).header("origin", "https://evil.example").send().await.unwrap();
    assert!(read.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn with_accounts_off_beacon_answers_only_to_loopback_names() {
    let app = spawn_app(Options::default()).await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    for (host, expected) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("[::1]:{port}"), 200),
        (format!("attacker.example:{port}"), 421),
        ("attacker.example".to_string(), 421),
    ] {
        let response = app.http.get(format!("{}/api/v1/jobs", app.base)).header("host", &host).send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "Host: {host}");
        if expected == 421 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "misdirected_request");
        }
    }
    // BEACON_PUBLIC_URL's host is allowed too.
    let proxied = spawn_app(Options { env: vec![("BEACON_PUBLIC_URL", "https://beacon.example.org".to_string())], ..Options::default() }).await;
    let response = proxied.http.get(format!("{}/api/v1/jobs", proxied.base)).header("host", "beacon.example.org").send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Behind the proxy the origin is the public one.
    let job = json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]});
    let from_proxy = proxied
        .http
        .post(format!("{}/api/v1/jobs", proxied.base))
        .header("host", "beacon.example.org")
        .header("origin", "https://beacon.example.org")
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(from_proxy.status(), 202);
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_naming_their_scripts_nonce() {
    let app = spawn_app(Options::default()).await;
    let response = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    let Some(policy) = headers.get("content-security-policy") else {
        panic!("no Content-Security-Policy on a {status} answer: {headers:?}\n{html}");
    };
    let policy = policy.to_str().unwrap().to_string();
    for part in ["default-src 'self'", "'wasm-unsafe-eval'", "frame-ancestors 'none'"] {
        assert!(policy.contains(part), "{policy}");
    }
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy");
    assert!(nonce.len() >= 16);
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "every inline script carries the nonce");
    assert!(!html.contains(" style=\""), "no inline styles: the policy would block them");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    // Another page, another nonce.
    let again = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(nonce));
    // The API says nosniff too.
    let api = app.http.get(format!("{}/api/v1/jobs", app.base)).send().await.unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}
