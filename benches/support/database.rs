//! Which database a benchmark runs on: a fresh SQLite file by default, or a fresh database on
//! the PostgreSQL server named by `BENCH_POSTGRES` (`postgres://user@host:port`;
//! `scripts/bench.sh` starts a throwaway one).

/// A new, empty database's URL; a SQLite file lives in `dir`.
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match postgres_server() {
        Some(server) => {
            use sqlx::{Connection, Executor};
            sqlx::any::install_default_drivers();
            let name = format!("beacon_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::AnyConnection::connect(&format!("{server}/postgres")).await.unwrap();
            admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
            format!("{server}/{name}")
        }
        None => format!("sqlite:{}", dir.path().join("bench.db").display()),
    }
}

/// The database's name, for the benchmark's heading.
pub fn database_name() -> &'static str {
    if postgres_server().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn postgres_server() -> Option<String> {
    std::env::var("BENCH_POSTGRES").ok().filter(|server| !server.is_empty())
}
