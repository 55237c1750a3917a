//! Everything that runs only on the server (feature `ssr`).

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod imports;
pub mod live;
pub mod login;
pub mod page;
pub mod page_request;
pub mod providers;
pub mod questions_upload;
pub mod router;
pub mod runner;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
