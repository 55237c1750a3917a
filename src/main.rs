//! The `beacon` command: `beacon` serves the app; `beacon demo-router` serves only the demo
//! inference router, for tests and for pointing another Beacon at it.

// glibc's allocator spent a sixth of the server's CPU under load (the retry route's profile).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use std::process::ExitCode;

    if let Err(err) = beacon::server::telemetry::logs::init() {
        eprintln!("beacon: configuration: {err}");
        return ExitCode::from(2);
    }

    use beacon::server::cli::{self, Cli, Command};
    use clap::Parser;
    // A mistyped command prints clap's explanation and exits 2.
    let result = match Cli::parse().command {
        None | Some(Command::Serve) => serve().await,
        Some(Command::DemoRouter { addr }) => demo_router(addr).await,
        Some(Command::Check) => check().await,
        Some(Command::Backup { file }) => backup(&file).await,
        Some(Command::Users(command)) => cli::users(command).await,
        Some(Command::Tokens(command)) => cli::tokens(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A bad setting is the operator's to fix, and says which (SAFETY.md §6).
        Err(err) if err.downcast_ref::<beacon::server::config::ConfigError>().is_some() => {
            eprintln!("beacon: configuration: {err:#}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("beacon: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "ssr")]
async fn serve() -> anyhow::Result<()> {
    let config = beacon::server::config::Config::from_env()?;
    let server = beacon::server::startup::start(config).await?;
    // On standard error: with BEACON_LOG_FORMAT=json, standard output is JSON lines only.
    eprintln!("Beacon is running: open http://{}", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await;
    Ok(())
}

/// The job counters are kept by triggers; this recounts them from the executions, says what
/// differed and sets it right (and the job statuses that follow from it).
#[cfg(feature = "ssr")]
async fn check() -> anyhow::Result<()> {
    let config = beacon::server::config::Config::from_env()?;
    let db = beacon::server::db::connect_with(&config.database_url, config.sqlite_synchronous).await?;
    let drifted = beacon::server::db::jobs::check_counters(&db, true).await?;
    if drifted.is_empty() {
        println!("every job's counters match its executions");
    }
    for (job, stored, actual) in &drifted {
        println!("repaired {job}: stored {stored:?}, recounted {actual:?}");
    }
    Ok(())
}

/// `beacon backup FILE` (OPERATIONS.md §4).
#[cfg(feature = "ssr")]
async fn backup(file: &std::path::Path) -> anyhow::Result<()> {
    let config = beacon::server::config::Config::from_env()?;
    let copied = beacon::server::db::backup::to_file(&config.database_url, file).await?;
    println!("backed up to {} ({copied} bytes)", file.display());
    Ok(())
}

#[cfg(feature = "ssr")]
async fn demo_router(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use beacon::server::router::demo;
    let bound = demo::spawn(addr, demo::DemoConfig::from_env()?).await?;
    println!("demo router listening on http://{bound}");
    shutdown_signal().await;
    Ok(())
}

#[cfg(feature = "ssr")]
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `hydrate` in lib.rs.
}
