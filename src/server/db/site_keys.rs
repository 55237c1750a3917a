//! Secrets every instance shares (`site_keys`): made by whichever instance needs one first,
//! read by the rest.

use super::Db;

/// The key named `name`, made from `fresh` if no instance has made it yet.
pub async fn get_or_create(db: &Db, name: &str, fresh: &str) -> sqlx::Result<String> {
    // Two instances starting at once both insert; the second insert does nothing and both
    // read the first one's key.
    sqlx::query("INSERT INTO site_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING").bind(name).bind(fresh).execute(&db.pool).await?;
    sqlx::query_scalar("SELECT value FROM site_keys WHERE name = $1").bind(name).fetch_one(&db.pool).await
}
