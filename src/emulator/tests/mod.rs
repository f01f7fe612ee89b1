//! Tests against the running emulator.
