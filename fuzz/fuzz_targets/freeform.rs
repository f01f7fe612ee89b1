//! The free-form scanner on arbitrary bytes: never panics, and every hit is
//! a well-formed key ID found at the line it reports.
#![no_main]

use keyless::fuzzing::freeform;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for hit in freeform::scan(data) {
        assert_eq!(hit.key_id.len(), freeform::KEY_ID_LEN);
        let line = data
            .split(|&b| b == b'\n')
            .nth(hit.line - 1)
            .expect("the reported line exists");
        assert!(
            line.windows(hit.key_id.len())
                .any(|w| w == hit.key_id.as_bytes()),
            "the key ID is on the reported line"
        );
    }
});
