//! Helpers shared by integration tests.

pub mod cli;
pub mod daemon;
pub mod mariadb;
pub mod stick;
