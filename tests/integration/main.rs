//! Integration tests: the real `keyless` binary.

mod scan;
