//! Users, API tokens, sessions and failed logins (SAFETY.md §1). Secrets are stored only as
//! hashes made by `server::auth::secrets`; this module never sees a token in the clear.

use sqlx::FromRow;

use super::{now_ms, Db};
use crate::domain::Role;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_name: String,
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The account a credential belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub name: String,
    pub role: Role,
}

pub async fn add_user(db: &Db, name: &str, role: Role, password_hash: &str) -> sqlx::Result<bool> {
    let result = sqlx::query("INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(role)
        .bind(password_hash)
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn user(db: &Db, name: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("SELECT id, name, role, password_hash, created_at FROM users WHERE name = $1").bind(name).fetch_optional(&db.pool).await
}

pub async fn users(db: &Db) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as("SELECT id, name, role, password_hash, created_at FROM users ORDER BY name").fetch_all(&db.pool).await
}

/// Removes the user with their tokens and sessions (by the foreign keys' cascade).
pub async fn remove_user(db: &Db, name: &str) -> sqlx::Result<bool> {
    let mut tx = db.write_tx().await?;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
    let Some(id) = id else { return Ok(false) };
    // Said explicitly as well: SQLite enforces the cascade only with foreign keys on.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn add_token(db: &Db, user_id: i64, prefix: &str, token_hash: &str, label: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO api_tokens (user_id, prefix, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id)
        .bind(prefix)
        .bind(token_hash)
        .bind(label)
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn tokens(db: &Db) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as(
        "SELECT t.id, u.name AS user_name, t.prefix, t.label, t.created_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id",
    )
    .fetch_all(&db.pool)
    .await
}

/// The live tokens whose prefix starts with `prefix`.
pub async fn tokens_with_prefix(db: &Db, prefix: &str) -> sqlx::Result<Vec<TokenRow>> {
    let all = tokens(db).await?;
    Ok(all.into_iter().filter(|t| t.revoked_at.is_none() && t.prefix.starts_with(prefix)).collect())
}

pub async fn revoke_token(db: &Db, id: i64) -> sqlx::Result<bool> {
    let result =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL").bind(now_ms()).bind(id).execute(&db.pool).await?;
    Ok(result.rows_affected() == 1)
}

pub async fn account_for_token(db: &Db, token_hash: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(
        "SELECT u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

pub async fn add_session(db: &Db, id_hash: &str, user_id: i64, expires_at: i64) -> sqlx::Result<()> {
    let now = now_ms();
    // Expired sessions go when new ones come: the table holds only what can still be used.
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&db.pool).await?;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn account_for_session(db: &Db, id_hash: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as("SELECT u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2")
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(&db.pool)
        .await
}

pub async fn remove_session(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&db.pool).await?;
    Ok(())
}

/// What [`count_login_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Counted as a failure until the password proves right: the row to forget then.
    Counted(i64),
    /// Too many failures; free again at this time (ms).
    Throttled { free_at: i64 },
}

/// The failed-login bounds: `per_pair` for one (address, name), `per_name` for a name from
/// anywhere, both within `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct LoginBounds {
    pub per_pair: usize,
    pub per_name: usize,
    pub window_ms: i64,
}

/// Counts this login's earlier failures and, unless a bound is reached, records the login as a
/// failure (until the password proves right), all in one write transaction: however many
/// attempts arrive at once, at most the bound get past the count (SAFETY.md §7).
pub async fn count_login_attempt(db: &Db, user_name: &str, address: &str, bounds: LoginBounds) -> sqlx::Result<LoginAttempt> {
    let now = now_ms();
    let since = now - bounds.window_ms;
    let mut tx = db.write_tx().await?;
    if db.dialect == super::Dialect::Postgres {
        // Attempts at one name queue here (SQLite's writer lock already serialises them).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(format!("login:{user_name}")).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(since).execute(&mut *tx).await?;
    let failures: Vec<(String, i64)> = sqlx::query_as("SELECT address, at FROM login_failures WHERE user_name = $1 AND at >= $2 ORDER BY at")
        .bind(user_name)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
    let by_name: Vec<i64> = failures.iter().map(|(_, at)| *at).collect();
    let by_pair: Vec<i64> = failures.iter().filter(|(a, _)| a == address).map(|(_, at)| *at).collect();
    // Free again when the oldest failure that counts leaves the window.
    let free_at = [(&by_pair, bounds.per_pair), (&by_name, bounds.per_name)]
        .into_iter()
        .filter(|(times, bound)| times.len() >= *bound)
        .map(|(times, bound)| times[times.len() - bound] + bounds.window_ms)
        .max();
    if let Some(free_at) = free_at {
        return Ok(LoginAttempt::Throttled { free_at });
    }
    let id = sqlx::query_scalar("INSERT INTO login_failures (user_name, address, at) VALUES ($1, $2, $3) RETURNING id")
        .bind(user_name)
        .bind(address)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(LoginAttempt::Counted(id))
}

pub async fn forget_login_failure(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(id).execute(&db.pool).await?;
    Ok(())
}
