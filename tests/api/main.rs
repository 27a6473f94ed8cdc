//! Integration tests: the real server over HTTP, one test binary.

mod accounts;
mod bad_input;
mod browser;
mod concurrency;
mod config;
mod cors;
mod drain;
mod durability;
mod errors;
mod etags;
mod events;
mod forms;
mod freshness;
mod helpers;
mod idempotency;
mod index;
mod migrations;
mod operators;
mod postgres;
mod proxies;
mod security;
mod shutdown;
mod telemetry;
mod todos;
mod users;
mod versions;
