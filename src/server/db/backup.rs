//! `beacon backup FILE` (OPERATIONS.md §4): a consistent copy of a running SQLite database,
//! made by SQLite itself (`VACUUM INTO`, one read transaction) while Beacon keeps serving.

use std::path::Path;

use sqlx::ConnectOptions;

use crate::server::config::ConfigError;

/// Writes the copy; refuses to overwrite an existing file. On PostgreSQL there is nothing to do
/// here: `pg_dump` is the tool, and saying so is a usage error (exit 2). The database is opened
/// as it is, never migrated: a backup taken before an upgrade is of the schema that ran.
pub async fn to_file(database_url: &str, file: &Path) -> anyhow::Result<u64> {
    if !database_url.starts_with("sqlite:") {
        return Err(ConfigError::invalid(
            "DATABASE_URL",
            "postgres",
            "is PostgreSQL: back it up with pg_dump, e.g. pg_dump -Fc -f beacon.dump \"$DATABASE_URL\"",
        )
        .into());
    }
    let path = file.to_str().ok_or_else(|| anyhow::anyhow!("{}: the path must be UTF-8", file.display()))?;
    // Made empty first, readable by its owner only (SAFETY.md §7: it holds every answer and
    // the accounts' hashes); VACUUM INTO fills an empty file it is given.
    create_private(file).map_err(|err| match err.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!("{} already exists; choose a new file (a backup never overwrites one)", file.display()),
        _ => anyhow::anyhow!("{}: {err}", file.display()),
    })?;
    let options: sqlx::sqlite::SqliteConnectOptions = database_url.parse()?;
    let mut conn = options.create_if_missing(false).read_only(true).connect().await?;
    // VACUUM INTO takes the file name as an expression: bound as a parameter, never spliced.
    if let Err(err) = sqlx::query("VACUUM INTO $1").bind(path).execute(&mut conn).await {
        // Leave no empty file behind that a second attempt would refuse to overwrite.
        let _ = std::fs::remove_file(file);
        return Err(err.into());
    }
    Ok(std::fs::metadata(file)?.len())
}

fn create_private(file: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)
}
