use leptos::prelude::*;

use crate::domain::{ApiError, Visitor};

/// Who the pages are rendered for: the top bar's name and log-out button, and whether the
/// actions are offered.
#[server(prefix = "/api/read")]
pub async fn load_visitor() -> Result<Visitor, ApiError> {
    Ok(crate::server::auth::Caller::from_context().visitor())
}
