//! SCALE.md's measurements for large jobs, printed as one table (figure, target, measured,
//! pass). Each Beacon runs in this process against a router on loopback; the database is a
//! fresh SQLite file, or a fresh database on the PostgreSQL server named by
//! `BENCH_POSTGRES` (see `support/database.rs`).
//!
//! `cargo bench --features ssr --bench scale` (`-- --quick`: each once, on small sizes, to keep
//! the code paths working in CI; its numbers mean nothing).

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;

#[path = "support/database.rs"]
mod database;
use database::{database_name, fresh_database};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts the heap this process holds, and its peak since the last reset: how much an export
/// holds while it streams is the peak above where it started. It allocates with the server
/// binary's allocator (src/main.rs), as this process plays the server.
struct CountingAlloc;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            let now = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

use axum::routing::post;
use axum::{Json, Router};
use beacon::server::config::Config;
use beacon::server::startup::RunningServer;
use serde_json::{json, Value};

const MODELS: [&str; 3] = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"];
/// Every job spans all three regions: with nine cells per question, a 30,000-execution job
/// lists 3,334 questions, which fits the 64 KiB body limit (SAFETY §3).
const ALL_REGIONS: [&str; 3] = ["US", "EU", "ASIA"];

struct Sizes {
    quick: bool,
    submission: usize,
    per_change_large: usize,
    runner_paced: usize,
    runner_instant: usize,
    batch_retry: usize,
    page_large: usize,
    export_small: usize,
    export_large: usize,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                quick,
                submission: 600,
                per_change_large: 600,
                runner_paced: 180,
                runner_instant: 300,
                batch_retry: 300,
                page_large: 600,
                export_small: 90,
                export_large: 900,
            }
        } else {
            Sizes {
                quick,
                submission: 30_000,
                per_change_large: 30_000,
                runner_paced: 6_000,
                runner_instant: 6_000,
                batch_retry: 10_000,
                page_large: 30_000,
                export_small: 3_000,
                export_large: 30_000,
            }
        }
    }
}

struct Row {
    figure: String,
    target: String,
    measured: String,
    pass: bool,
}

#[derive(Clone, Copy)]
enum Answer {
    /// `success: true` after this long.
    After(Duration),
    /// `success: false` at once.
    Fail,
    /// Never answers (the call stays in flight).
    Hang,
}

async fn router(answer: Answer) -> SocketAddr {
    let app = Router::new().route(
        "/inference",
        post(move || async move {
            match answer {
                Answer::After(pause) => {
                    tokio::time::sleep(pause).await;
                    Json(json!({"success": true, "response": "ok", "provider_used": "bench"}))
                }
                Answer::Fail => Json(json!({"success": false, "error": "cold", "provider_used": "bench"})),
                Answer::Hang => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Bench {
    server: RunningServer,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(answer: Answer, concurrency: usize) -> Bench {
    let router = router(answer).await;
    let dir = tempfile::tempdir().unwrap();
    // Load generators: measured without the per-client mutation rate.
    let concurrency_setting = concurrency.to_string();
    let mut config = Config::from_lookup(|name| match name {
        "BEACON_MUTATION_RATE" => Some("off".into()),
        "BEACON_REGION_CONCURRENCY" => Some(concurrency_setting.clone()),
        // SQLite's durability as the operator chose it (FULL by default).
        "BEACON_SQLITE_SYNCHRONOUS" => std::env::var(name).ok(),
        _ => None,
    })
    .unwrap();
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = fresh_database(&dir).await;
    config.router_url = Some(format!("http://{router}"));
    let server = beacon::server::startup::start(config).await.expect("Beacon starts");
    let base = format!("http://{}", server.addr);
    Bench { server, base, http: reqwest::Client::new(), _dir: dir }
}

impl Bench {
    /// Questions enough for `executions` over `models` × `regions`.
    async fn questions(&self, executions: usize, cells: usize) -> Vec<String> {
        let count = executions.div_ceil(cells);
        let db = &self.server.state.db;
        let mut ids = Vec::with_capacity(count);
        // Numbered after those already added, so one bench can ask more than once.
        let first: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM questions").fetch_one(&db.pool).await.unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        for i in first as usize..first as usize + count {
            let id = format!("scale_q_{i:06}");
            sqlx::query("INSERT INTO questions (id, category, text, position) VALUES ($1, 'bench', $2, $3)")
                .bind(&id)
                .bind(format!("Synthetic benchmark question {i}?"))
                .bind(1000 + i as i64)
                .execute(&mut *tx)
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
        ids
    }

    async fn submit(&self, questions: &[String], regions: &[&str]) -> (String, Duration) {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/api/v1/jobs", self.base))
            .json(&json!({"questions": questions, "models": MODELS, "regions": regions}))
            .send()
            .await
            .unwrap();
        let took = started.elapsed();
        let body: Value = response.json().await.unwrap();
        (body["id"].as_str().unwrap_or_else(|| panic!("not created: {body}")).to_string(), took)
    }

    async fn progress(&self, job: &str) -> Value {
        let job: Value = self.http.get(format!("{}/api/v1/jobs/{job}", self.base)).send().await.unwrap().json().await.unwrap();
        job["progress"].clone()
    }

    async fn wait_settled(&self, job: &str) -> Duration {
        let started = Instant::now();
        loop {
            let p = self.progress(job).await;
            if p["pending"] == 0 && p["running"] == 0 && p["retrying"] == 0 {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn submission(sizes: &Sizes) -> Row {
    let bench = start(Answer::Hang, 1).await;
    let questions = bench.questions(sizes.submission, 9).await;
    let (job, took) = bench.submit(&questions, &ALL_REGIONS).await;
    let total = bench.progress(&job).await["total"].as_u64().unwrap();
    bench.stop().await;
    Row {
        figure: format!("submission of a {total}-execution job"),
        target: "≤ 2 s".into(),
        measured: format!("{:.2} s", took.as_secs_f64()),
        pass: took <= Duration::from_secs(2),
    }
}

/// The cost of one execution finishing, through the runner's own statements, in a small and
/// a large job.
async fn per_change(sizes: &Sizes) -> Row {
    use beacon::domain::Region;
    use beacon::server::db::executions::{self, Outcome};
    let bench = start(Answer::Hang, 1).await;
    // The runner is stopped so this measurement owns the rows.
    bench.server.state.runner.stop_claiming();
    let db = bench.server.state.db.clone();
    let mut medians = Vec::new();
    for size in [100, sizes.per_change_large] {
        let questions = bench.questions(size, 9).await;
        bench.submit(&questions, &ALL_REGIONS).await;
        let mut samples = Vec::new();
        for i in 0..60 {
            let region = Region::new(["us-east", "eu-west", "asia-pacific"][i % 3]).unwrap();
            let models: Vec<String> = MODELS.iter().map(|m| m.to_string()).collect();
            let Some(claimed) = executions::claim_next(&db, &region, &models, "bench", i64::MAX).await.unwrap() else {
                let left: Vec<(String, String, i64)> =
                    sqlx::query_as("SELECT region, status, COUNT(*) FROM executions GROUP BY region, status").fetch_all(&db.pool).await.unwrap();
                panic!("no queued work in {region} at sample {i}: {left:?}");
            };
            let outcome = Outcome::answered("ok".into());
            let started = Instant::now();
            assert!(executions::finish(&db, &claimed, &outcome).await.unwrap());
            samples.push(started.elapsed());
        }
        medians.push(median(samples));
        // The next job's rows are claimed only after this one's are gone.
        sqlx::query("UPDATE executions SET status = 'cancelled' WHERE status = 'pending'").execute(&db.pool).await.unwrap();
    }
    bench.stop().await;
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    Row {
        figure: format!("one execution finishing: {} vs 100 executions", sizes.per_change_large),
        target: "ratio ≤ 1.5".into(),
        measured: format!("{:.2} ({:.2} ms vs {:.2} ms)", ratio, medians[1].as_secs_f64() * 1e3, medians[0].as_secs_f64() * 1e3),
        pass: ratio <= 1.5,
    }
}

async fn runner(sizes: &Sizes, paced: bool) -> Row {
    let answer = if paced { Answer::After(Duration::from_millis(50)) } else { Answer::After(Duration::ZERO) };
    let bench = start(answer, 10).await;
    let size = if paced { sizes.runner_paced } else { sizes.runner_instant };
    let questions = bench.questions(size, 9).await;
    let (job, _) = bench.submit(&questions, &ALL_REGIONS).await;
    let took = bench.wait_settled(&job).await;
    let done = bench.progress(&job).await["total"].as_u64().unwrap();
    bench.stop().await;
    if paced {
        let ideal = done as f64 / 600.0;
        let ratio = took.as_secs_f64() / ideal;
        Row {
            figure: format!("{done} executions, 50 ms router, 3 regions × 10"),
            target: "≤ 1.25 × ideal".into(),
            measured: format!("{ratio:.2} × ideal ({:.1} s vs {ideal:.1} s)", took.as_secs_f64()),
            pass: ratio <= 1.25,
        }
    } else {
        let rate = done as f64 / took.as_secs_f64();
        Row {
            figure: format!("{done} executions, instant router"),
            target: "≥ 1,500 executions/s".into(),
            measured: format!("{rate:.0} executions/s"),
            pass: rate >= 1500.0,
        }
    }
}

async fn batch_retry(sizes: &Sizes) -> Row {
    let bench = start(Answer::Fail, 10).await;
    let questions = bench.questions(sizes.batch_retry, 9).await;
    let (job, _) = bench.submit(&questions, &ALL_REGIONS).await;
    bench.wait_settled(&job).await;
    // The runner stops, so the queued retries stay queued and only the answer is timed.
    bench.server.state.runner.stop_claiming();
    let started = Instant::now();
    let answer: Value = bench.http.post(format!("{}/api/v1/jobs/{job}/retry-all-failed", bench.base)).send().await.unwrap().json().await.unwrap();
    let took = started.elapsed();
    let queued = answer["queued"].as_array().map_or(0, Vec::len);
    bench.stop().await;
    Row {
        figure: format!("retry all failed over {queued} failures"),
        target: "≤ 2 s".into(),
        measured: format!("{:.2} s", took.as_secs_f64()),
        pass: took <= Duration::from_secs(2),
    }
}

async fn page_ttfb(sizes: &Sizes) -> Row {
    let bench = start(Answer::Hang, 1).await;
    bench.server.state.runner.stop_claiming();
    let small = bench.questions(72, 9).await;
    let (small_job, _) = bench.submit(&small[..8], &ALL_REGIONS).await;
    let large = bench.questions(sizes.page_large, 9).await;
    let (large_job, _) = bench.submit(&large, &ALL_REGIONS).await;
    let mut medians = Vec::new();
    for job in [&small_job, &large_job] {
        let mut samples = Vec::new();
        for _ in 0..15 {
            let started = Instant::now();
            let response = bench.http.get(format!("{}/jobs/{job}", bench.base)).send().await.unwrap();
            samples.push(started.elapsed());
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
        }
        medians.push(median(samples));
    }
    bench.stop().await;
    let ratio = medians[1].as_secs_f64() / medians[0].as_secs_f64();
    Row {
        figure: format!("job page first byte: {} vs 72 executions", sizes.page_large),
        target: "≤ 3 ×".into(),
        measured: format!("{ratio:.2} × ({:.1} ms vs {:.1} ms)", medians[1].as_secs_f64() * 1e3, medians[0].as_secs_f64() * 1e3),
        pass: ratio <= 3.0,
    }
}

/// The extra heap held while a job's CSV export streams to a client, for a job 10 times larger:
/// flat when the export holds a step of rows, not the job (RESEARCH.md §3).
async fn export_memory(sizes: &Sizes) -> Row {
    let bench = start(Answer::Hang, 1).await;
    bench.server.state.runner.stop_claiming();
    let answer = "A completed answer of some length, as models give them, with \"quotes\", commas, and\nline breaks. ".repeat(8);
    let mut peaks = Vec::new();
    for size in [sizes.export_small, sizes.export_large] {
        let questions = bench.questions(size, 9).await;
        let (job, _) = bench.submit(&questions, &ALL_REGIONS).await;
        sqlx::query("UPDATE executions SET status = 'completed', output = $1, completed_at = 0 WHERE job_id = $2")
            .bind(&answer)
            .bind(&job)
            .execute(&bench.server.state.db.pool)
            .await
            .unwrap();
        let before = HELD.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let mut response = bench.http.get(format!("{}/api/v1/jobs/{job}/export.csv", bench.base)).send().await.unwrap();
        let mut bytes = 0;
        while let Some(chunk) = response.chunk().await.unwrap() {
            bytes += chunk.len();
        }
        assert!(bytes > size * answer.len(), "the whole export arrived");
        peaks.push(PEAK.load(Ordering::Relaxed).saturating_sub(before));
    }
    bench.stop().await;
    let ratio = peaks[1] as f64 / peaks[0].max(1) as f64;
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    Row {
        figure: format!("CSV export, extra heap: {} vs {} executions", sizes.export_large, sizes.export_small),
        target: "flat (≤ 1.5 ×)".into(),
        measured: format!("{ratio:.2} × ({:.1} MiB vs {:.1} MiB)", mib(peaks[1]), mib(peaks[0])),
        pass: ratio <= 1.5,
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = Sizes::new(quick);
    let database = database_name();
    // `-- --only NAME` runs one line (submission, per_change, runner_paced, runner_instant,
    // batch_retry, page, export).
    let args: Vec<String> = std::env::args().collect();
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let mut rows = Vec::new();
    if wanted("submission") {
        rows.push(submission(&sizes).await);
    }
    if wanted("per_change") {
        rows.push(per_change(&sizes).await);
    }
    if wanted("runner_paced") {
        rows.push(runner(&sizes, true).await);
    }
    if wanted("runner_instant") {
        rows.push(runner(&sizes, false).await);
    }
    if wanted("batch_retry") {
        rows.push(batch_retry(&sizes).await);
    }
    if wanted("page") {
        rows.push(page_ttfb(&sizes).await);
    }
    if wanted("export") {
        rows.push(export_memory(&sizes).await);
    }
    println!("\nScale ({database}{})", if sizes.quick { ", --quick: sizes too small to mean anything" } else { "" });
    println!("| figure | target | measured | pass |");
    println!("|---|---|---|---|");
    for row in rows.iter() {
        println!("| {} | {} | {} | {} |", row.figure, row.target, row.measured, if row.pass { "yes" } else { "no" });
    }
}
