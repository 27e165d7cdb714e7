//! o4send: offers a file to every nearby phone over Bluetooth OBEX Object Push, once.
//!
//! The library behind the `o4send` binary. See DESIGN.md for the architecture: scan → policy →
//! push workers → store → sync, each a module with one job.

pub mod clock;
pub mod device;
pub mod outcome;
