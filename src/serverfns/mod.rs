//! Server functions: the pages' calls into the server, and the targets of their forms (with
//! or without JavaScript). Each is a public endpoint, so each parses its arguments like a REST
//! handler, calls the same service, and answers errors as [`ApiError`]s that keep their HTTP
//! status and code.

pub mod account;
pub mod admin;
pub mod analysis;
pub mod api_docs;
pub mod jobs;
pub mod questions;
pub mod retries;

#[cfg(feature = "ssr")]
use crate::domain::ApiError;
#[cfg(feature = "ssr")]
use crate::server::{error::AppError, state::AppState};

/// Runs `work` with the server's state and maps its error once, for every server function.
///
/// `path` is the function's own address (`<Fn as leptos::server_fn::ServerFn>::PATH`): the role it needs is read
/// from the same table the access rule uses (`auth::policy`) and checked here, where the
/// function runs, whoever calls it: a page rendering on the server, a form, a fetch
/// (SAFETY.md §7, "Roles at the function, too").
#[cfg(feature = "ssr")]
async fn serve<T, Work, Done>(path: &str, work: Work) -> Result<T, ApiError>
where
    Work: FnOnce(AppState) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    let result = match (crate::server::auth::allow_server_fn(path), AppState::from_context()) {
        (Err(refused), _) | (Ok(()), Err(refused)) => Err(refused),
        (Ok(()), Ok(state)) => work(state).await,
    };
    result.map_err(crate::server::page_request::server_fn_error)
}
