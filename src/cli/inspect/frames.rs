//! A passive WebSocket frame reader: it is fed the bytes of one direction exactly as they
//! are relayed and yields the messages they carry, without changing or holding up a byte.
//!
//! Client frames are unmasked here for decoding only. Memory is bounded: a message larger
//! than the limit is skipped (and reported), never buffered. Anything that is not a valid
//! frame stream stops decoding for that direction; the relay goes on regardless.

/// What one direction's frames amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum WsEvent {
    /// A whole binary message (one protocol packet).
    Binary(Vec<u8>),
    /// A text message, which the protocol never sends: its size.
    Text(usize),
    /// A close frame, with its status code and reason when given.
    Close { code: Option<u16>, reason: String },
    /// A message over the limit was skipped.
    TooLarge(u64),
    /// A compressed message (a side negotiated permessage-deflate anyway): not decoded.
    Compressed,
    /// The bytes stopped being WebSocket frames; nothing more is decoded this way.
    Broken(String),
}

enum State {
    /// Collecting a frame header (2 to 14 bytes).
    Head,
    /// Inside a frame's payload.
    Payload {
        remaining: u64,
        mask: Option<[u8; 4]>,
        /// Payload bytes seen so far (for the mask's phase).
        pos: u64,
        opcode: u8,
        fin: bool,
    },
    Broken,
}

pub struct FrameReader {
    max: usize,
    state: State,
    head: Vec<u8>,
    /// The current control frame's payload (at most 125 bytes).
    control: Vec<u8>,
    /// The data message being assembled, from one or more frames.
    message: Vec<u8>,
    /// The opcode of the data message in progress (1 text, 2 binary), if any.
    message_opcode: Option<u8>,
    /// The message in progress is being skipped (too large or compressed).
    skipping: bool,
    message_len: u64,
}

impl FrameReader {
    pub fn new(max: usize) -> FrameReader {
        FrameReader {
            max,
            state: State::Head,
            head: Vec::with_capacity(14),
            control: Vec::new(),
            message: Vec::new(),
            message_opcode: None,
            skipping: false,
            message_len: 0,
        }
    }

    /// Feeds relayed bytes; what they complete is appended to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<WsEvent>) {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Broken => return,
                State::Head => {
                    let need = header_len(&self.head);
                    let take = (need - self.head.len()).min(bytes.len());
                    self.head.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.head.len() == header_len(&self.head) {
                        self.start_frame(out);
                    }
                }
                State::Payload {
                    remaining,
                    mask,
                    pos,
                    ..
                } => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    let (chunk, rest) = bytes.split_at(take);
                    bytes = rest;
                    let (mask, start) = (*mask, *pos);
                    *remaining -= take as u64;
                    *pos += take as u64;
                    self.take_payload(chunk, mask, start);
                    if let State::Payload { remaining: 0, .. } = self.state {
                        self.end_frame(out);
                    }
                }
            }
        }
    }

    fn break_off(&mut self, why: impl Into<String>, out: &mut Vec<WsEvent>) {
        self.state = State::Broken;
        self.message = Vec::new();
        self.control = Vec::new();
        out.push(WsEvent::Broken(why.into()));
    }

    fn start_frame(&mut self, out: &mut Vec<WsEvent>) {
        let h = std::mem::take(&mut self.head);
        let fin = h[0] & 0x80 != 0;
        let rsv1 = h[0] & 0x40 != 0;
        let opcode = h[0] & 0x0F;
        let masked = h[1] & 0x80 != 0;
        let (len, at) = match h[1] & 0x7F {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        if len >> 63 != 0 {
            return self.break_off("a frame length with its top bit set", out);
        }
        let mask = masked.then(|| [h[at], h[at + 1], h[at + 2], h[at + 3]]);
        match opcode {
            0x8..=0xA => {
                if len > 125 || !fin {
                    return self.break_off("a control frame over 125 bytes or fragmented", out);
                }
                self.control.clear();
            }
            0x0 => {
                if self.message_opcode.is_none() {
                    return self.break_off("a continuation frame with no message", out);
                }
            }
            0x1 | 0x2 => {
                if self.message_opcode.is_some() {
                    return self.break_off("a new message inside a fragmented one", out);
                }
                self.message_opcode = Some(opcode);
                self.message.clear();
                self.message_len = 0;
                self.skipping = rsv1;
                if rsv1 {
                    out.push(WsEvent::Compressed);
                }
            }
            other => return self.break_off(format!("unknown opcode {other:#x}"), out),
        }
        if matches!(opcode, 0x0..=0x2) {
            self.message_len = self.message_len.saturating_add(len);
            if !self.skipping && self.message_len > self.max as u64 {
                self.skipping = true;
                self.message = Vec::new();
                out.push(WsEvent::TooLarge(self.message_len));
            }
        }
        self.state = State::Payload {
            remaining: len,
            mask,
            pos: 0,
            opcode,
            fin,
        };
        if len == 0 {
            self.end_frame(out);
        }
    }

    fn take_payload(&mut self, chunk: &[u8], mask: Option<[u8; 4]>, start: u64) {
        let State::Payload { opcode, .. } = self.state else {
            return;
        };
        let target = if opcode >= 0x8 {
            &mut self.control
        } else if self.skipping {
            return;
        } else {
            &mut self.message
        };
        let from = target.len();
        target.extend_from_slice(chunk);
        if let Some(m) = mask {
            for (i, b) in target[from..].iter_mut().enumerate() {
                *b ^= m[((start + i as u64) % 4) as usize];
            }
        }
    }

    fn end_frame(&mut self, out: &mut Vec<WsEvent>) {
        let State::Payload { opcode, fin, .. } = self.state else {
            return;
        };
        self.state = State::Head;
        match opcode {
            0x8 => {
                let c = std::mem::take(&mut self.control);
                let (code, reason) = if c.len() >= 2 {
                    (
                        Some(u16::from_be_bytes([c[0], c[1]])),
                        String::from_utf8_lossy(&c[2..]).into_owned(),
                    )
                } else {
                    (None, String::new())
                };
                out.push(WsEvent::Close { code, reason });
            }
            0x9 | 0xA => self.control.clear(),
            _ if fin => {
                let kind = self.message_opcode.take();
                let message = std::mem::take(&mut self.message);
                if !std::mem::take(&mut self.skipping) {
                    match kind {
                        Some(0x2) => out.push(WsEvent::Binary(message)),
                        _ => out.push(WsEvent::Text(message.len())),
                    }
                }
            }
            _ => {}
        }
    }
}

/// How long the header that `head` starts is, once its first two bytes are known.
fn header_len(head: &[u8]) -> usize {
    if head.len() < 2 {
        return 2;
    }
    let mask = if head[1] & 0x80 != 0 { 4 } else { 0 };
    let ext = match head[1] & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(opcode: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(m | n as u8),
            n if n <= 0xFFFF => {
                out.push(m | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(m | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                out.extend_from_slice(&k);
                out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => out.extend_from_slice(payload),
        }
        out
    }

    fn read_all(max: usize, bytes: &[u8], step: usize) -> Vec<WsEvent> {
        let mut r = FrameReader::new(max);
        let mut out = Vec::new();
        for chunk in bytes.chunks(step.max(1)) {
            r.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn masked_and_plain_messages_come_out_whole_at_any_split() {
        let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut bytes = frame(2, true, b"hello", Some([1, 2, 3, 4]));
        bytes.extend(frame(2, true, &big, None));
        bytes.extend(frame(9, true, b"ping", Some([9, 9, 9, 9])));
        bytes.extend(frame(2, true, &big[..300], Some([7, 0, 1, 200])));
        bytes.extend(frame(8, true, &[3, 232, b'b', b'y', b'e'], None));
        for step in [1, 3, 7, 1024, 1 << 20] {
            let got = read_all(1 << 20, &bytes, step);
            assert_eq!(
                got,
                vec![
                    WsEvent::Binary(b"hello".to_vec()),
                    WsEvent::Binary(big.clone()),
                    WsEvent::Binary(big[..300].to_vec()),
                    WsEvent::Close {
                        code: Some(1000),
                        reason: "bye".into()
                    },
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn fragments_join_around_control_frames() {
        let mut bytes = frame(2, false, b"ab", Some([5, 6, 7, 8]));
        bytes.extend(frame(10, true, b"", None));
        bytes.extend(frame(0, false, b"cd", Some([1, 1, 1, 1])));
        bytes.extend(frame(0, true, b"e", None));
        bytes.extend(frame(1, true, b"text", None));
        assert_eq!(
            read_all(100, &bytes, 2),
            vec![WsEvent::Binary(b"abcde".to_vec()), WsEvent::Text(4)]
        );
    }

    #[test]
    fn oversized_and_compressed_messages_are_skipped_and_the_next_one_decodes() {
        let mut bytes = frame(2, true, &[0u8; 5000], None);
        let mut compressed = frame(2, true, b"zz", None);
        compressed[0] |= 0x40;
        bytes.extend(compressed);
        bytes.extend(frame(2, true, b"ok", None));
        assert_eq!(
            read_all(1000, &bytes, 100),
            vec![
                WsEvent::TooLarge(5000),
                WsEvent::Compressed,
                WsEvent::Binary(b"ok".to_vec())
            ]
        );
    }

    #[test]
    fn garbage_stops_decoding_once() {
        let got = read_all(100, b"GET / HTTP/1.1\r\n\r\n", 1);
        assert!(matches!(got.as_slice(), [WsEvent::Broken(_)]), "{got:?}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..2000), step in 1usize..64) {
            for e in read_all(256, &bytes, step) {
                if let WsEvent::Binary(m) = e {
                    prop_assert!(m.len() <= 256);
                }
            }
        }
    }
}
