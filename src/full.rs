//! `keyless-full`: every command. The `keyless` binary hands to it what it
//! does not answer itself (src/front.rs).

fn main() -> std::process::ExitCode {
    keyless::run()
}
