//! The integration suites in one test binary (one link, one executable on disk, instead of
//! one per file): each module runs a real server on 127.0.0.1:0 with a temp data dir and
//! drives it over real WebSockets. `cargo test --test integration storage::` runs one suite.

#[path = "../common/mod.rs"]
mod common;

mod action_log;
mod authz;
mod crash;
mod dataset;
mod exact_payloads;
mod fanout;
mod memory;
mod messaging_stream;
mod queues;
mod recording;
mod rooms;
mod server_client;
mod services;
mod sessions;
mod sqlite_transfer;
mod storage;
mod sync;
mod tool_schemas;
mod wire;
