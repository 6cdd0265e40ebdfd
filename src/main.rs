use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = kanda::cli::Cli::parse();
    let format = cli.common.log_format;
    kanda::cli::logging::init(format);
    match kanda::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            kanda::cli::logging::fatal(format, &e);
            std::process::ExitCode::FAILURE
        }
    }
}
