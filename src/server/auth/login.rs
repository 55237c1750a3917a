//! `GET /login`, `POST /login`, `POST /logout` (SAFETY.md §1). Plain HTML forms rendered here,
//! not by the app: they must answer a wrong password with the form and a 401, work without
//! JavaScript, and set or clear the session cookie.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::{credentials, session_cookie};
use crate::server::db::accounts::{LoginAttempt, LoginBounds};
use crate::server::db::{self, now_ms};
use crate::server::http::html::{self, escape};
use crate::server::http::ClientIp;
use std::sync::Arc;

use crate::server::config::Config;
use crate::server::db::Db;

/// Failed logins allowed in ten minutes (SAFETY.md §7): 5 for one (address, name), and 20
/// for a name from anywhere, so one client cannot lock out a colleague who types the right
/// password, and many clients together still cannot guess much.
const BOUNDS: LoginBounds = LoginBounds { per_pair: 5, per_name: 20, window_ms: 10 * 60 * 1000 };
const WRONG: &str = "wrong user name or password";

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn page(State(config): State<Arc<Config>>, Query(query): Query<LoginQuery>) -> Response {
    if !config.auth {
        // Accounts are off: there is nobody to be.
        return see_other("/", None);
    }
    form(StatusCode::OK, "", &safe_next(query.next.as_deref()), None)
}

pub async fn log_in(State(config): State<Arc<Config>>, State(db): State<Db>, ClientIp(client): ClientIp, Form(login): Form<LoginForm>) -> Response {
    if !config.auth {
        return see_other("/", None);
    }
    let next = safe_next(login.next.as_deref());
    let name = login.username.trim();
    let address = client.to_string();
    // Counted before the password is checked, in the same transaction as the count, so that
    // many guesses at once cannot all pass it; a correct password takes its failure back.
    let pending_failure = match db::accounts::count_login_attempt(&db, name, &address, BOUNDS).await {
        Ok(LoginAttempt::Counted(id)) => id,
        Ok(LoginAttempt::Throttled { free_at }) => {
            let wait = ((free_at - now_ms()).max(1000) + 999) / 1000;
            let mut response = form(StatusCode::TOO_MANY_REQUESTS, name, &next, Some("too many failed logins; try again later"));
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
            return response;
        }
        Err(err) => return unavailable(err),
    };
    let user = match db::accounts::user(&db, name).await {
        Ok(user) => user,
        Err(err) => return unavailable(err),
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let Ok(verified) = credentials::verify_password_bounded(login.password, stored).await else {
        let mut response =
            form(StatusCode::SERVICE_UNAVAILABLE, name, &next, Some("Beacon is checking many logins right now; try again in a few seconds"));
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        return response;
    };
    let user = match user {
        Some(user) if verified => user,
        Some(_) => {
            tracing::warn!(user = name, %address, "failed login");
            return form(StatusCode::UNAUTHORIZED, name, &next, Some(WRONG));
        }
        None => {
            // A name that is no account is not logged: it may be a password typed in the wrong box.
            tracing::warn!(%address, "failed login for a name that is no account");
            return form(StatusCode::UNAUTHORIZED, name, &next, Some(WRONG));
        }
    };
    if let Err(err) = db::accounts::forget_login_failure(&db, pending_failure).await {
        return unavailable(err);
    }
    let session = credentials::random_secret();
    let expires = now_ms() + session_cookie::LIFETIME_MS;
    if let Err(err) = db::accounts::add_session(&db, &credentials::sha256_hex(&session), user.id, expires).await {
        return unavailable(err);
    }
    tracing::info!(user = %user.name, "logged in");
    see_other(&next, Some(session_cookie::set(&session, secure(&config))))
}

pub async fn log_out(State(config): State<Arc<Config>>, State(db): State<Db>, headers: HeaderMap) -> Response {
    let session = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(session_cookie::find);
    if let Some(session) = session {
        if let Err(err) = db::accounts::remove_session(&db, &credentials::sha256_hex(&session)).await {
            return unavailable(err);
        }
    }
    let target = if config.auth { "/login" } else { "/" };
    see_other(target, Some(session_cookie::clear(secure(&config))))
}

fn secure(config: &Config) -> bool {
    config.public_url.as_ref().is_some_and(|public| public.https)
}

/// Only a path on this site: never `//elsewhere`, a scheme, or a backslash trick.
fn safe_next(next: Option<&str>) -> String {
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

fn unavailable(err: sqlx::Error) -> Response {
    tracing::error!(%err, "login could not reach the database");
    form(StatusCode::SERVICE_UNAVAILABLE, "", "/", Some("Beacon cannot check logins right now; try again shortly"))
}

fn form(status: StatusCode, name: &str, next: &str, problem: Option<&str>) -> Response {
    let problem = problem.map(|p| format!(r#"<p class="error-banner" role="alert" data-testid="login-error">{}</p>"#, escape(p))).unwrap_or_default();
    let main = format!(
        r#"<section class="card login"><h1>Log in</h1>{problem}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>User name <input name="username" autocomplete="username" required value="{name}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form></section>"#,
        next = escape(next),
        name = escape(name),
    );
    let body = html::page("Log in", &main);
    let mut response = (status, Html(body)).into_response();
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
