//! Everything that runs only on the server (feature `ssr`).

pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod forms;
pub mod live;
pub mod router;
pub mod runner;
pub mod services;
pub mod startup;
pub mod state;
