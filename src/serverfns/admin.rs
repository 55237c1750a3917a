//! The admin page's calls (SAFETY.md §1): users and tokens. Under `/api/admin`, which the
//! access policy reserves for admins; the rules are the same functions `beacon users …` and
//! `beacon tokens …` use.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{ApiError, Role};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// A token as the page lists it: never the token itself, which exists in the clear only once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub prefix: String,
    pub user: String,
    pub label: Option<String>,
    pub created_at: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accounts {
    pub users: Vec<UserView>,
    pub tokens: Vec<TokenView>,
}

#[server(prefix = "/api/admin")]
pub async fn load_accounts() -> Result<Accounts, ApiError> {
    use crate::server::db::{accounts, rfc3339};
    super::serve(<LoadAccounts as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let users = accounts::users(&state.db)
            .await?
            .into_iter()
            .map(|u| UserView { name: u.name, role: u.role, created_at: rfc3339(u.created_at) })
            .collect();
        let tokens = accounts::tokens(&state.db)
            .await?
            .into_iter()
            .map(|t| TokenView {
                prefix: t.prefix,
                user: t.user_name,
                label: t.label,
                created_at: rfc3339(t.created_at),
                revoked: t.revoked_at.is_some(),
            })
            .collect();
        Ok(Accounts { users, tokens })
    })
    .await
}

#[server(prefix = "/api/admin")]
pub async fn add_user(name: String, role: String, password: String) -> Result<String, ApiError> {
    use crate::server::auth::accounts;
    use crate::server::error::AppError;
    super::serve(<AddUser as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let role = Role::parse(&role).ok_or_else(|| AppError::invalid_request("role: viewer, researcher or admin"))?;
        accounts::add_user(&state.db, name.trim(), role, &password).await?;
        crate::server::page_request::back_with_notice(&state.notice_key, &format!("Added {} ({role})", name.trim()));
        Ok(name)
    })
    .await
}

#[server(prefix = "/api/admin")]
pub async fn remove_user(name: String) -> Result<String, ApiError> {
    use crate::server::auth::{accounts, Caller};
    use crate::server::error::AppError;
    super::serve(<RemoveUser as leptos::server_fn::ServerFn>::PATH, |state| async move {
        if Caller::from_context().account() == Some(name.as_str()) {
            return Err(AppError::refused(crate::domain::ErrorCode::OwnAccount, "you cannot remove your own account"));
        }
        accounts::remove_user(&state.db, &name).await?;
        crate::server::page_request::back_with_notice(&state.notice_key, &format!("Removed {name}"));
        Ok(name)
    })
    .await
}

/// Returns the new token: the page shows it once.
#[server(prefix = "/api/admin")]
pub async fn create_token(user: String, label: Option<String>) -> Result<String, ApiError> {
    use crate::server::auth::accounts;
    super::serve(<CreateToken as leptos::server_fn::ServerFn>::PATH, |state| async move {
        accounts::create_token(&state.db, &user, label.as_deref()).await
    })
    .await
}

#[server(prefix = "/api/admin")]
pub async fn revoke_token(prefix: String) -> Result<String, ApiError> {
    use crate::server::auth::accounts;
    super::serve(<RevokeToken as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let revoked = accounts::revoke_token(&state.db, &prefix).await?;
        crate::server::page_request::back_with_notice(&state.notice_key, &format!("Revoked {revoked}…"));
        Ok(revoked)
    })
    .await
}
