fn main() -> std::process::ExitCode {
    pricebook_sync::cli::main()
}
