//! roomdeck: a terminal console for MeshAgent-compatible rooms, with a local room runtime.
//!
//! Layers (dependencies point one way): `tui -> client -> protocol`;
//! `server -> {protocol, auth, store}`; `cli -> {client, server, tui}`.
//!
//! - `protocol`: the wire, pure: packets, message bodies, Content, error codes, and what both
//!   sides need of the payloads (`protocol::arrow`: Arrow IPC and cells as JSON;
//!   `protocol::files`: storage path rules and MIME types).
//! - `auth`: participant tokens and their API grants.
//! - `store`: room data on disk (SQLite tables and their SQL sandbox, files, documents, ...).
//! - `server`: the listener, rooms and sessions, and the toolkits that serve the room APIs.
//! - `client`: `RoomClient` and one sub-client per room API.
//! - `tui`: the console; it joins every room, local or remote, through the client alone.
//! - `cli`: the commands; it owns the embedded server (`cli::local` starts or finds it and
//!   mints the token) and hands the console a URL, a token and a guard.

pub mod auth;
pub mod checksum;
pub mod cli;
pub mod client;
pub mod paths;
pub mod protocol;
pub mod server;
pub mod store;
pub mod timeline;
pub mod tui;
