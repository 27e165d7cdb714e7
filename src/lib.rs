//! o4send: offers a file to every nearby phone over Bluetooth OBEX Object Push, once.
//!
//! The library behind the `o4send` binary. See DESIGN.md for the architecture: scan → policy →
//! push workers → store → sync, each a module with one job.

pub mod banner;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod content;
pub mod demo;
pub mod device;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod hotspot;
pub mod led;
pub mod live;
pub mod obex;
pub mod orders;
pub mod outcome;
pub mod password;
pub mod pidfile;
pub mod policy;
pub mod poster;
pub mod pseudonym;
pub mod radio;
pub mod report;
pub mod setup;
pub mod store;
pub mod supervise;
pub mod sync;
pub mod update;
pub mod visit_spool;
pub mod web;
pub mod wifi_state;
