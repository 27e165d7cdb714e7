//! Helpers shared by integration tests.

pub mod daemon;
pub mod mariadb;
pub mod stick;
