use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::server::db::Db;

/// Up when the database answers (open to everyone, so it says only this much;
/// no addresses, URLs or instance names). The router's reachability is not required: Beacon
/// keeps serving results while a router is down.
pub async fn health(State(db): State<Db>) -> (StatusCode, Json<serde_json::Value>) {
    let database = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&db.pool).await.is_ok();
    let status = if database { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(serde_json::json!({
            "status": if database { "healthy" } else { "unhealthy" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": if database { "ok" } else { "unreachable" },
        })),
    )
}
