fn main() -> std::process::ExitCode {
    keyless::front::main()
}
