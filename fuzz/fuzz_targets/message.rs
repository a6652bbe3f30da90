//! Message bodies (u64 header length + JSON header + payload): parsed or refused, and
//! what parses packs back to a body that parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomdeck::protocol::{pack_message, unpack_message};

fuzz_target!(|data: &[u8]| {
    if let Ok((header, payload)) = unpack_message(data) {
        let again = pack_message(&header, payload);
        let (header2, payload2) = unpack_message(&again).expect("a packed message parses");
        assert_eq!(header, header2);
        assert_eq!(payload, payload2);
    }
});
