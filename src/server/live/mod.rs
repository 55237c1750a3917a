//! Live updates by push: the change feed turns the database's change log into events, and
//! the server-sent-event streams hand each client the events of what it is looking at.

pub mod feed;
pub mod streams;

pub use feed::{LiveEvent, LiveFeed};
