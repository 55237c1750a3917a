//! The `beacon` command line: what each subcommand takes, parsed by clap, and the account
//! commands (SAFETY.md §1), which work on the database `DATABASE_URL` names through the same
//! rules as the admin page.

use std::io::Read;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use super::auth::accounts;
use super::config::Config;
use super::db::{self, Db};
use crate::domain::Role;

/// Beacon: cross-region LLM bias studies. Configured by environment variables (see the README).
#[derive(Debug, Parser)]
#[command(name = "beacon", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Beacon (the default).
    Serve,
    /// Serve only the demo inference router, for tests and for pointing another Beacon at it.
    DemoRouter {
        #[arg(long, default_value = "127.0.0.1:8095", value_name = "HOST:PORT")]
        addr: std::net::SocketAddr,
    },
    /// Recount every job's progress from its executions (DATABASE_URL) and repair counters that
    /// drifted.
    Check,
    /// Write a consistent copy of the SQLite database (DATABASE_URL) to FILE while Beacon runs;
    /// on PostgreSQL, use pg_dump.
    Backup { file: std::path::PathBuf },
    /// Manage accounts.
    #[command(subcommand)]
    Users(Users),
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(Tokens),
}

#[derive(Debug, Subcommand)]
pub enum Users {
    /// Add a user; the password is read from standard input (one line).
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    List,
    /// Remove a user, with their tokens and sessions.
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Tokens {
    /// Print a new API token for NAME (shown once, stored hashed).
    Create {
        name: String,
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
    },
    Revoke {
        #[arg(value_name = "TOKEN_PREFIX")]
        prefix: String,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "expected viewer, researcher or admin".to_string())
}

async fn database() -> anyhow::Result<Db> {
    let config = Config::from_env()?;
    db::connect_with(&config.database_url, config.sqlite_synchronous).await
}

pub async fn users(command: Users) -> anyhow::Result<()> {
    match command {
        Users::Add { name, role } => {
            let password = read_password()?;
            let db = database().await?;
            accounts::add_user(&db, &name, role, &password).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            println!("added {name} ({role})");
        }
        Users::List => {
            let db = database().await?;
            for user in db::accounts::users(&db).await? {
                println!("{}\t{}\tsince {}", user.name, user.role, db::rfc3339(user.created_at));
            }
        }
        Users::Remove { name } => {
            let db = database().await?;
            accounts::remove_user(&db, &name).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            println!("removed {name}, with their tokens and sessions");
        }
    }
    Ok(())
}

pub async fn tokens(command: Tokens) -> anyhow::Result<()> {
    match command {
        Tokens::Create { name, label } => {
            let db = database().await?;
            let token = accounts::create_token(&db, &name, label.as_deref()).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            // The only time the token exists in the clear: on standard output, nowhere else.
            println!("{token}");
        }
        Tokens::Revoke { prefix } => {
            let db = database().await?;
            let revoked = accounts::revoke_token(&db, &prefix).await.map_err(|err| anyhow::anyhow!(err.to_api_error().error))?;
            eprintln!("revoked the token {revoked}…");
        }
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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_parses_what_the_readme_shows() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["beacon", "users", "add", "ada", "--role", "researcher"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Users(Users::Add { ref name, role: Role::Researcher })) if name == "ada"));
        let refused = Cli::try_parse_from(["beacon", "users", "add", "ada", "--role", "owner"]).unwrap_err();
        assert!(refused.to_string().contains("expected viewer, researcher or admin"), "{refused}");
        assert!(Cli::try_parse_from(["beacon", "demo-router", "--addr", "nowhere"]).is_err());
        assert!(Cli::try_parse_from(["beacon"]).unwrap().command.is_none(), "serving is the default");
    }
}
