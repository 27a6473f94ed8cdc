fn main() -> std::process::ExitCode {
    todomvc::cli::main()
}
