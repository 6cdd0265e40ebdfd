use clap::Parser;

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
