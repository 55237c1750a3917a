//! Every SQL statement Beacon runs lives under this folder, one module per table, so a
//! change of schema or dialect touches one place.
//!
//! One code path serves SQLite (the embedded default) and PostgreSQL (several instances):
//! statements are written once, with `$N` placeholders, which both accept as they are; the
//! few that must differ (row locks) ask [`Db::dialect`]. Status lists inside statements come
//! from the domain's sets (`ExecutionStatus::sql(&ExecutionStatus::FAILURES)`), and stored
//! values are decoded into the domain's types by `codec`.

pub mod accounts;
pub mod attempts;
pub mod backup;
pub mod changes;
pub mod codec;
pub mod executions;
pub mod group_commit;
pub mod jobs;
pub mod questions;
pub mod retries;
pub mod site_keys;
pub mod warmups;
mod write_turns;

pub use write_turns::RequestWaiting;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AssertSqlSafe, Executor};

pub use crate::server::config::SqliteSynchronous;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: sqlx::AnyPool,
    pub dialect: Dialect,
    options: AnyConnectOptions,
    synchronous: SqliteSynchronous,
    /// SQLite has one writer at a time. Queuing writers here is much faster under load than
    /// letting them collide and sleep in SQLite's busy handler.
    writer: std::sync::Arc<write_turns::WriteTurns>,
    /// SQLite: the one connection every `write_tx` uses (single-statement writes outside a
    /// transaction, such as lease renewals, go through `pool`). A connection drops its page
    /// cache whenever another one has written, so writes spread over a pool would each start
    /// cold; through one connection they find their pages where the last write left them.
    write_pool: Option<sqlx::AnyPool>,
    /// This handle's writes are background work (the runner's): on SQLite they step aside
    /// for a while when requests are waiting to write (see `write_turns`).
    background: bool,
    /// Poked after every committed write, so this process's live feed reads the change log
    /// at once instead of at its next poll (which still catches other instances' writes).
    pub committed: std::sync::Arc<tokio::sync::Notify>,
}

/// A write transaction (see [`Db::write_tx`]); derefs to its connection.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, Any>,
    _turn: Option<write_turns::Turn>,
    committed: std::sync::Arc<tokio::sync::Notify>,
}

impl WriteTx {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await?;
        self.committed.notify_one();
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Opens the database named by `url` (`sqlite:…` or `postgres://…`), creating a SQLite file
/// (and its folder) when missing, and brings the schema up to date. SQLite commits with
/// `synchronous = FULL`: what was answered survives a power loss.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    connect_with(url, SqliteSynchronous::Full).await
}

/// As [`connect`], with SQLite's durability as `BEACON_SQLITE_SYNCHRONOUS` chose it.
pub async fn connect_with(url: &str, synchronous: SqliteSynchronous) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let dialect = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Dialect::Postgres
    } else if url.starts_with("sqlite:") {
        Dialect::Sqlite
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://, got {url:?}");
    };
    let mut url = url.to_string();
    if dialect == Dialect::Sqlite {
        let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
    }
    let options: AnyConnectOptions = url.parse()?;
    let pool = open_pool(&options, dialect, synchronous, if dialect == Dialect::Sqlite { 8 } else { 16 }).await?;
    match dialect {
        Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await.map_err(newer_schema)?,
        Dialect::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await.map_err(newer_schema)?,
    }
    let write_pool = match dialect {
        Dialect::Sqlite => Some(open_pool(&options, dialect, synchronous, 1).await?),
        Dialect::Postgres => None,
    };
    Ok(Db { pool, dialect, options, synchronous, writer: Default::default(), write_pool, background: false, committed: Default::default() })
}

/// A database a newer Beacon has migrated is not one this binary may write to.
fn newer_schema(err: sqlx::migrate::MigrateError) -> anyhow::Error {
    match err {
        sqlx::migrate::MigrateError::VersionMissing(version) => anyhow::anyhow!(
            "the database was migrated by a newer Beacon (its migration {version} is unknown to this one): \
             run that version, or restore a backup taken before the upgrade"
        ),
        other => other.into(),
    }
}

async fn open_pool(
    options: &AnyConnectOptions,
    dialect: Dialect,
    synchronous: SqliteSynchronous,
    max_connections: u32,
) -> sqlx::Result<sqlx::AnyPool> {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    // WAL lets pages read while the runner writes; the busy timeout turns a
                    // brief writer collision into a short wait instead of "database is locked".
                    let pragmas = format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        synchronous.pragma()
                    );
                    conn.execute(AssertSqlSafe(pragmas)).await?;
                }
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await
}

impl Db {
    /// The same database through `max_connections` connections of its own, for the runner
    /// (SAFETY.md §3): however many page and API reads queue for the main pool, the runner's
    /// lease renewals and outcomes never wait behind them. It shares the SQLite writer queue
    /// and write connection (for `write_tx`) and the commit signal, so write transactions stay
    /// ordered and the live feed still wakes.
    pub async fn with_own_connections(&self, max_connections: u32) -> sqlx::Result<Db> {
        let pool = open_pool(&self.options, self.dialect, self.synchronous, max_connections).await?;
        Ok(Db { pool, options: self.options.clone(), ..self.clone() })
    }

    /// This handle's writes become background work: on SQLite they let requests that are
    /// waiting to write go first, for up to `write_turns::MAX_YIELD` at a time.
    pub fn in_background(mut self) -> Db {
        self.background = true;
        self
    }

    /// Counts a request as waiting for a write that another task makes for it (a group
    /// commit), so background writes step aside for it as for a request at the lock.
    pub fn request_waiting(&self) -> RequestWaiting {
        self.writer.request_waiting()
    }

    /// A transaction that takes the write lock up front where that matters. SQLite cannot
    /// upgrade a reader to a writer once another connection has written
    /// (`SQLITE_BUSY_SNAPSHOT`, which the busy timeout does not retry), so every
    /// read-then-write transaction starts with `BEGIN IMMEDIATE`; PostgreSQL locks rows.
    pub async fn write_tx(&self) -> sqlx::Result<WriteTx> {
        match self.dialect {
            Dialect::Sqlite => {
                let turn = if self.background { self.writer.for_background().await } else { self.writer.for_request().await };
                let tx = self.write_pool.as_ref().unwrap_or(&self.pool).begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx { tx, _turn: Some(turn), committed: std::sync::Arc::clone(&self.committed) })
            }
            Dialect::Postgres => {
                if self.background {
                    self.writer.yield_to_requests().await;
                }
                let tx = self.pool.begin().await?;
                Ok(WriteTx { tx, _turn: None, committed: std::sync::Arc::clone(&self.committed) })
            }
        }
    }

    /// Appended to a `SELECT` whose rows the transaction is about to change, so concurrent
    /// transactions on PostgreSQL queue behind it (SQLite's writer lock already does that).
    pub fn lock_rows(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// As [`Db::lock_rows`], for the rows of one table (`alias`) of a join or a select whose
    /// other parts must not be locked.
    pub fn lock_rows_of(&self, alias: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// Appended to a `SELECT` of rows another table is about to reference, so a concurrent
    /// delete waits for this transaction instead of breaking the reference (SQLite's writer lock
    /// already serialises the two).
    pub fn share_rows(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR SHARE",
        }
    }

    /// A column in a condition the planner must not pick an index for (SQLite's unary `+`;
    /// PostgreSQL's planner needs no such hint, and has no `+` for text).
    pub fn without_index(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("+{column}"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// Appended to the runner's "next queued row" sub-select: instances claiming at once
    /// each take a different row instead of waiting for each other.
    pub fn skip_locked(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A statement assembled at run time from trusted pieces only: the domain's status lists,
/// lock clauses, placeholders. Never from a request's text.
pub fn assembled(sql: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql)
}

/// `$first, $first+1, …`: `n` numbered placeholders, for a list bound value by value.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Milliseconds since the Unix epoch: the unit of every time column.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time column as RFC 3339 (UTC, milliseconds), the API's format.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
