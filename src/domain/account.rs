//! Who is asking (SAFETY.md §1), as the pages need to know it: roles in order of what they may
//! do, and the visitor a page is rendered for.

use serde::{Deserialize, Serialize};

use super::text_enum::text_enum;

text_enum! {
    /// Each role may do everything the ones before it may.
    pub enum Role {
        /// Reads everything.
        Viewer = "viewer",
        /// Also creates jobs and questions, retries and cancels.
        Researcher = "researcher",
        /// Also manages users and tokens.
        Admin = "admin",
    }
}

impl Role {
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// A login the server refused, drawn on the login page it answers with: the sentence, the
/// name as typed (never the password), and where to go once logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRefusal {
    pub problem: String,
    pub name: String,
    pub next: String,
}

/// The person a page is rendered for. With accounts off everyone may do everything and has
/// no name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub accounts: bool,
    pub name: Option<String>,
    pub role: Option<Role>,
}

impl Visitor {
    pub const OPEN: Visitor = Visitor { accounts: false, name: None, role: None };

    pub fn may(&self, needed: Role) -> bool {
        !self.accounts || self.role.is_some_and(|role| role.allows(needed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.allows(Role::Researcher));
        assert!(Role::Researcher.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Researcher));
        assert!(!Role::Researcher.allows(Role::Admin));
        let viewer = Visitor { accounts: true, name: Some("v".into()), role: Some(Role::Viewer) };
        assert!(viewer.may(Role::Viewer) && !viewer.may(Role::Researcher));
        assert!(Visitor::OPEN.may(Role::Admin));
    }
}
