fn main() -> std::process::ExitCode {
    keyless::run()
}
