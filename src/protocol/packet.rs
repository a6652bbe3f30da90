//! Packet framing: every WebSocket binary frame is one packet.
//!
//! ```text
//! header packet : u64 message_id | u32 packet_no = 0 | u32 packet_count | UTF-8 message type
//! data packet i : u64 message_id | u32 packet_no = i (1..=packet_count) | payload slice
//! ```
//! Packets of one message are contiguous and in order; a sender must never interleave them.

use bytes::Bytes;
use thiserror::Error;

/// Payload bytes carried by one data packet when sending (receivers accept any size).
pub const DATA_PACKET_SIZE: usize = 1024;
/// Longest message type name accepted; real ones are short (`room.tool_call_response_chunk`).
pub const MAX_TYPE_LEN: usize = 256;

/// One whole message after reassembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    pub id: u64,
    pub msg_type: String,
    pub payload: Vec<u8>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PacketError {
    #[error("packet of {0} bytes is shorter than its 12-byte prefix")]
    TooShort(usize),
    #[error("header packet of {0} bytes is shorter than 16 bytes")]
    HeaderTooShort(usize),
    #[error("message type is not valid UTF-8")]
    TypeNotUtf8,
    #[error("message type is longer than {MAX_TYPE_LEN} bytes")]
    TypeTooLong,
    #[error("data packet {got} arrived while no message was in progress")]
    NoMessageInProgress { got: u32 },
    #[error("packet {got} of message {id} arrived, expected packet {expected}")]
    WrongPacketNumber { id: u64, got: u32, expected: u32 },
    #[error("packet of message {got} arrived while message {expected} was in progress")]
    Interleaved { got: u64, expected: u64 },
    #[error("message {id} was abandoned: a new message started before its packet {expected}")]
    Abandoned { id: u64, expected: u32 },
    #[error("message {id} exceeds the limit of {limit} bytes")]
    TooLarge { id: u64, limit: usize },
}

/// Splits one message into its packets: the header packet, then the data packets.
pub fn encode_packets(message_id: u64, msg_type: &str, payload: &[u8]) -> Vec<Vec<u8>> {
    Encoded::new(message_id, msg_type, payload)
        .packets()
        .map(|p| p.to_vec())
        .collect()
}

/// One message framed into its packets, back to back in one shared buffer. A message sent to
/// many receivers (a broadcast) is encoded once: server frames are not masked, so every
/// receiver writes the same bytes, and a clone or a packet is a reference, not a copy.
#[derive(Debug, Clone)]
pub struct Encoded {
    bytes: Bytes,
    header_len: usize,
}

impl Encoded {
    pub fn new(message_id: u64, msg_type: &str, payload: &[u8]) -> Encoded {
        let count = payload.len().div_ceil(DATA_PACKET_SIZE);
        let header_len = 16 + msg_type.len();
        let mut buf = Vec::with_capacity(header_len + 12 * count + payload.len());
        buf.extend_from_slice(&message_id.to_be_bytes());
        buf.extend_from_slice(&0u32.to_be_bytes());
        buf.extend_from_slice(&(count as u32).to_be_bytes());
        buf.extend_from_slice(msg_type.as_bytes());
        for (i, slice) in payload.chunks(DATA_PACKET_SIZE).enumerate() {
            buf.extend_from_slice(&message_id.to_be_bytes());
            buf.extend_from_slice(&((i + 1) as u32).to_be_bytes());
            buf.extend_from_slice(slice);
        }
        Encoded {
            bytes: buf.into(),
            header_len,
        }
    }

    /// Bytes of all its packets together.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Its packets in order, one WebSocket frame each; they share this message's buffer.
    pub fn packets(&self) -> impl Iterator<Item = Bytes> + '_ {
        let data = (self.header_len..self.bytes.len())
            .step_by(12 + DATA_PACKET_SIZE)
            .map(|start| {
                let end = (start + 12 + DATA_PACKET_SIZE).min(self.bytes.len());
                self.bytes.slice(start..end)
            });
        std::iter::once(self.bytes.slice(..self.header_len)).chain(data)
    }
}

struct Partial {
    id: u64,
    msg_type: String,
    expected: u32,
    total: u32,
    payload: Vec<u8>,
}

/// Reassembles packets into messages with one slot per connection, as the protocol requires.
///
/// Any error drops the message in progress; the next header packet starts afresh. Memory is
/// bounded by `max_message_size`.
pub struct Reassembler {
    max_message_size: usize,
    current: Option<Partial>,
}

impl Reassembler {
    pub fn new(max_message_size: usize) -> Self {
        Reassembler {
            max_message_size,
            current: None,
        }
    }

    /// Whether a message is partly received.
    pub fn in_progress(&self) -> bool {
        self.current.is_some()
    }

    /// Feeds one packet; returns a message when it is complete.
    pub fn push(&mut self, packet: &[u8]) -> Result<Option<RawMessage>, PacketError> {
        if packet.len() < 12 {
            self.current = None;
            return Err(PacketError::TooShort(packet.len()));
        }
        let id = u64::from_be_bytes(packet[0..8].try_into().expect("8 bytes"));
        let number = u32::from_be_bytes(packet[8..12].try_into().expect("4 bytes"));
        if number == 0 {
            // A new header abandons any message in progress. The new message is kept (and
            // delivered when whole); the abandoned one is reported when nothing else is.
            let abandoned = self.current.take();
            let started = self.start(id, packet)?;
            return match (abandoned, started) {
                (Some(old), None) => Err(PacketError::Abandoned {
                    id: old.id,
                    expected: old.expected,
                }),
                (_, started) => Ok(started),
            };
        }
        let Some(current) = self.current.as_mut() else {
            return Err(PacketError::NoMessageInProgress { got: number });
        };
        if id != current.id {
            let expected = current.id;
            self.current = None;
            return Err(PacketError::Interleaved { got: id, expected });
        }
        if number != current.expected {
            let expected = current.expected;
            self.current = None;
            return Err(PacketError::WrongPacketNumber {
                id,
                got: number,
                expected,
            });
        }
        let data = &packet[12..];
        if current.payload.len() + data.len() > self.max_message_size {
            self.current = None;
            return Err(PacketError::TooLarge {
                id,
                limit: self.max_message_size,
            });
        }
        current.payload.extend_from_slice(data);
        if current.expected == current.total {
            let done = self.current.take().expect("checked above");
            return Ok(Some(RawMessage {
                id: done.id,
                msg_type: done.msg_type,
                payload: done.payload,
            }));
        }
        current.expected += 1;
        Ok(None)
    }

    fn start(&mut self, id: u64, packet: &[u8]) -> Result<Option<RawMessage>, PacketError> {
        if packet.len() < 16 {
            return Err(PacketError::HeaderTooShort(packet.len()));
        }
        let total = u32::from_be_bytes(packet[12..16].try_into().expect("4 bytes"));
        let type_bytes = &packet[16..];
        if type_bytes.len() > MAX_TYPE_LEN {
            return Err(PacketError::TypeTooLong);
        }
        let msg_type = std::str::from_utf8(type_bytes)
            .map_err(|_| PacketError::TypeNotUtf8)?
            .to_string();
        // A data packet may carry any number of bytes, even none, so the count alone cannot
        // bound memory; the running size check in `push` does. Still refuse counts that could
        // never fit even at one byte per packet.
        if total as usize > self.max_message_size {
            return Err(PacketError::TooLarge {
                id,
                limit: self.max_message_size,
            });
        }
        if total == 0 {
            return Ok(Some(RawMessage {
                id,
                msg_type,
                payload: Vec::new(),
            }));
        }
        self.current = Some(Partial {
            id,
            msg_type,
            expected: 1,
            total,
            payload: Vec::new(),
        });
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(id: u64, ty: &str, payload: &[u8]) -> RawMessage {
        let mut r = Reassembler::new(1 << 24);
        let packets = encode_packets(id, ty, payload);
        let mut out = None;
        for (i, p) in packets.iter().enumerate() {
            let got = r.push(p).expect("valid packet");
            if i + 1 < packets.len() {
                assert!(got.is_none(), "message completed early at packet {i}");
            } else {
                out = got;
            }
        }
        out.expect("message completes on its last packet")
    }

    #[test]
    fn empty_payload_is_a_lone_header_packet() {
        let packets = encode_packets(7, "room_ready", b"");
        assert_eq!(packets.len(), 1);
        assert_eq!(&packets[0][12..16], &0u32.to_be_bytes());
        let m = roundtrip(7, "room_ready", b"");
        assert_eq!(m.msg_type, "room_ready");
        assert!(m.payload.is_empty());
    }

    #[test]
    fn payload_is_split_in_1024_byte_slices() {
        let payload = vec![9u8; 2500];
        let packets = encode_packets(1, "x", &payload);
        assert_eq!(packets.len(), 4);
        assert_eq!(packets[1].len(), 12 + 1024);
        assert_eq!(packets[3].len(), 12 + 452);
        assert_eq!(roundtrip(1, "x", &payload).payload, payload);
    }

    #[test]
    fn encoded_packets_share_one_buffer_and_match_the_layout() {
        let payload: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let encoded = Encoded::new(42, "messaging.send", &payload);
        let packets: Vec<Bytes> = encoded.packets().collect();
        assert_eq!(packets.len(), 4);
        assert_eq!(packets[0].len(), 16 + "messaging.send".len());
        assert_eq!(&packets[0][12..16], &3u32.to_be_bytes());
        assert_eq!(packets[3].len(), 12 + 452);
        assert_eq!(encoded.len(), packets.iter().map(Bytes::len).sum::<usize>());
        let header_only = Encoded::new(1, "room_ready", b"");
        assert_eq!(header_only.packets().count(), 1);
    }

    #[test]
    fn short_packets_are_errors() {
        let mut r = Reassembler::new(1024);
        assert_eq!(r.push(&[0; 5]), Err(PacketError::TooShort(5)));
        assert_eq!(r.push(&[0; 13]), Err(PacketError::HeaderTooShort(13)));
    }

    #[test]
    fn wrong_packet_number_drops_the_message_and_recovers() {
        let mut r = Reassembler::new(1 << 20);
        let packets = encode_packets(3, "t", &[1u8; 3000]);
        r.push(&packets[0]).unwrap();
        assert!(matches!(
            r.push(&packets[2]),
            Err(PacketError::WrongPacketNumber {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert!(!r.in_progress());
        // The next whole message gets through.
        for p in &packets[..3] {
            let _ = r.push(p);
        }
        assert_eq!(r.push(&packets[3]).unwrap().unwrap().payload.len(), 3000);
    }

    #[test]
    fn interleaved_messages_are_refused() {
        let mut r = Reassembler::new(1 << 20);
        let a = encode_packets(1, "a", &[1u8; 2000]);
        let b = encode_packets(2, "b", &[2u8; 2000]);
        r.push(&a[0]).unwrap();
        assert!(matches!(
            r.push(&b[1]),
            Err(PacketError::Interleaved {
                got: 2,
                expected: 1
            })
        ));
        // A new header abandons a message in progress.
        r.push(&a[0]).unwrap();
        assert!(matches!(
            r.push(&b[0]),
            Err(PacketError::Abandoned { id: 1, expected: 1 })
        ));
        r.push(&b[1]).unwrap();
        assert_eq!(r.push(&b[2]).unwrap().unwrap().msg_type, "b");
    }

    #[test]
    fn oversized_messages_are_refused_without_buffering() {
        let mut r = Reassembler::new(1500);
        let packets = encode_packets(1, "t", &[0u8; 4000]);
        r.push(&packets[0]).unwrap();
        r.push(&packets[1]).unwrap();
        assert!(matches!(
            r.push(&packets[2]),
            Err(PacketError::TooLarge { .. })
        ));
        // A header that claims more packets than bytes allowed is refused at once.
        let mut header = encode_packets(5, "t", b"").remove(0);
        header[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(r.push(&header), Err(PacketError::TooLarge { .. })));
    }

    #[test]
    fn invalid_type_names_are_refused() {
        let mut r = Reassembler::new(1024);
        let mut header = encode_packets(1, "", b"").remove(0);
        header.extend_from_slice(&[0xff, 0xfe]);
        assert_eq!(r.push(&header), Err(PacketError::TypeNotUtf8));
        let long = "x".repeat(MAX_TYPE_LEN + 1);
        assert_eq!(
            r.push(&encode_packets(1, &long, b"")[0]),
            Err(PacketError::TypeTooLong)
        );
    }

    #[test]
    fn data_packet_without_header_is_an_error() {
        let mut r = Reassembler::new(1024);
        let packets = encode_packets(1, "t", b"abc");
        assert_eq!(
            r.push(&packets[1]),
            Err(PacketError::NoMessageInProgress { got: 1 })
        );
    }

    proptest! {
        #[test]
        fn any_message_round_trips(id in any::<u64>(), ty in "[a-z._]{0,40}", payload in proptest::collection::vec(any::<u8>(), 0..5000)) {
            let m = roundtrip(id, &ty, &payload);
            prop_assert_eq!(m.id, id);
            prop_assert_eq!(m.msg_type, ty);
            prop_assert_eq!(m.payload, payload);
        }

        #[test]
        fn arbitrary_packets_never_panic_and_stay_bounded(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..60)) {
            let mut r = Reassembler::new(2048);
            for p in &packets {
                if let Ok(Some(m)) = r.push(p) {
                    prop_assert!(m.payload.len() <= 2048);
                }
            }
        }
    }
}
