use std::time::{Duration, Instant};

use beacon::domain::status::ExecutionStatus;
use beacon::domain::views::{AttemptView, ExecutionView, JobView, RetryAccepted};
use beacon::server::config::Config;
use beacon::server::startup::{self, RunningServer};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

pub struct TestApp {
    pub server: Option<RunningServer>,
    pub base: String,
    pub http: reqwest::Client,
    /// Kept so the SQLite file lives as long as the app.
    _db_dir: tempfile::TempDir,
    pub database_url: String,
}

/// Settings a test may change; everything else is Beacon's default.
pub struct Options {
    pub router_url: Option<String>,
    pub router_timeout_secs: u64,
    pub region_concurrency: usize,
    pub lease_secs: u64,
    pub max_retries: i64,
    /// Settings as environment variables would give them (`BEACON_AUTH=on`, …).
    pub env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options { router_url: None, router_timeout_secs: 5, region_concurrency: 10, lease_secs: 30, max_retries: 3, env: Vec::new() }
    }
}

/// The `/metrics` token of [`Options::with_auth`] (required with accounts on).
pub const METRICS_TOKEN: &str = "test-metrics-token";

impl Options {
    /// Accounts required (`BEACON_AUTH=on`).
    pub fn with_auth() -> Options {
        Options { env: vec![("BEACON_AUTH", "on".to_string()), ("BEACON_METRICS_TOKEN", METRICS_TOKEN.to_string())], ..Options::default() }
    }
}

pub fn config(options: &Options, database_url: String) -> Config {
    // The knobs go in as the environment would give them, so the configuration built from
    // them (the built-in providers' concurrency and time-outs) follows.
    let mut env = options.env.clone();
    env.push(("BEACON_REGION_CONCURRENCY", options.region_concurrency.to_string()));
    env.push(("HYBRID_ROUTER_TIMEOUT", options.router_timeout_secs.to_string()));
    let mut config = Config::from_lookup(move |name| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone())).unwrap();
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url;
    config.router_url = options.router_url.clone();
    config.lease = Duration::from_secs(options.lease_secs);
    config.max_retries = options.max_retries;
    config
}

/// A fresh, empty database for one test: a SQLite file, or, when `BEACON_TEST_POSTGRES` names
/// a PostgreSQL server (`postgres://user@host:port`), a new database on it.
pub async fn fresh_database(db_dir: &tempfile::TempDir) -> String {
    match std::env::var("BEACON_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let name = format!("beacon_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres")).await.expect("PostgreSQL is up");
            admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
            format!("{server}/{name}")
        }
        _ => format!("sqlite:{}", db_dir.path().join("beacon.db").display()),
    }
}

pub async fn spawn_app(options: Options) -> TestApp {
    // Errors Beacon logs (an internal error's cause) are printed with a failing test's output.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("beacon=error").try_init();
    let db_dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&db_dir).await;
    let server = startup::start(config(&options, database_url.clone())).await.expect("Beacon starts");
    TestApp { base: format!("http://{}", server.addr), server: Some(server), http: reqwest::Client::new(), _db_dir: db_dir, database_url }
}

/// Beacon configured by `config` (a `beacon.toml` in a temporary folder, which the caller
/// keeps for as long as Beacon runs), with `env` besides.
pub async fn spawn_with_config(config: &str, env: &[(&'static str, &str)]) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beacon.toml");
    std::fs::write(&path, config).unwrap();
    let mut vars = vec![("BEACON_CONFIG", path.display().to_string())];
    vars.extend(env.iter().map(|(name, value)| (*name, value.to_string())));
    let app = spawn_app(Options { env: vars, ..Options::default() }).await;
    (app, dir)
}

pub async fn spawn_with_router(router_url: &str) -> TestApp {
    spawn_app(Options { router_url: Some(router_url.to_string()), ..Options::default() }).await
}

impl TestApp {
    pub fn database_url(&self) -> String {
        self.database_url.clone()
    }

    pub fn db(&self) -> &beacon::server::db::Db {
        &self.server.as_ref().unwrap().state.db
    }

    /// Runs a statement (with `$N` placeholders) on the test's database.
    pub async fn exec(&self, sql: &'static str, binds: &[i64]) {
        let db = self.db();
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.execute(&db.pool).await.unwrap();
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn get_html(&self, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Posts a form as a browser without JavaScript does (it accepts HTML and says which page
    /// it is on), and returns the status and the redirect's target, not following it.
    pub async fn post_form(&self, action: &str, body: &str, from_page: &str) -> (u16, String) {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = client
            .post(format!("{}{action}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", format!("{}{from_page}", self.base))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        // The target as a path on this server, as the browser would follow it.
        let location = location.strip_prefix(&self.base).map(str::to_string).unwrap_or(location);
        (response.status().as_u16(), location)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self.http.post(format!("{}{path}", self.base)).json(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Submits a job and returns its id.
    pub async fn submit(&self, questions: &[&str], models: &[&str], regions: &[&str]) -> String {
        let (status, body) = self.post_json("/api/v1/jobs", &json!({"questions": questions, "models": models, "regions": regions})).await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn executions(&self, job_id: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/api/v1/jobs/{job_id}/executions/all")).await;
        assert_eq!(status, 200, "{body}");
        body["executions"].as_array().unwrap().clone()
    }

    /// Polls the job's executions until `done` holds, or fails after `timeout`.
    pub async fn wait_for(&self, job_id: &str, timeout: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        eventually("the job's executions to reach the condition", timeout, || async {
            let executions = self.executions(job_id).await;
            if done(&executions) {
                Ok(executions)
            } else {
                Err(format!("{executions:#?}"))
            }
        })
        .await
    }

    pub async fn wait_all_finished(&self, job_id: &str) -> Vec<Value> {
        self.wait_for(job_id, Duration::from_secs(20), |rows| {
            rows.iter().all(|r| !matches!(r["status"].as_str(), Some("pending" | "running" | "retrying")))
        })
        .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db().pool).await.unwrap()
    }

    /// Stops the server as a crash would: its runner drops its calls, leases stay behind.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.halt().await;
        }
    }
}

pub fn status_of(row: &Value) -> &str {
    row["status"].as_str().unwrap()
}

impl TestApp {
    /// `POST /api/v1/executions/:id/retry-question` with an optional Idempotency-Key.
    pub async fn retry(&self, id: i64, region: &str, question_index: i64, key: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/v1/executions/{id}/retry-question", self.base))
            .json(&json!({"region": region, "question_index": question_index}));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Everything stored about one execution and its attempts, to prove a refusal changed nothing.
    pub async fn snapshot(&self, id: i64) -> (Vec<String>, i64) {
        let db = self.db();
        let row: Vec<String> = sqlx::query_as::<_, (String, i64, Option<i64>, i64, Option<String>)>(
            "SELECT status, retry_count, last_retry_at, updated_at, original_error FROM executions WHERE id = $1",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
        let attempts: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM execution_attempts WHERE execution_id = $1").bind(id).fetch_one(&db.pool).await.unwrap();
        (row, attempts)
    }

    pub async fn details(&self, id: i64) -> Value {
        let (status, body) = self.get(&format!("/api/v1/executions/{id}/details")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls one execution until `done` holds.
    pub async fn wait_execution(&self, id: i64, done: impl Fn(&Value) -> bool) -> Value {
        eventually(&format!("execution {id} to reach the condition"), Duration::from_secs(20), || async {
            let row = self.details(id).await;
            if done(&row) {
                Ok(row)
            } else {
                Err(format!("{row:#}"))
            }
        })
        .await
    }
}

/// An execution with its attempts, as `/details` and `/executions/all` answer: the server's
/// `ExecutionDetail` (which is only `Serialize`), read back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Detail {
    #[serde(flatten)]
    pub execution: ExecutionView,
    pub retry_history: Vec<AttemptView>,
}

impl std::ops::Deref for Detail {
    type Target = ExecutionView;
    fn deref(&self) -> &ExecutionView {
        &self.execution
    }
}

impl Detail {
    /// Neither pending, running nor retrying.
    pub fn is_finished(&self) -> bool {
        !matches!(self.status, ExecutionStatus::Pending | ExecutionStatus::Running | ExecutionStatus::Retrying)
    }
}

/// `/executions/all`'s answer.
#[derive(Debug, Deserialize)]
struct AllExecutions {
    executions: Vec<Detail>,
}

/// Typed answers: each reads the body into Beacon's own view types, and fails the test with
/// the body when it does not fit.
impl TestApp {
    /// `GET path`, its status and its body read as `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> (u16, T) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path} ({status}) is not a {}: {e}: {text}", std::any::type_name::<T>()));
        (status, body)
    }

    /// `GET path`, which must answer 200, read as `T`.
    pub async fn get_ok<T: DeserializeOwned>(&self, path: &str) -> T {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path} is not a {}: {e}: {text}", std::any::type_name::<T>()))
    }

    /// `GET /api/v1/jobs/:id`.
    pub async fn job(&self, job_id: &str) -> JobView {
        self.get_ok(&format!("/api/v1/jobs/{job_id}")).await
    }

    /// Every execution of the job with its attempts.
    pub async fn rows(&self, job_id: &str) -> Vec<Detail> {
        self.get_ok::<AllExecutions>(&format!("/api/v1/jobs/{job_id}/executions/all")).await.executions
    }

    /// Polls the job's executions until `done` holds, or fails after `timeout`.
    pub async fn wait_rows(&self, job_id: &str, timeout: Duration, done: impl Fn(&[Detail]) -> bool) -> Vec<Detail> {
        eventually("the job's executions to reach the condition", timeout, || async {
            let rows = self.rows(job_id).await;
            if done(&rows) {
                Ok(rows)
            } else {
                Err(format!("{rows:#?}"))
            }
        })
        .await
    }

    /// The job's executions once none is pending, running or retrying.
    pub async fn finished_rows(&self, job_id: &str) -> Vec<Detail> {
        self.wait_rows(job_id, Duration::from_secs(20), |rows| rows.iter().all(Detail::is_finished)).await
    }

    /// `GET /api/v1/executions/:id/details`.
    pub async fn detail(&self, id: i64) -> Detail {
        self.get_ok(&format!("/api/v1/executions/{id}/details")).await
    }

    /// Polls one execution until `done` holds.
    pub async fn wait_detail(&self, id: i64, done: impl Fn(&Detail) -> bool) -> Detail {
        eventually(&format!("execution {id} to reach the condition"), Duration::from_secs(20), || async {
            let row = self.detail(id).await;
            if done(&row) {
                Ok(row)
            } else {
                Err(format!("{row:#?}"))
            }
        })
        .await
    }

    /// A retry that must be accepted (202), and its answer.
    pub async fn retry_accepted(&self, id: i64, region: &str, question_index: i64, key: Option<&str>) -> RetryAccepted {
        let (status, body) = self.retry(id, region, question_index, key).await;
        assert_eq!(status, 202, "{body}");
        serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("not a RetryAccepted: {e}: {body}"))
    }
}

pub fn is_finished(row: &Value) -> bool {
    !matches!(row["status"].as_str(), Some("pending" | "running" | "retrying"))
}

/// The `action` of the first form on a page that posts to the server function `name`.
pub fn form_action(html: &str, name: &str) -> String {
    html.split("<form")
        .skip(1)
        .find_map(|form| {
            let start = form.find("action=\"")? + "action=\"".len();
            let action = &form[start..start + form[start..].find('"')?];
            action.contains(name).then(|| action.to_string())
        })
        .unwrap_or_else(|| panic!("no form posting to {name} in the page"))
}

impl TestApp {
    /// Adds `count` questions to the catalogue (the seeded eight make jobs of at most 72).
    pub async fn add_questions(&self, count: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..count {
            let id = format!("extra_q_{i:05}");
            sqlx::query("INSERT INTO questions (id, category, text, position) VALUES ($1, 'extra', $2, $3)")
                .bind(&id)
                .bind(format!("Synthetic question number {i}?"))
                .bind(100 + i as i64)
                .execute(&self.db().pool)
                .await
                .unwrap();
            ids.push(id);
        }
        ids
    }
}

/// Accounts for tests with `BEACON_AUTH=on` (SAFETY.md §1).
impl TestApp {
    /// Adds a user (password `password-of-NAME`) and returns a new API token of theirs.
    pub async fn user_with_token(&self, name: &str, role: beacon::domain::Role) -> String {
        use beacon::server::auth::accounts;
        accounts::add_user(self.db(), name, role, &format!("password-of-{name}")).await.unwrap();
        accounts::create_token(self.db(), name, Some("tests")).await.unwrap()
    }

    /// From now on, every request of `self.http` carries this bearer token.
    pub fn use_token(&mut self, token: &str) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        self.http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    }

    /// A client that does not follow redirects, for the login flow.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }
}

/// The `beacon` binary, for tests of start-up and signals.
pub fn beacon_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_beacon"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("RUST_LOG", "warn");
    command
}

/// The built-in configuration's first region and its models, for tests that claim by hand.
pub fn us_east() -> beacon::domain::Region {
    beacon::domain::Region::new("us-east").unwrap()
}

pub fn all_models() -> Vec<String> {
    ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"].map(String::from).to_vec()
}

/// The seeded catalogue (the set `beacon-default`), in its order.
pub const BUILT_IN_QUESTIONS: [&str; 8] = [
    "math_basic",
    "geography_basic",
    "identity_basic",
    "tiananmen_neutral",
    "taiwan_status",
    "hongkong_2019",
    "greatest_invention",
    "greatest_leader",
];

/// Waits for something the server does in its own time: asks `probe` every 25 ms until it
/// answers `Ok`, and fails the test after `within`, saying what was awaited and what `probe`
/// last saw. The one way the tests wait: no fixed sleeps standing in for "long enough".
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if started.elapsed() > within => panic!("waited {within:?} for {what}; last seen: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}
