//! o4send: offers a file to every nearby phone over Bluetooth OBEX Object Push, once.
//!
//! The library behind the `o4send` binary. See DESIGN.md for the architecture: scan → policy →
//! push workers → store → sync, each a module with one job. Which process runs which room, and
//! what each may touch: docs/architecture.md.

#[cfg(target_os = "linux")]
pub mod bench;
pub mod cli;
pub mod config;
pub mod content;
#[cfg(target_os = "linux")]
pub mod daemon;
pub mod demo;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
#[cfg(target_os = "linux")]
pub mod hotspot;
pub mod live;
pub mod model;
pub mod obex;
#[cfg(target_os = "linux")]
pub mod orders;
pub mod policy;
pub mod radio;
pub mod report;
#[cfg(target_os = "linux")]
pub mod setup;
pub mod store;
pub mod supervise;
pub mod sync;
#[cfg(target_os = "linux")]
pub mod update;
#[cfg(target_os = "linux")]
pub mod web;
