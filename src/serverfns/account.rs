use leptos::prelude::*;

use crate::domain::{ApiError, Visitor};

/// Who the pages are rendered for: the top bar's name and log-out button, and whether the
/// actions are offered.
/// Its address is fixed: the access rule opens it to everyone (`policy::VISITOR_FN`).
#[server(prefix = "/api/read", endpoint = "load_visitor")]
pub async fn load_visitor() -> Result<Visitor, ApiError> {
    use crate::server::auth;
    auth::allow_server_fn(<LoadVisitor as leptos::server_fn::ServerFn>::PATH).map_err(crate::server::page_request::server_fn_error)?;
    Ok(auth::Caller::from_context().visitor())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_access_rule_names_the_visitor_function_by_its_address() {
        assert_eq!(<LoadVisitor as leptos::server_fn::ServerFn>::PATH, crate::server::auth::policy::VISITOR_FN);
    }
}
