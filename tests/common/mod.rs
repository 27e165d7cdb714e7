//! Helpers shared by integration tests.

pub mod appliance;
pub mod browser;
pub mod cli;
pub mod daemon;
pub mod galera;
pub mod http;
pub mod mariadb;
pub mod stick;
