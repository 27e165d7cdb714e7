//! o4send: offers a file to every nearby phone over Bluetooth OBEX Object Push, once.
//!
//! The library behind the `o4send` binary. See DESIGN.md for the architecture: scan → policy →
//! push workers → store → sync, each a module with one job. Which process runs which room, and
//! what each may touch: docs/architecture.md.

pub mod bench;
pub mod cli;
pub mod config;
pub mod content;
pub mod daemon;
pub mod demo;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod hotspot;
pub mod live;
pub mod model;
pub mod obex;
pub mod orders;
pub mod policy;
pub mod radio;
pub mod report;
pub mod setup;
pub mod store;
pub mod supervise;
pub mod sync;
pub mod update;
pub mod web;
