//! The MeshAgent room wire protocol: packets, message bodies, Content and error codes.
//!
//! Pure data transformations with no I/O, so both the server and the client (and the fuzz
//! targets) share one implementation.

pub mod content;
pub mod document;
pub mod error_codes;
pub mod message;
pub mod packet;

pub use content::Content;
pub use message::{MessageError, pack_message, unpack_message};
pub use packet::{DATA_PACKET_SIZE, Encoded, PacketError, RawMessage, Reassembler, encode_packets};
