//! Accounts (SAFETY.md §1): who is calling, and whether they may. One middleware resolves the
//! caller from a bearer token or the session cookie and applies [`policy::needed_role`]; every
//! handler and server function below it can read the [`Caller`] for attribution.

pub mod accounts;
pub mod credentials;
pub mod policy;
pub mod session_cookie;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::{ErrorCode, Role, Visitor};
use crate::server::config::Config;
use crate::server::db;
use crate::server::db::Db;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Accounts are off: everyone may do everything, and nothing is attributed.
    Open,
    /// Accounts are on and no credential was given (or it was not valid).
    Anonymous,
    Account {
        name: String,
        role: Role,
    },
}

impl Caller {
    /// The account name, for attribution and per-account limits.
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Account { name, .. } => Some(name),
            _ => None,
        }
    }

    pub fn may(&self, needed: Role) -> bool {
        match self {
            Caller::Open => true,
            Caller::Anonymous => false,
            Caller::Account { role, .. } => role.allows(needed),
        }
    }

    pub fn visitor(&self) -> Visitor {
        match self {
            Caller::Open => Visitor::OPEN,
            Caller::Anonymous => Visitor { accounts: true, name: None, role: None },
            Caller::Account { name, role } => Visitor { accounts: true, name: Some(name.clone()), role: Some(*role) },
        }
    }

    /// The caller of the server function being run (leptos_axum provides the request parts).
    pub fn from_context() -> Caller {
        leptos::prelude::use_context::<Parts>().and_then(|parts| parts.extensions.get::<Caller>().cloned()).unwrap_or(Caller::Anonymous)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Caller>().cloned().unwrap_or(Caller::Anonymous))
    }
}

/// The check a server function makes where it runs (SAFETY.md §7): the role its own path
/// needs, by the same table the access rule reads, against the caller of the request it runs
/// in. A page rendering on the server calls its functions inside the page's request, so a
/// path that slipped past the access rule still meets this.
pub fn allow_server_fn(path: &str) -> Result<(), crate::server::error::AppError> {
    use crate::server::error::AppError;
    let Some(needed) = policy::needed_role(&axum::http::Method::POST, path) else { return Ok(()) };
    let caller = Caller::from_context();
    if caller.may(needed) {
        return Ok(());
    }
    Err(match caller {
        Caller::Anonymous => AppError::refused(ErrorCode::Unauthenticated, "log in, or send Authorization: Bearer <token>"),
        _ => AppError::refused(ErrorCode::Forbidden, format!("this needs the {needed} role")),
    })
}

/// The credential a request was made with, kept so that what it opened (a live stream) can
/// end when the credential does: logout, the user's removal, a revoked token (SAFETY.md §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The SHA-256 of a session id.
    Session(String),
    /// The SHA-256 of an API token.
    Token(String),
}

impl Credential {
    /// A name for it that reveals nothing (it is a hash already), for signing what belongs
    /// to it.
    pub fn id(&self) -> String {
        match self {
            Credential::Session(hash) => format!("session:{hash}"),
            Credential::Token(hash) => format!("token:{hash}"),
        }
    }

    /// Whether it still names an account.
    pub async fn is_live(&self, db: &db::Db) -> sqlx::Result<bool> {
        Ok(match self {
            Credential::Session(hash) => db::accounts::account_for_session(db, hash).await?.is_some(),
            Credential::Token(hash) => db::accounts::account_for_token(db, hash).await?.is_some(),
        })
    }
}

/// The request's credential, as a handler argument: `None` with accounts off.
pub struct CallerCredential(pub Option<Credential>);

impl<S: Send + Sync> FromRequestParts<S> for CallerCredential {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(CallerCredential(parts.extensions.get::<Credential>().cloned()))
    }
}

/// Resolves the caller, then lets the request through only if the route's role allows it.
pub async fn authenticate(State(config): State<Arc<Config>>, State(db): State<Db>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let needed = policy::needed_role(request.method(), &path);
    let (caller, credential) = if !config.auth {
        (Caller::Open, None)
    } else if path == "/login" || path == policy::VISITOR_FN {
        // Open, but they say who is asking (the top bar): a credential that does not hold
        // makes the caller anonymous here, never a 401.
        identify(&db, request.headers()).await.unwrap_or((Caller::Anonymous, None))
    } else if needed.is_none() {
        // Open routes (health, metrics with its own token) look at no credential: a bearer
        // token meant for something else must not make them answer 401.
        (Caller::Anonymous, None)
    } else {
        match identify(&db, request.headers()).await {
            Ok(identified) => identified,
            Err(response) => return response,
        }
    };
    if let Some(needed) = needed {
        if !caller.may(needed) {
            return refuse(&caller, needed, &request);
        }
    }
    request.extensions_mut().insert(caller);
    if let Some(credential) = credential {
        request.extensions_mut().insert(credential);
    }
    next.run(request).await
}

async fn identify(db: &Db, headers: &axum::http::HeaderMap) -> Result<(Caller, Option<Credential>), Response> {
    let internal = |err: sqlx::Error| {
        tracing::error!(%err, "could not look up a credential");
        json_error(ErrorCode::Unavailable, "could not check credentials; try again")
    };
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = value.trim().strip_prefix("Bearer ").or_else(|| value.trim().strip_prefix("bearer ")).map(str::trim);
        let hash = token.filter(|token| !token.is_empty()).map(credentials::sha256_hex);
        let account = match &hash {
            Some(hash) => db::accounts::account_for_token(db, hash).await.map_err(internal)?,
            None => None,
        };
        // A wrong token is an error even on a page: the caller meant to authenticate.
        return match (account, hash) {
            (Some(account), Some(hash)) => Ok((Caller::Account { name: account.name, role: account.role }, Some(Credential::Token(hash)))),
            _ => Err(json_error(ErrorCode::Unauthenticated, "the bearer token is not valid")),
        };
    }
    let session = headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).find_map(session_cookie::find);
    if let Some(session) = session {
        let hash = credentials::sha256_hex(&session);
        let account = db::accounts::account_for_session(db, &hash).await.map_err(internal)?;
        if let Some(account) = account {
            return Ok((Caller::Account { name: account.name, role: account.role }, Some(Credential::Session(hash))));
        }
    }
    Ok((Caller::Anonymous, None))
}

fn refuse(caller: &Caller, needed: Role, request: &Request) -> Response {
    let path = request.uri().path();
    // `/api/docs` is a page of the app, for people, like everything outside `/api/`.
    let wants_page = (!path.starts_with("/api/") || path == "/api/docs") && request.method() == axum::http::Method::GET;
    match caller {
        Caller::Anonymous if wants_page => {
            let next = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let target: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
            Redirect::to(&format!("/login?{target}")).into_response()
        }
        Caller::Anonymous => json_error(ErrorCode::Unauthenticated, "log in, or send Authorization: Bearer <token>"),
        _ => json_error(ErrorCode::Forbidden, format!("this needs the {needed} role")),
    }
}

fn json_error(code: ErrorCode, message: impl Into<String>) -> Response {
    let mut response = crate::server::error::error_response(code, message);
    if code == ErrorCode::Unauthenticated {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    response
}
