//! The AWS-file analysis (the config module's INI parser, the merge, the
//! profile checks) on arbitrary bytes for both files: never panics, and no
//! value that does not have the shape of a key ID is ever reported.
#![no_main]

use std::path::PathBuf;

use keyless::fuzzing::{FileInput, analyse};
use keyless::fuzzing::looks_like_key_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (config, credentials) = data.split_at(split);
    let credentials = FileInput {
        path: PathBuf::from("credentials"),
        bytes: credentials.to_vec(),
    };
    let config = FileInput {
        path: PathBuf::from("config"),
        bytes: config.to_vec(),
    };
    let (findings, _notes) = analyse(Some(&credentials), Some(&config));
    for finding in findings {
        if let Some(key) = &finding.key_id {
            assert!(looks_like_key_id(key));
        }
    }
});
