//! Participant tokens: any string is verified or refused, never a panic; a forged
//! signature never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomdeck::auth::ParticipantToken;

fuzz_target!(|data: &[u8]| {
    if let Ok(jwt) = std::str::from_utf8(data) {
        let _ = ParticipantToken::from_jwt(jwt, "fuzz-secret-fuzz-secret-fuzz-secret");
    }
});
