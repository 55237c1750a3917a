//! Server functions: the pages' calls into the server, and the targets of their forms (with
//! or without JavaScript). Each is a public endpoint, so each parses its arguments like a REST
//! handler, calls the same service, and answers errors as [`ApiError`]s that keep their HTTP
//! status and code.

pub mod account;
pub mod admin;
pub mod analysis;
pub mod jobs;
pub mod retries;

#[cfg(feature = "ssr")]
use crate::domain::ApiError;
#[cfg(feature = "ssr")]
use crate::server::{error::AppError, state::AppState};

/// Runs `work` with the server's state and maps its error once, for every server function.
#[cfg(feature = "ssr")]
async fn serve<T, Work, Done>(work: Work) -> Result<T, ApiError>
where
    Work: FnOnce(AppState) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    let result = match AppState::from_context() {
        Ok(state) => work(state).await,
        Err(err) => Err(err),
    };
    result.map_err(AppError::into_server_fn_error)
}
