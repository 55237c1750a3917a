//! The inference router: its wire protocol (DOMAIN.md), Beacon's client for it, the request
//! every attempt of an execution sends, and the built-in demo router.

pub mod client;
pub mod demo;
pub mod protocol;
pub mod request;

pub use client::RouterClient;
