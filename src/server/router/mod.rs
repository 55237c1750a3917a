//! The hybrid inference router of DOMAIN.md: its wire protocol and the built-in demo router.
//! Beacon's client for it is a provider kind (`server::providers::hybrid_router`).

pub mod demo;
pub mod demo_script;
pub mod protocol;
