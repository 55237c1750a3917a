//! `POST /login`, `POST /logout` (SAFETY.md §1): the login form's target and the top bar's
//! "Log out". The form itself is the app's `/login` page (`pages/login.rs`); a refused login
//! answers with that same page drawn again, with the problem and the name typed, and the
//! refusal's status (401, 429, 503), so it works the same without JavaScript.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::domain::LoginRefusal;
use crate::server::auth::{credentials, session_cookie};
use crate::server::db::accounts::{LoginAttempt, LoginBounds};
use crate::server::db::{self, now_ms};
use crate::server::http::ClientIp;
use std::sync::Arc;

use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::page;
use crate::server::state::AppState;

/// Failed logins allowed in ten minutes (SAFETY.md §7): 5 for one (address, name), and 20
/// for a name from anywhere, so one client cannot lock out a colleague who types the right
/// password, and many clients together still cannot guess much.
const BOUNDS: LoginBounds = LoginBounds { per_pair: 5, per_name: 20, window_ms: 10 * 60 * 1000 };
const WRONG: &str = "wrong user name or password";

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn log_in(State(state): State<AppState>, parts: Parts, ClientIp(client): ClientIp, Form(login): Form<LoginForm>) -> Response {
    if !state.config.auth {
        return see_other("/", None);
    }
    let next = safe_next(login.next.as_deref());
    let name = login.username.trim().to_string();
    match check(&state.db, &name, login.password, &client.to_string()).await {
        Ok(session) => see_other(&next, Some(session_cookie::set(&session, secure(&state.config)))),
        Err(Refused { status, problem, retry_after }) => {
            let refusal = LoginRefusal { problem: problem.to_string(), name, next };
            let mut response = page::drawn_again(&state, parts, "/login", refusal, status).await;
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            }
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
    }
}

/// Why a login was refused: the status, the sentence, and when to try again.
struct Refused {
    status: StatusCode,
    problem: &'static str,
    retry_after: Option<i64>,
}

impl Refused {
    fn unavailable(err: sqlx::Error) -> Refused {
        tracing::error!(%err, "login could not reach the database");
        Refused { status: StatusCode::SERVICE_UNAVAILABLE, problem: "Beacon cannot check logins right now; try again shortly", retry_after: None }
    }
}

/// Checks the name and password and opens a session: its secret, for the cookie.
async fn check(db: &Db, name: &str, password: String, address: &str) -> Result<String, Refused> {
    // A name no account can have is wrong without a look-up: nothing is written for it, so
    // made-up names (60,000 characters each) cannot fill the failure log.
    if crate::server::auth::accounts::check_name(name).is_err() {
        return Err(Refused { status: StatusCode::UNAUTHORIZED, problem: WRONG, retry_after: None });
    }
    // Counted before the password is checked, in the same transaction as the count, so that
    // many guesses at once cannot all pass it; a correct password takes its failure back.
    let pending_failure = match db::accounts::count_login_attempt(db, name, address, BOUNDS).await.map_err(Refused::unavailable)? {
        LoginAttempt::Counted(id) => id,
        LoginAttempt::Throttled { free_at } => {
            let wait = ((free_at - now_ms()).max(1000) + 999) / 1000;
            return Err(Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                problem: "too many failed logins; try again later",
                retry_after: Some(wait),
            });
        }
    };
    let user = db::accounts::user(db, name).await.map_err(Refused::unavailable)?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let Ok(verified) = credentials::verify_password_bounded(password, stored).await else {
        let problem = "Beacon is checking many logins right now; try again in a few seconds";
        return Err(Refused { status: StatusCode::SERVICE_UNAVAILABLE, problem, retry_after: Some(5) });
    };
    let wrong = Refused { status: StatusCode::UNAUTHORIZED, problem: WRONG, retry_after: None };
    let user = match user {
        Some(user) if verified => user,
        Some(_) => {
            tracing::warn!(user = name, %address, "failed login");
            return Err(wrong);
        }
        None => {
            // A name that is no account is not logged: it may be a password typed in the wrong box.
            tracing::warn!(%address, "failed login for a name that is no account");
            return Err(wrong);
        }
    };
    db::accounts::forget_login_failure(db, pending_failure).await.map_err(Refused::unavailable)?;
    let session = credentials::random_secret();
    let expires = now_ms() + session_cookie::LIFETIME_MS;
    db::accounts::add_session(db, &credentials::sha256_hex(&session), user.id, expires).await.map_err(Refused::unavailable)?;
    tracing::info!(user = %user.name, "logged in");
    Ok(session)
}

pub async fn log_out(State(config): State<Arc<Config>>, State(db): State<Db>, headers: HeaderMap) -> Response {
    let session = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(session_cookie::find);
    if let Some(session) = session {
        if let Err(err) = db::accounts::remove_session(&db, &credentials::sha256_hex(&session)).await {
            tracing::error!(%err, "logout could not reach the database");
            return (StatusCode::SERVICE_UNAVAILABLE, "Beacon cannot log you out right now; try again shortly").into_response();
        }
    }
    let target = if config.auth { "/login" } else { "/" };
    see_other(target, Some(session_cookie::clear(secure(&config))))
}

fn secure(config: &Config) -> bool {
    config.public_url.as_ref().is_some_and(|public| public.https)
}

/// Only a path on this site: never `//elsewhere`, a scheme, or a backslash trick.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // Visible ASCII only: browsers drop tabs and newlines from a Location, so `/\t/evil`
        // would become `//evil`.
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.starts_with("/login")
                && next.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            next.to_string()
        }
        _ => "/".to_string(),
    }
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_string())]).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/jobs/abc?status=failed")), "/jobs/abc?status=failed");
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/login?next=/", "/\t/evil.example", "/\n/x"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
