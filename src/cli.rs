//! The command line: `kanda serve | check | import | cases`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    clock::SystemClock,
    config::{parse_duration, Config},
    domain::{Country, Locale},
    import::{Importer, Kind},
    AppState,
};

#[derive(Parser, Debug)]
#[command(
    name = "kanda",
    version,
    about = "Child-protection reports from a feature phone, routed to the responsible centre"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct Common {
    /// Database: sqlite://FILE (created if missing) or postgres://...
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://kanda.db",
        global = true
    )]
    pub database_url: String,
    /// Flow definitions; the copies built into the binary are used when the folder is absent.
    #[arg(
        long,
        env = "KANDA_FLOWS_DIR",
        default_value = "./flows",
        global = true
    )]
    pub flows_dir: PathBuf,
    /// Fluent texts, one folder per language; built-in copies are used when absent.
    #[arg(
        long,
        env = "KANDA_LOCALES_DIR",
        default_value = "./locales",
        global = true
    )]
    pub locales_dir: PathBuf,
    /// Language for phones with no profile (members of the public).
    #[arg(
        long,
        env = "KANDA_DEFAULT_LOCALE",
        default_value = "en",
        global = true
    )]
    pub default_locale: String,
    /// The deployment's country (ISO 3166 code), to read national phone numbers.
    #[arg(long, env = "KANDA_COUNTRY", default_value = "RW", global = true)]
    pub country: String,
    /// Token gateways must present (`?token=` or HTTP Basic password). Unset: no check.
    #[arg(
        long,
        env = "KANDA_GATEWAY_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub gateway_token: Option<String>,
    /// Abandoned USSD sessions are purged after this long (e.g. 90s, 10m).
    #[arg(long, env = "KANDA_SESSION_TTL", default_value = "10m", value_parser = parse_duration, global = true)]
    pub session_ttl: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the gateway webhooks.
    Serve {
        /// Seed a small demo country, centres, staff and volunteers into an empty database.
        #[arg(long)]
        demo: bool,
        #[arg(long, env = "KANDA_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
    },
    /// Validate the flows and texts `serve` would load; prints file:line: problem.
    Check,
    /// Load reference data from CSV (all or nothing per file).
    Import { what: ImportKind, file: PathBuf },
    /// Cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ImportKind {
    /// code,name,level,parent_code (level: province, district, sector, village)
    Locations,
    /// code,name,province_code
    Centres,
    /// phone,name,language,village_code
    Volunteers,
    /// phone,name,role,centre_code,language (role: caseworker, manager, committee)
    Staff,
}

#[derive(Subcommand, Debug)]
pub enum CasesCommand {
    /// Every case, oldest first.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

impl Common {
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config {
            database_url: self.database_url.clone(),
            flows_dir: self.flows_dir.clone(),
            locales_dir: self.locales_dir.clone(),
            default_locale: Locale::parse(&self.default_locale)?,
            country: Country::parse(&self.country)?,
            gateway_token: self.gateway_token.clone().filter(|t| !t.is_empty()),
            session_ttl: self.session_ttl,
            sms_session_ttl: std::time::Duration::from_secs(1800),
            public_url: None,
            twilio_auth_token: None,
        })
    }
}

/// Runs the command; the exit code is the caller's business.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let config = cli.common.config()?;
    match cli.command {
        Command::Check => check(&config),
        Command::Serve { demo, bind } => {
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            if demo {
                match crate::demo::seed(&state).await? {
                    Some(text) => println!("{text}"),
                    None => println!("The database already holds places: demo seed skipped."),
                }
            }
            let listener = tokio::net::TcpListener::bind(bind).await?;
            let addr = listener.local_addr()?;
            println!("Kanda listening on http://{addr} (USSD: POST /ussd/africastalking)");
            tracing::info!(%addr, db = ?state.store.dialect(), "serving");
            crate::launch(listener, state, shutdown_signal()).await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Import { what, file } => {
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            let kind = match what {
                ImportKind::Locations => Kind::Locations,
                ImportKind::Centres => Kind::Centres,
                ImportKind::Volunteers => Kind::Volunteers,
                ImportKind::Staff => Kind::Staff,
            };
            let shown = file.display().to_string();
            let input = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
            let importer = Importer {
                store: &state.store,
                country: state.config.country,
                texts: state.engine.texts(),
            };
            let n = importer.import(kind, &shown, input).await?;
            println!("{n} rows imported from {shown}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Cases {
            command: CasesCommand::List { json },
        } => {
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            for c in state.store.list_cases().await? {
                if json {
                    println!("{}", serde_json::to_string(&c)?);
                } else {
                    println!(
                        "{}  {:<8} {:<8} {:<14} urgent={} {}  {}",
                        c.reference,
                        c.stage,
                        c.centre,
                        c.concern,
                        c.urgent,
                        c.channel,
                        c.created_at
                    );
                }
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

fn check(config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let content = crate::load_content(config)?;
    for p in &content.problems {
        println!("{p}");
    }
    let errors = content.problems.iter().filter(|p| !p.warning).count();
    let warnings = content.problems.len() - errors;
    if let Some(texts) = &content.texts {
        for l in texts.locales() {
            if texts.is_draft(l) {
                println!("note: locale `{l}` is a draft, awaiting review by a native speaker");
            }
        }
    }
    if errors == 0 {
        println!(
            "ok: flows from {}, texts from {} ({warnings} warning(s))",
            content.origins.0, content.origins.1
        );
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("{errors} problem(s), {warnings} warning(s)");
        Ok(std::process::ExitCode::FAILURE)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
