//! Retry route throughput and latency next to a bare axum handler, same machine, same run,
//! same client, with the inference router answering instantly (issue 3).
//!
//! `cargo bench --features ssr --bench retry` (options: `-- --executions 2000 --concurrency 32`)
//! prints requests/s and p50/p99 for both, and their ratio. On SQLite, or on PostgreSQL with
//! `BENCH_POSTGRES` (see `support/database.rs`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use beacon::server::config::Config;
use serde_json::{json, Value};

#[path = "support/database.rs"]
mod database;
use database::{database_name, fresh_database};

// The allocator the server binary uses (src/main.rs): this process plays the server.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    executions: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut args = Args { executions: 2000, concurrency: 32 };
    let raw: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < raw.len() {
        match raw[i].as_str() {
            "--executions" => args.executions = raw[i + 1].parse().expect("--executions N"),
            "--concurrency" => args.concurrency = raw[i + 1].parse().expect("--concurrency N"),
            _ => {}
        }
        i += if raw[i].starts_with("--") && raw[i] != "--bench" { 2 } else { 1 };
    }
    args
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Answers every request at once with a failure, so every execution ends failed and each
/// retry takes the same path: accepted, run, failed again.
async fn instant_router() -> SocketAddr {
    serve(Router::new().route("/inference", post(|| async { Json(json!({"success": false, "error": "cold", "provider_used": "bench"})) }))).await
}

struct Run {
    seconds: f64,
    latencies: Vec<Duration>,
    statuses: Vec<u16>,
}

impl Run {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }
}

/// Sends `bodies.len()` POSTs with `concurrency` workers and times each.
async fn load(client: &reqwest::Client, concurrency: usize, requests: Arc<Vec<(String, Value)>>) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, next, requests) = (client.clone(), Arc::clone(&next), Arc::clone(&requests));
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((url, body)) = requests.get(i) else { break };
                let t = Instant::now();
                let status = client.post(url).json(body).send().await.unwrap().status().as_u16();
                out.push((t.elapsed(), status));
            }
            out
        }));
    }
    let mut run = Run { seconds: 0.0, latencies: Vec::new(), statuses: Vec::new() };
    for worker in workers {
        for (latency, status) in worker.await.unwrap() {
            run.latencies.push(latency);
            run.statuses.push(status);
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run
}

#[tokio::main]
async fn main() {
    let args = args();
    let router = instant_router().await;
    let db_dir = tempfile::tempdir().unwrap();
    // SQLite's durability as the operator chose it (`BEACON_SQLITE_SYNCHRONOUS`; FULL by default).
    let mut config = Config::from_lookup(|name| (name == "BEACON_SQLITE_SYNCHRONOUS").then(|| std::env::var(name).ok()).flatten()).unwrap();
    // Load generators: measured without the per-client mutation rate (BEACON_MUTATION_RATE=off).
    config.mutation_rate = None;
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = fresh_database(&db_dir).await;
    config.router_url = Some(format!("http://{router}"));
    let beacon = beacon::server::startup::start(config).await.expect("Beacon starts");
    let base = format!("http://{}", beacon.addr);
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().unwrap();

    // Enough jobs of 72 executions (8 questions × 3 models × 3 regions), all failed once.
    let questions: Vec<String> = reqwest::get(format!("{base}/api/v1/questions")).await.unwrap().json::<Value>().await.unwrap()["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_string())
        .collect();
    let mut jobs = Vec::new();
    while jobs.len() * 72 < args.executions {
        let response: Value = client
            .post(format!("{base}/api/v1/jobs"))
            .json(&json!({"questions": questions, "models": ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], "regions": ["US", "EU", "ASIA"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs.push(response["id"].as_str().unwrap().to_string());
    }
    let mut targets = Vec::new();
    for job in &jobs {
        loop {
            let rows: Value = client.get(format!("{base}/api/v1/jobs/{job}/executions/all")).send().await.unwrap().json().await.unwrap();
            let rows = rows["executions"].as_array().unwrap().clone();
            if rows.iter().all(|r| r["status"] == "failed") {
                targets.extend(rows);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    targets.truncate(args.executions);
    let retry_requests: Vec<(String, Value)> = targets
        .iter()
        .map(|row| {
            // The router region as stored: retries accept ids as well as aliases.
            let region = row["region"].as_str().unwrap().to_string();
            (format!("{base}/api/v1/executions/{}/retry-question", row["id"]), json!({"region": region, "question_index": row["question_index"]}))
        })
        .collect();

    // The baseline: a bare axum handler that parses the same JSON and answers JSON.
    let bare = serve(
        Router::new()
            .route("/bare", post(|Json(body): Json<Value>| async move { (axum::http::StatusCode::ACCEPTED, Json(json!({"echo": body["region"]}))) })),
    )
    .await;
    // At tens of thousands of requests a second, as many requests as the retry run sends
    // would time a few tens of milliseconds, which scheduling noise swings by a third: the
    // bare handler gets at least 20,000 (it changes nothing, so bodies repeat).
    let bare_requests: Vec<(String, Value)> =
        retry_requests.iter().cycle().take(retry_requests.len().max(20_000)).map(|(_, body)| (format!("http://{bare}/bare"), body.clone())).collect();

    // Warm the client's connections and the handler up a little, then measure.
    load(&client, args.concurrency, Arc::new(bare_requests[..200.min(bare_requests.len())].to_vec())).await;
    let bare_run = load(&client, args.concurrency, Arc::new(bare_requests)).await;
    let retry_run = load(&client, args.concurrency, Arc::new(retry_requests)).await;

    let accepted = retry_run.statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, retry_run.statuses.len(), "every retry should be accepted: {:?}", retry_run.statuses.iter().find(|s| **s != 202));
    let database = database_name();
    println!(
        "retry route benchmark: {} retries ({} bare requests), {} concurrent, database {database}",
        retry_run.latencies.len(),
        bare_run.latencies.len(),
        args.concurrency
    );
    println!("{:<28} {:>10} {:>10} {:>10}", "", "req/s", "p50 ms", "p99 ms");
    for (name, run) in [("bare axum handler", &bare_run), ("POST …/retry-question", &retry_run)] {
        println!(
            "{name:<28} {:>10.0} {:>10.2} {:>10.2}",
            run.rps(),
            run.percentile(0.5).as_secs_f64() * 1e3,
            run.percentile(0.99).as_secs_f64() * 1e3
        );
    }
    println!("ratio (retry / bare) req/s: {:.2}  (target ≥ 0.10)", retry_run.rps() / bare_run.rps());
    beacon.stop().await;
}
