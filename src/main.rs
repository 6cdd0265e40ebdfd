use clap::Parser;

// glibc's allocator cost about a tenth of the server's CPU per USSD hop
// (malloc_consolidate, _int_free); mimalloc cuts that (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KANDA_LOG")
                .unwrap_or_else(|_| "kanda=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match kanda::cli::run(kanda::cli::Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
