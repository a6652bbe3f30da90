//! roomdeck: a terminal console for MeshAgent-compatible rooms, with a local room runtime.
//!
//! Layers (dependencies point one way): `tui -> client -> protocol`;
//! `server -> {protocol, auth, store}`; `cli -> {client, server}`.

pub mod auth;
pub mod cli;
pub mod client;
pub mod paths;
pub mod protocol;
pub mod server;
pub mod store;
pub mod tui;
