//! The MeshAgent room wire protocol: packets, message bodies, Content, error codes, and the
//! Arrow payloads (IPC streams, cells as JSON) that table tools carry.
//!
//! Pure data transformations with no I/O, so both the server and the client (and the fuzz
//! targets) share one implementation.

pub mod arrow;
pub mod content;
pub mod document;
pub mod error_codes;
pub mod files;
pub mod message;
pub mod packet;
pub mod sql;

pub use content::Content;
pub use message::{MessageError, pack_message, unpack_message};
pub use packet::{DATA_PACKET_SIZE, Encoded, PacketError, RawMessage, Reassembler, encode_packets};
