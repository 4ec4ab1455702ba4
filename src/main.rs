/// mimalloc instead of the system allocator: the GraphQL read path and page application
/// allocate many small objects across threads, where glibc malloc showed up as a quarter
/// of the CPU profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pricebook_sync::cli::main()
}
