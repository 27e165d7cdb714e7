//! Helpers shared by integration tests.

pub mod mariadb;
pub mod stick;
