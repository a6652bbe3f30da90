//! Packet reassembly: any sequence of packets (split from the input at 0xFF 0xFE markers)
//! yields messages or errors, never a panic, and never holds more than the size limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomdeck::protocol::Reassembler;

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut reassembler = Reassembler::new(LIMIT);
    for packet in data.split(|b| *b == 0xFF) {
        match reassembler.push(packet) {
            Ok(Some(message)) => assert!(message.payload.len() <= LIMIT),
            Ok(None) => {}
            // A broken sequence starts over, as the server does with the next message.
            Err(_) => reassembler = Reassembler::new(LIMIT),
        }
    }
});
