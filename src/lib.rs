//! The TodoMVC server: a server-rendered page and a Backbone.sync-compatible `/todos` JSON API, with
//! accounts, on SQLite or PostgreSQL, configured per environment.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod deadline;
pub mod drain;
pub mod error;
pub mod events;
pub mod freshness;
pub mod idempotency;
pub mod lists;
pub mod models;
pub mod proxy;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod writer;
