use leptos::prelude::*;

use crate::domain::{ApiError, Visitor};

/// Who the pages are rendered for: the top bar's name and log-out button, and whether the
/// actions are offered.
#[server(prefix = "/api/read")]
pub async fn load_visitor() -> Result<Visitor, ApiError> {
    use crate::server::auth;
    auth::allow_server_fn(<LoadVisitor as leptos::server_fn::ServerFn>::PATH).map_err(crate::server::page_request::server_fn_error)?;
    Ok(auth::Caller::from_context().visitor())
}
