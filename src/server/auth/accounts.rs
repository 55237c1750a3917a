//! Managing accounts: the `beacon users …` / `beacon tokens …` commands and the admin page both
//! call these, so the rules (names, password length, one printing of a token) are said once.

use crate::domain::Role;
use crate::server::db::{self, Db};
use crate::server::error::AppError;

use super::credentials::{self, MIN_PASSWORD_CHARS};

pub fn check_name(name: &str) -> Result<(), AppError> {
    let fine = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if fine {
        Ok(())
    } else {
        Err(AppError::invalid_request("user name: 1–64 characters, letters, digits, . _ - @"))
    }
}

pub async fn add_user(db: &Db, name: &str, role: Role, password: &str) -> Result<(), AppError> {
    check_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid_request(format!("password: at least {MIN_PASSWORD_CHARS} characters")));
    }
    let hash = credentials::hash_password(password).map_err(AppError::Internal)?;
    if db::accounts::add_user(db, name, role, &hash).await? {
        Ok(())
    } else {
        Err(AppError::refused(crate::domain::ErrorCode::UserExists, format!("a user named {name:?} already exists")))
    }
}

pub async fn remove_user(db: &Db, name: &str) -> Result<(), AppError> {
    if db::accounts::remove_user(db, name).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no user named {name:?}")))
    }
}

/// Makes a token for `user` and returns it: the only time it exists in the clear.
pub async fn create_token(db: &Db, user: &str, label: Option<&str>) -> Result<String, AppError> {
    let Some(user) = db::accounts::user(db, user).await? else {
        return Err(AppError::NotFound(format!("no user named {user:?}")));
    };
    let label = label.map(str::trim).filter(|l| !l.is_empty());
    if label.is_some_and(|l| l.chars().count() > 200) {
        return Err(AppError::invalid_request("label: at most 200 characters"));
    }
    let (token, prefix) = credentials::new_token();
    db::accounts::add_token(db, user.id, &prefix, &credentials::sha256_hex(&token), label).await?;
    Ok(token)
}

/// Revokes the one live token whose first characters are `prefix` (at least 8 of them).
pub async fn revoke_token(db: &Db, prefix: &str) -> Result<String, AppError> {
    let prefix = prefix.trim();
    // A whole token pasted in names its own prefix.
    let prefix = if prefix.starts_with("bcn_") { prefix.get(..12).unwrap_or(prefix) } else { prefix };
    if prefix.len() < 8 {
        return Err(AppError::invalid_request("token prefix: give at least its first 8 characters"));
    }
    let matching = db::accounts::tokens_with_prefix(db, prefix).await?;
    match matching.as_slice() {
        [] => Err(AppError::NotFound(format!("no live token starts with {prefix:?}"))),
        [one] => {
            db::accounts::revoke_token(db, one.id).await?;
            Ok(one.prefix.clone())
        }
        _ => Err(AppError::refused(
            crate::domain::ErrorCode::AmbiguousPrefix,
            format!("{} tokens start with {prefix:?}; give more characters", matching.len()),
        )),
    }
}
