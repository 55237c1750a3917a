//! Every SQL statement Beacon runs lives under this folder, one module per table, so a
//! change of schema or dialect touches one place.

pub mod attempts;
pub mod changes;
pub mod executions;
pub mod jobs;
pub mod questions;
pub mod retries;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub type Db = sqlx::SqlitePool;

/// Opens the database named by `url`, creating the file (and its folder) when missing, and
/// brings the schema up to date.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL lets the page read while the runner writes; the busy timeout turns a brief
        // writer collision into a short wait instead of a "database is locked" error.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Milliseconds since the Unix epoch: the unit of every time column.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time column as RFC 3339 (UTC, milliseconds), the API's format.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A transaction that takes the write lock up front. SQLite cannot upgrade a reader to a
/// writer once another connection has written (`SQLITE_BUSY_SNAPSHOT`, which the busy
/// timeout does not retry), so every read-then-write transaction starts here.
pub async fn write_tx(db: &Db) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}
