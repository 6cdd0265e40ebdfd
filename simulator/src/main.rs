//! kanda-sim: a terminal phone, a scenario runner and a load generator that
//! speak a USSD gateway's wire format to a Kanda server (Africa's Talking by
//! default; `--gateway` hubtel, nalo, arkesel or beem), and an SMS chat over
//! Twilio's signed inbound webhook.

mod load;
mod scenario;
mod sms;
mod twiml;
mod wire;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::wire::{session_id, Conn, Gateway, Hop, Target};

#[derive(Parser)]
#[command(
    name = "kanda-sim",
    version,
    about = "A phone, a scenario runner and a load generator for Kanda's USSD endpoint, \
             and an SMS chat over Twilio's signed webhook"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// An interactive phone: dial, read each screen and its length, type answers.
    Ussd {
        /// The USSD endpoint, e.g. http://127.0.0.1:8080/ussd/africastalking
        #[arg(long)]
        url: String,
        #[arg(long)]
        phone: String,
        #[arg(long, default_value = "*384*123#")]
        service_code: String,
        /// Gateway token (sent as ?token=).
        #[arg(long)]
        token: Option<String>,
        /// The gateway's wire format; --url is then its route (/ussd/NAME).
        #[arg(long, value_enum, default_value = "africastalking")]
        gateway: Gateway,
    },
    /// Chat by SMS as a phone would, through Twilio's signed inbound webhook.
    ///
    /// Each line read is one SMS, posted as Twilio posts it and signed with
    /// X-Twilio-Signature; each <Message> of the TwiML reply is printed with
    /// its length and SMS segments. A line `!again` resends the last SMS with
    /// the same MessageSid, as a gateway retry does. Ctrl-D ends.
    Sms {
        /// The server's Twilio SMS webhook, e.g. http://127.0.0.1:8080/sms/twilio
        #[arg(long)]
        url: String,
        /// The sender, in E.164.
        #[arg(long)]
        phone: String,
        /// The service's number.
        #[arg(long, default_value = "+250788999999")]
        to: String,
        /// The Twilio auth token that signs each request (default: the one
        /// `kanda serve --demo` uses when none is configured).
        #[arg(
            long,
            env = "KANDA_TWILIO_AUTH_TOKEN",
            default_value = "kanda-demo-twilio-token",
            hide_env_values = true
        )]
        auth_token: String,
        /// The URL the signature covers, when the server knows itself by another
        /// (KANDA_PUBLIC_URL behind a proxy); default: --url.
        #[arg(long)]
        signed_url: Option<String>,
    },
    /// Scripted sessions with expected screens; exits non-zero on a mismatch.
    Run {
        /// Scenario files (TOML).
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Overrides each file's `url`.
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        token: Option<String>,
        /// The gateway's wire format; --url is then its route (/ussd/NAME).
        #[arg(long, value_enum, default_value = "africastalking")]
        gateway: Gateway,
    },
    /// Complete sessions, C at a time; prints hops per second and p50/p95/p99 hop latency.
    Load {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 1000)]
        sessions: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// The session's inputs, joined by `*` (default: a demo volunteer's report in her own village).
        #[arg(long, default_value = "1*1*7*1*2*2*1*1*1*1")]
        inputs: String,
        #[arg(long, default_value = "+250788000001")]
        phone_base: String,
        /// How many phones, from --phone-base upward.
        #[arg(long, default_value_t = 1)]
        phones: usize,
        #[arg(long)]
        token: Option<String>,
        /// Accept CON on the last hop (for the constant-screen baseline).
        #[arg(long)]
        constant: bool,
        /// The gateway's wire format; --url is then its route (/ussd/NAME).
        #[arg(long, value_enum, default_value = "africastalking")]
        gateway: Gateway,
    },
    /// A bare axum server answering a constant CON screen: the reference point for benchmarks.
    Baseline {
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: std::net::SocketAddr,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Ussd {
            url,
            phone,
            service_code,
            token,
            gateway,
        } => {
            phone_loop(
                &Target::parse(&url, token.as_deref())?,
                gateway,
                &phone,
                &service_code,
            )
            .await
        }
        Command::Sms {
            url,
            phone,
            to,
            auth_token,
            signed_url,
        } => {
            sms::chat(sms::Chat {
                signed_url: signed_url.unwrap_or_else(|| url.clone()),
                url,
                phone,
                to,
                auth_token,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenarios,
            url,
            token,
            gateway,
        } => {
            let (mut passed, mut failed) = (0, 0);
            for file in &scenarios {
                let o = scenario::run_file(file, url.as_deref(), token.as_deref(), gateway).await?;
                passed += o.passed;
                failed += o.failed;
            }
            println!("{passed} passed, {failed} failed");
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Load {
            url,
            sessions,
            concurrency,
            inputs,
            phone_base,
            phones,
            token,
            constant,
            gateway,
        } => {
            let opts = load::Options {
                gateway,
                target: Target::parse(&url, token.as_deref())?,
                sessions,
                concurrency,
                inputs: if inputs.is_empty() {
                    vec![]
                } else {
                    inputs.split('*').map(str::to_string).collect()
                },
                phones: load::phones(&phone_base, phones.max(1))?,
                constant,
            };
            let report = load::run(opts).await?;
            let ms = |q| report.percentile(q).as_secs_f64() * 1000.0;
            println!(
                "sessions: {} ok, {} failed; hops: {} in {:.2}s",
                report.ok_sessions,
                report.failed_sessions,
                report.hops,
                report.elapsed.as_secs_f64()
            );
            println!(
                "hops/s: {:.0}   hop latency p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms",
                report.hops_per_second(),
                ms(0.50),
                ms(0.95),
                ms(0.99)
            );
            for (hop, latencies) in report.by_hop.iter().enumerate() {
                let ms = |q| load::percentile(latencies, q).as_secs_f64() * 1000.0;
                println!(
                    "  hop {:>2}: p50 {:.3} ms, p99 {:.3} ms",
                    hop + 1,
                    ms(0.50),
                    ms(0.99)
                );
            }
            println!("{}", report.result_line());
            if let Some(e) = &report.first_error {
                eprintln!("first failure: {e}");
            }
            Ok(if report.failed_sessions == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Baseline { bind } => {
            let app = axum::Router::new().route(
                "/ussd/africastalking",
                axum::routing::post(|_body: bytes::Bytes| async { CONSTANT_SCREEN }),
            );
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .with_context(|| format!("cannot bind {bind}"))?;
            println!("listening on {}", listener.local_addr()?);
            axum::serve(listener, app).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

const CONSTANT_SCREEN: &str =
    "CON Welcome\n1. Report a child\n2. Log a visit\n3. My reports\n4. Language";

/// The interactive phone. Works with a terminal or a pipe on stdin.
async fn phone_loop(
    target: &Target,
    gateway: Gateway,
    phone: &str,
    service_code: &str,
) -> anyhow::Result<ExitCode> {
    let mut conn = Conn::connect(target).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        println!("Dialling {service_code} from {phone}...");
        let id = session_id("sim");
        let mut inputs: Vec<String> = Vec::new();
        loop {
            let hop = Hop {
                session: &id,
                phone,
                service_code,
                inputs: &inputs,
                seq: inputs.len(),
            };
            let reply = conn.hop_via(gateway, &hop).await?;
            println!("+{}+", "-".repeat(34));
            for l in reply.text.lines() {
                println!("| {l}");
            }
            println!("+{}+ {}", "-".repeat(34), reply.length_line());
            if reply.end {
                break;
            }
            print_prompt("> ");
            match lines.next_line().await? {
                Some(line) => inputs.push(line.trim_end_matches(['\r', '\n']).to_string()),
                None => return Ok(ExitCode::SUCCESS),
            }
        }
        print_prompt("Press Enter to dial again, or q to quit: ");
        match lines.next_line().await? {
            Some(l) if l.trim().eq_ignore_ascii_case("q") => return Ok(ExitCode::SUCCESS),
            Some(_) => {}
            None => return Ok(ExitCode::SUCCESS),
        }
    }
}

fn print_prompt(p: &str) {
    use std::io::Write;
    print!("{p}");
    let _ = std::io::stdout().flush();
}
