//! Live updates (issue 4): what a change costs.
//!
//! `cargo bench --features ssr --bench live` prints
//! (a) bytes sent to one client per execution change, for jobs of 100, 1,000, 10,000 and 30,000
//!     executions, next to what the earlier approach sent per poll (the whole job);
//! (c) server CPU and memory with 100 clients on one job while its executions change
//!     (`LIVE_EXECUTIONS`, default 1,000; SCALE.md asks for 30,000)
//!     (runs the release binary, `BEACON_BIN`, default `target/release/beacon`, as its own
//!     process so only the server is measured; build it first with `cargo leptos build --release`).
//! (b), the browser-side latency, is `end2end/bench/latency.spec.ts` (see README).
//! On SQLite, or on PostgreSQL with `BENCH_POSTGRES` (see `support/database.rs`).

use std::net::SocketAddr;
use std::process::Stdio;
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

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn router(success: bool) -> SocketAddr {
    serve(Router::new().route(
        "/inference",
        post(move || async move {
            if success {
                Json(json!({"success": true, "response": "an answer of ordinary length, a sentence or two long, as a model would give", "provider_used": "bench"}))
            } else {
                Json(json!({"success": false, "error": "cold", "provider_used": "bench"}))
            }
        }),
    ))
    .await
}

/// Adds `count` questions to the catalogue (the seeded eight make jobs of at most 72).
async fn add_questions(database_url: &str, count: usize) -> Vec<String> {
    let db = beacon::server::db::connect(database_url).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..count {
        let id = format!("bench_q_{i:05}");
        sqlx::query("INSERT INTO questions (id, category, text, position) VALUES ($1, 'bench', $2, $3) ON CONFLICT DO NOTHING")
            .bind(&id)
            .bind(format!("Synthetic benchmark question number {i}?"))
            .bind(100 + i as i64)
            .execute(&db.pool)
            .await
            .unwrap();
        ids.push(id);
    }
    db.pool.close().await;
    ids
}

async fn wait_settled(client: &reqwest::Client, base: &str, job: &str) {
    loop {
        let job: Value = client.get(format!("{base}/api/v1/jobs/{job}")).send().await.unwrap().json().await.unwrap();
        let p = &job["progress"];
        if p["pending"] == 0 && p["running"] == 0 && p["retrying"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// (a) Bytes one client receives per execution change, against the whole job per poll.
async fn bytes_per_change(size: usize) -> (usize, usize, f64) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    // size ≈ questions × 3 models × 3 regions (nine cells a question keep a 30,000-execution
    // job's body under the 64 KiB limit)
    let questions = add_questions(&url, size.div_ceil(9)).await;
    let router = router(false).await;
    // Load generators: measured without the per-client mutation rate.
    let mut config = Config::from_lookup(|name| match name {
        "BEACON_MUTATION_RATE" => Some("off".into()),
        "BEACON_REGION_CONCURRENCY" => Some("50".into()),
        _ => None,
    })
    .unwrap();
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = url;
    config.router_url = Some(format!("http://{router}"));
    let server = beacon::server::startup::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/api/v1/jobs"))
        .json(&json!({"questions": questions, "models": ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], "regions": ["US", "EU", "ASIA"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = created["id"].as_str().unwrap_or_else(|| panic!("job not created: {created}")).to_string();
    wait_settled(&client, &base, &job).await;

    let whole_job = client.get(format!("{base}/api/v1/jobs/{job}/executions/all")).send().await.unwrap().bytes().await.unwrap().len();

    // One retry: three execution changes (queued, claimed, failed again) and their job events.
    let cursor = beacon::server::db::changes::latest_seq(&server.state.db).await.unwrap();
    let mut stream = client.get(format!("{base}/api/v1/jobs/{job}/events?since={cursor}")).send().await.unwrap();
    let target: Value = client.get(format!("{base}/api/v1/executions/1/details")).send().await.unwrap().json().await.unwrap();
    client
        .post(format!("{base}/api/v1/executions/1/retry-question"))
        .json(&json!({"region": "US", "question_index": target["question_index"]}))
        .send()
        .await
        .unwrap();
    // Read until the retry has failed again and the job event after it has arrived.
    let (mut bytes, mut text, mut changes) = (0usize, String::new(), 0usize);
    let total = created["total_executions"].as_i64().unwrap();
    let mut retry_done = false;
    'read: loop {
        let chunk = stream.chunk().await.unwrap().unwrap();
        bytes += chunk.len();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.contains("event: execution") {
                changes += 1;
                retry_done |= event.contains("\"status\":\"failed\"") && event.contains("\"retry_count\":1");
            } else if event.contains("event: job") && retry_done {
                break 'read;
            }
        }
    }
    server.stop().await;
    (total as usize, whole_job, bytes as f64 / changes.max(1) as f64)
}

fn proc_stat(pid: u32) -> (f64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = (fields.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) + fields.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0))
        / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib =
        |key: &str| status.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0);
    (cpu, kib("VmRSS:"), kib("VmHWM:"))
}

/// (c) One Beacon process, 100 clients on one job, `size` executions (`LIVE_EXECUTIONS`,
/// default 1,000) running to completion.
async fn hundred_clients(size: usize) -> Option<String> {
    let bin = std::env::var("BEACON_BIN").unwrap_or_else(|_| "target/release/beacon".into());
    if !std::path::Path::new(&bin).exists() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let questions = add_questions(&url, size.div_ceil(9)).await;
    let size = questions.len() * 9;
    let router = router(true).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(&bin)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("DATABASE_URL", &url)
        .env("HYBRID_ROUTER_URL", format!("http://{router}"))
        .env("BEACON_REGION_CONCURRENCY", "10")
        // As SCALE.md runs its benchmarks: the 100 clients stand for 100 people but share one
        // address here, and one machine plays every client.
        .env("BEACON_MAX_STREAMS_PER_CLIENT", "1000")
        .env("BEACON_MUTATION_RATE", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    while client.get(format!("{base}/health")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (cpu_before, _, _) = proc_stat(pid);

    // The job is created with its router answering instantly, and 100 clients follow it from
    // the first change on.
    let created: Value = client
        .post(format!("{base}/api/v1/jobs"))
        .json(&json!({"questions": questions, "models": ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"], "regions": ["US", "EU", "ASIA"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = created["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let delivered = Arc::new(AtomicUsize::new(0));
    let resyncs = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..100 {
        let (client, url, delivered, resyncs) =
            (client.clone(), format!("{base}/api/v1/jobs/{job}/events?since=0"), Arc::clone(&delivered), Arc::clone(&resyncs));
        clients.push(tokio::spawn(async move {
            let mut stream = client.get(url).send().await.unwrap();
            let mut text = String::new();
            let mut completed = 0;
            while completed < size {
                let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(60), stream.chunk()).await else { break };
                text.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = text.find("\n\n") {
                    let event: String = text.drain(..end + 2).collect();
                    if event.contains("event: resync") {
                        resyncs.fetch_add(1, Ordering::Relaxed);
                    }
                    if event.contains("event: execution") {
                        delivered.fetch_add(1, Ordering::Relaxed);
                        if event.contains("\"status\":\"completed\"") {
                            completed += 1;
                        }
                    }
                }
            }
            completed
        }));
    }
    let mut fewest = size;
    for c in clients {
        fewest = fewest.min(c.await.unwrap());
    }
    let all_saw_everything = fewest == size;
    let wall = started.elapsed().as_secs_f64();
    let (cpu_after, rss, peak) = proc_stat(pid);
    child.kill().await.ok();
    let cpu = cpu_after - cpu_before;
    Some(format!(
        "{size} executions ran to completion with 100 clients following: {wall:.1} s wall, server CPU {cpu:.1} s ({:.0}% of one core), \
         RSS {:.1} MiB at the end, peak {:.1} MiB; {} execution events delivered; every client saw all {size} completions: {all_saw_everything} \
         (fewest seen by one client: {fewest}; resyncs sent: {})",
        cpu / wall * 100.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        delivered.load(Ordering::Relaxed),
        resyncs.load(Ordering::Relaxed)
    ))
}

#[tokio::main]
async fn main() {
    println!("live benchmark, database {}", database_name());
    println!("(a) bytes to one client per execution change vs the whole job per poll");
    println!("{:>12} {:>18} {:>22} {:>10}", "executions", "SSE bytes/change", "whole job bytes/poll", "ratio");
    for size in [100, 1000, 10_000, 30_000] {
        let (executions, whole, per_change) = bytes_per_change(size).await;
        println!("{executions:>12} {per_change:>18.0} {whole:>22} {:>9.0}x", whole as f64 / per_change);
    }
    println!();
    let size = std::env::var("LIVE_EXECUTIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
    match hundred_clients(size).await {
        Some(line) => println!("(c) {line}"),
        None => println!("(c) skipped: build the release binary first (cargo leptos build --release) or set BEACON_BIN"),
    }
}
