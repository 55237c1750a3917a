//! Everything that runs only on the server (feature `ssr`).

pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod live;
pub mod page_request;
pub mod router;
pub mod runner;
pub mod services;
pub mod startup;
pub mod state;
