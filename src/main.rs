fn main() -> std::process::ExitCode {
    roomdeck::cli::main()
}
