//! Warm-ups (PROVIDERS.md §4, migrations/*/0011_warmups.sql): created with their job, taken by
//! the provider's claiming loop before any of the job's rows, finished ok or failed.

use sqlx::FromRow;

use super::{now_ms, Db};
use crate::domain::views::WarmupView;
use crate::domain::Timestamp;
use crate::domain::WarmupStatus;
use crate::domain::{JobId, Region};

/// A warm-up a provider has taken.
#[derive(Debug, Clone, FromRow)]
pub struct TakenWarmup {
    pub id: i64,
    pub job_id: JobId,
    pub model_id: String,
}

#[derive(Debug, Clone, FromRow)]
struct WarmupRow {
    provider_id: String,
    region: Region,
    model_id: String,
    status: WarmupStatus,
    requests: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
}

/// One warm-up per (provider, model) in `pairs`, pending, in the job's transaction.
pub async fn insert(conn: &mut sqlx::AnyConnection, job_id: &JobId, pairs: &[(String, Region, String)]) -> sqlx::Result<()> {
    for (provider_id, region, model_id) in pairs {
        sqlx::query(
            "INSERT INTO warmups (job_id, provider_id, region, model_id, status) VALUES ($1, $2, $3, $4, 'pending')
             ON CONFLICT (job_id, provider_id, model_id) DO NOTHING",
        )
        .bind(job_id)
        .bind(provider_id)
        .bind(region)
        .bind(model_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Takes the oldest waiting warm-up of `provider_id` (pending, or running under a lease that
/// ran out because its instance stopped), holding it until `lease_until`.
///
/// Every claim of the runner asks this first, so the usual answer, "none", is a plain read:
/// no write transaction (on SQLite that would take the one writer's lock per claim). The
/// update re-states the condition, so of two instances taking the same warm-up one gets it.
pub async fn take(db: &Db, provider_id: &str, lease_until: i64) -> sqlx::Result<Option<TakenWarmup>> {
    let now = now_ms();
    let waiting: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM warmups
          WHERE provider_id = $1 AND (status = 'pending' OR (status = 'running' AND lease_expires_at < $2))
          ORDER BY id LIMIT 1",
    )
    .bind(provider_id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some(id) = waiting else { return Ok(None) };
    sqlx::query_as(
        "UPDATE warmups SET status = 'running', started_at = COALESCE(started_at, $2), lease_expires_at = $3
          WHERE id = $1 AND (status = 'pending' OR (status = 'running' AND lease_expires_at < $2))
      RETURNING id, job_id, model_id",
    )
    .bind(id)
    .bind(now)
    .bind(lease_until)
    .fetch_optional(&db.pool)
    .await
}

/// Counts one more warm-up request.
pub async fn count_request(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE warmups SET requests = requests + 1 WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}

/// Ends a warm-up: `ok`, or `failed` with the last error. Wakes the job's rows for the runner.
pub async fn finish(db: &Db, id: i64, ok: bool, error: Option<&str>) -> sqlx::Result<()> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    sqlx::query(
        "UPDATE warmups SET status = $2, error = $3, finished_at = $4, duration_ms = $4 - started_at, lease_expires_at = NULL
          WHERE id = $1",
    )
    .bind(id)
    .bind(if ok { WarmupStatus::Ok } else { WarmupStatus::Failed })
    .bind(error)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn list(db: &Db, job_id: &JobId) -> sqlx::Result<Vec<WarmupView>> {
    let rows: Vec<WarmupRow> = sqlx::query_as(
        "SELECT provider_id, region, model_id, status, requests, started_at, finished_at, duration_ms, error
           FROM warmups WHERE job_id = $1 ORDER BY id",
    )
    .bind(job_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WarmupView {
            provider_id: r.provider_id,
            region: r.region,
            model_id: r.model_id,
            // The contract's three states: a warm-up not yet begun is already "warming up".
            status: if r.status == WarmupStatus::Pending { WarmupStatus::Running } else { r.status },
            requests: r.requests,
            started_at: r.started_at.map(Timestamp::from_millis),
            finished_at: r.finished_at.map(Timestamp::from_millis),
            duration_ms: r.duration_ms,
            error: r.error,
        })
        .collect())
}

/// The condition a claim adds so that a provider takes no row whose warm-up it still owes.
/// `$p` is the provider id's placeholder, `$now` the time's.
pub fn not_warming(provider: &str, now: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM warmups w WHERE w.job_id = executions.job_id AND w.provider_id = {provider}
                      AND w.model_id = executions.model_id
                      AND (w.status = 'pending' OR (w.status = 'running' AND w.lease_expires_at >= {now})))"
    )
}
