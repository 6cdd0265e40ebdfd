//! The command line: `kanda serve | check | import | cases | outbox |
//! staff | token | audit`. It
//! sits above the app: every command builds the app's state from its flags
//! and runs there.

mod access;
pub mod backup;
mod commands;
mod flags;
pub mod keys;
pub mod logging;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::{Parser, Subcommand, ValueEnum};

pub use flags::{Common, LogFormat};

use crate::{
    app::{demo, launch, AppState},
    channels::import::{Importer, Kind},
    domain::{Secret, SystemClock},
    gateway::TwilioConfig,
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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the gateway webhooks.
    Serve {
        /// Seed a small demo country, centres, staff and volunteers into an empty database.
        #[arg(long)]
        demo: bool,
        #[arg(long, env = "KANDA_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// With --demo: every case-management clock in minutes (acknowledge in
        /// 2, escalate again 2 later...), to watch the whole loop in one sitting.
        #[arg(long, requires = "demo")]
        fast: bool,
    },
    /// Validate the flows and texts `serve` would load (and the Primero field
    /// mapping, when KANDA_PRIMERO_URL is set); prints file:line: problem.
    Check,
    /// Load reference data from CSV (all or nothing per file).
    Import { what: ImportKind, file: PathBuf },
    /// Cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Outgoing SMS.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// API bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit log (append-only).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent copy of the database while servers run (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump, custom format).
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty database (refused when it holds rows,
    /// unless --force; stop the target's servers first).
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// The data keys that seal child-identifying fields at rest.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum StaffCommand {
    /// Set a staff member's web password, read from standard input (never
    /// from the command line).
    Password { phone: String },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue an API token; it is printed once and stored hashed.
    Issue {
        #[arg(long)]
        name: String,
        /// caseworker, manager, committee, admin or auditor.
        #[arg(long)]
        role: String,
        /// The centre's code, for a centre's role.
        #[arg(long)]
        centre: Option<String>,
    },
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Every row, oldest first.
    List {
        /// Only rows about this case.
        #[arg(long)]
        case: Option<String>,
        /// One JSON object per line: at, actor, action, case, address.
        #[arg(long)]
        json: bool,
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
    /// phone,name,role,centre_code,language (role: caseworker, manager, committee; admin and auditor with no centre_code)
    Staff,
    /// centre_code,phone,days,hours,fallback (e.g. CAPE-S,0788100001,mon-fri,08:00-17:00,yes); replaces each centre's rota
    Rota,
    /// centre_code,level,phone (level: 1, 2, 3... or caseworker, manager, committee); replaces each centre's chain
    Chain,
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// Every outgoing SMS, oldest first, with its status.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Puts a failed or undelivered message back in the queue, attempts reset.
    Retry { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum CasesCommand {
    /// Every case, oldest first.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One case with its timeline: alerts, acknowledgements, escalations,
    /// visits, stage changes, and its deadlines with their state.
    Show {
        reference: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Record a stage change by a staff member of the case's centre:
    /// acknowledged, assessed, planned, reviewed or closed.
    Stage {
        reference: String,
        stage: String,
        /// The staff member's registered phone.
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
}

/// Runs the command; the exit code is the caller's business.
pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let mut config = cli.common.config()?;
    if config.data_keys.is_none() && !matches!(cli.command, Command::Serve { .. }) {
        // A demo database: its key beside it (`serve` itself refuses to
        // start on it without `--demo` or a configured key).
        if let Some((keys, path)) = demo::existing_demo_keys(&config.database_url)? {
            eprintln!("Using the demo data key in {}", path.display());
            config.data_keys = Some(Arc::new(keys));
        }
    }
    match cli.command {
        Command::Check => commands::check(&config),
        Command::Serve { demo, bind, fast } => {
            if fast {
                config.deadlines = crate::casework::Deadlines::fast();
                println!("Demo, fast: alerts escalate after 2 minutes (1 when urgent), deadlines in minutes.");
            }
            if demo && config.sms.twilio.is_none() {
                // `kanda-sim sms` signs with this token by default, so the demo
                // answers Twilio's webhook with no set-up. Never outside --demo.
                config.sms.twilio = Some(TwilioConfig {
                    account_sid: DEMO_TWILIO_ACCOUNT.into(),
                    auth_token: Secret::new(DEMO_TWILIO_TOKEN),
                    from: None,
                    api_url: "http://127.0.0.1:9".into(),
                });
                println!("Demo: Twilio webhooks verify with the demo auth token `{DEMO_TWILIO_TOKEN}` (set KANDA_TWILIO_AUTH_TOKEN to use yours).");
            }
            if demo && config.data_keys.is_none() {
                let (keys, path, new) = demo::demo_keys(&config.database_url)?;
                let how = if new { "made and kept in" } else { "read from" };
                println!(
                    "Demo: child data is sealed with a data key {how} {} (set KANDA_DATA_KEY to use yours).",
                    path.display()
                );
                config.data_keys = Some(Arc::new(keys));
            }
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            if demo {
                match demo::seed(&state).await? {
                    Some(text) => println!("{text}"),
                    None => println!("The database already holds places: demo seed skipped."),
                }
            }
            let listener = tokio::net::TcpListener::bind(bind).await?;
            let addr = listener.local_addr()?;
            println!("Kanda listening on http://{addr} (USSD: POST /ussd/africastalking, SMS: POST /sms/twilio and /sms/africastalking)");
            tracing::info!(%addr, db = ?state.store.dialect(), "serving");
            launch(listener, state, shutdown_signal()).await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Import { what, file } => {
            let state = AppState::build(config, Arc::new(SystemClock)).await?;
            let kind = match what {
                ImportKind::Locations => Kind::Locations,
                ImportKind::Centres => Kind::Centres,
                ImportKind::Volunteers => Kind::Volunteers,
                ImportKind::Staff => Kind::Staff,
                ImportKind::Rota => Kind::Rota,
                ImportKind::Chain => Kind::Chain,
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
        Command::Outbox { command } => commands::outbox(config, command).await,
        Command::Cases { command } => commands::cases(config, command).await,
        Command::Staff { command } => access::staff(config, command).await,
        Command::Token { command } => access::token(config, command).await,
        Command::Audit { command } => access::audit(config, command).await,
        Command::Keys { command } => keys::keys(config, command).await,
        Command::Backup { to } => {
            let done = backup::backup(&config, &to).await?;
            println!(
                "Backup written to {} ({} bytes in {:.1} s)",
                to.display(),
                done.bytes,
                done.seconds
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Restore { from, force } => {
            let done = backup::restore(&config, &from, force).await?;
            println!(
                "Restored {} in {:.1} s: {} cases",
                from.display(),
                done.seconds,
                done.cases.unwrap_or(0)
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// The auth token `kanda serve --demo` checks Twilio webhooks with when
/// none is configured (and `kanda-sim sms` signs with by default).
pub const DEMO_TWILIO_TOKEN: &str = "kanda-demo-twilio-token";
const DEMO_TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000000";

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
