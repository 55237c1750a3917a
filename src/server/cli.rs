//! `beacon users …` and `beacon tokens …` (SAFETY.md §1): account management from the shell,
//! on the database `DATABASE_URL` names, through the same rules as the admin page.

use std::io::Read;

use anyhow::{bail, Context};

use super::auth::accounts;
use super::config::Config;
use super::db::{self, Db};
use crate::domain::Role;

const USERS: &str = "usage: beacon users add NAME --role viewer|researcher|admin  (password on standard input)
       beacon users list
       beacon users remove NAME";
const TOKENS: &str = "usage: beacon tokens create NAME [--label TEXT]
       beacon tokens revoke TOKEN_PREFIX";

async fn database() -> anyhow::Result<Db> {
    let config = Config::from_env()?;
    db::connect_with(&config.database_url, config.sqlite_synchronous).await
}

pub async fn users(args: &[String]) -> anyhow::Result<()> {
    match args {
        [add, name, flag, role] if add == "add" && flag == "--role" => {
            let role = Role::parse(role).with_context(|| format!("--role {role:?}: expected viewer, researcher or admin"))?;
            let password = read_password()?;
            let db = database().await?;
            accounts::add_user(&db, name, role, &password).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            println!("added {name} ({role})");
        }
        [list] if list == "list" => {
            let db = database().await?;
            for user in db::accounts::users(&db).await? {
                println!("{}\t{}\tsince {}", user.name, user.role, db::rfc3339(user.created_at));
            }
        }
        [remove, name] if remove == "remove" => {
            let db = database().await?;
            accounts::remove_user(&db, name).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            println!("removed {name}, with their tokens and sessions");
        }
        _ => bail!("{USERS}"),
    }
    Ok(())
}

pub async fn tokens(args: &[String]) -> anyhow::Result<()> {
    match args {
        [create, name, rest @ ..] if create == "create" => {
            let label = match rest {
                [] => None,
                [flag, label] if flag == "--label" => Some(label.as_str()),
                _ => bail!("{TOKENS}"),
            };
            let db = database().await?;
            let token = accounts::create_token(&db, name, label).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            // The only time the token exists in the clear: on standard output, nowhere else.
            println!("{token}");
        }
        [revoke, prefix] if revoke == "revoke" => {
            let db = database().await?;
            let revoked = accounts::revoke_token(&db, prefix).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            eprintln!("revoked the token {revoked}…");
        }
        _ => bail!("{TOKENS}"),
    }
    Ok(())
}

/// The password from standard input: one line (a trailing newline is not part of it).
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("reading the password from standard input")?;
    let password = input.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&input);
    if password.contains('\n') {
        bail!("the password on standard input must be one line");
    }
    Ok(password.to_string())
}
