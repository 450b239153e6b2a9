//! Raw decoding at every protocol level: no input may panic, and whatever decodes must encode
//! again.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tern::codec::{decode, Protocol, MAX_PACKET_SIZE};

fuzz_target!(|data: &[u8]| {
    for protocol in Protocol::ALL {
        let mut buf = BytesMut::from(data);
        while let Ok(Some(packet)) = decode(&mut buf, protocol, MAX_PACKET_SIZE) {
            packet
                .to_bytes(protocol)
                .expect("a decoded packet encodes again");
        }
    }
});
