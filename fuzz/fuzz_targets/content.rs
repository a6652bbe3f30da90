//! Content (the typed body of tool arguments and answers) and request-stream chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomdeck::protocol::Content;
use roomdeck::protocol::content::unpack_chunk;

fuzz_target!(|data: &[u8]| {
    if let Ok(content) = Content::unpack(data) {
        // What parsed packs and parses again.
        let again = Content::unpack(&content.pack()).expect("packed content parses");
        assert_eq!(content.kind(), again.kind());
    }
    let _ = unpack_chunk(data);
});
