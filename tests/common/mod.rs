//! Helpers shared by integration tests.

pub mod browser;
pub mod cli;
pub mod daemon;
pub mod mariadb;
pub mod stick;
