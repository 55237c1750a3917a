//! Which role each route needs: written once, by path and method, so a new route is covered
//! the day it is added. viewer reads, researcher changes studies, admin manages accounts.

use axum::http::Method;

use crate::domain::Role;

/// Server functions that only read carry this prefix: they are POSTs (Leptos' default), but
/// a viewer may call them.
pub const READ_FNS: &str = "/api/read";
/// The top bar's question "who is this?" (`serverfns::account::load_visitor`).
pub const VISITOR_FN: &str = "/api/read/load_visitor";
/// Server functions and routes for managing accounts.
pub const ADMIN_FNS: &str = "/api/admin";

/// `None`: open to everyone (health, the login page, the app's static files).
pub fn needed_role(method: &Method, path: &str) -> Option<Role> {
    let open = path == "/health"
        // Guarded by its own token when BEACON_METRICS_TOKEN is set.
        || path == "/metrics"
        || path == "/login"
        // Who is asking: the login page asks it before anyone is known.
        || path == VISITOR_FN
        || path == "/logout"
        || path.starts_with("/pkg/")
        || path == "/favicon.ico";
    if open {
        return None;
    }
    let admin = path == "/admin" || path.starts_with("/admin/") || under(path, ADMIN_FNS);
    if admin {
        return Some(Role::Admin);
    }
    if changes_something(method, path) {
        Some(Role::Researcher)
    } else {
        Some(Role::Viewer)
    }
}

/// Whether a request may change a study: a mutating method, except the read-only server
/// functions. The rate limit counts these.
pub fn changes_something(method: &Method, path: &str) -> bool {
    super::super::http::is_mutation(method) && !under(path, READ_FNS)
}

/// `path` is `prefix` or below it (`/api/read/x`, not `/api/readme`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_route_has_its_role() {
        assert_eq!(needed_role(&Method::GET, "/health"), None);
        assert_eq!(needed_role(&Method::POST, "/login"), None);
        assert_eq!(needed_role(&Method::GET, "/pkg/beacon.wasm"), None);
        assert_eq!(needed_role(&Method::GET, "/"), Some(Role::Viewer));
        assert_eq!(needed_role(&Method::GET, "/api/v1/jobs/x"), Some(Role::Viewer));
        assert_eq!(needed_role(&Method::POST, "/api/read/load_job_page"), Some(Role::Viewer));
        assert_eq!(needed_role(&Method::POST, "/api/v1/jobs"), Some(Role::Researcher));
        assert_eq!(needed_role(&Method::POST, "/api/retry_execution"), Some(Role::Researcher));
        assert_eq!(needed_role(&Method::DELETE, "/api/v1/jobs/x"), Some(Role::Researcher));
        assert_eq!(needed_role(&Method::GET, "/admin"), Some(Role::Admin));
        assert_eq!(needed_role(&Method::POST, "/api/admin/add_user"), Some(Role::Admin));
        assert_eq!(needed_role(&Method::POST, "/api/readme"), Some(Role::Researcher));
    }
}
