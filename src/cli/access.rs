//! `kanda staff password`, `kanda token issue|revoke`, `kanda audit list`.

use std::{
    io::{BufRead as _, IsTerminal as _},
    process::ExitCode,
    sync::Arc,
};

use super::{AuditCommand, StaffCommand, TokenCommand};
use crate::{
    app::{AppState, Config},
    casework::access::AccessError,
    domain::{CaseRef, Phone, Role, SystemClock},
    store::AuditFilter,
};

/// Reads a password from standard input: hidden at a terminal, else the
/// first line (for scripts: `echo ... | kanda staff password PHONE`).
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("New password (at least 8 characters): ");
        return Ok(rpassword::read_password()?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub(super) async fn staff(config: Config, command: StaffCommand) -> anyhow::Result<ExitCode> {
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    match command {
        StaffCommand::Password { phone } => {
            let phone = Phone::parse(&phone, state.config.country)
                .map_err(|e| anyhow::anyhow!("`{phone}`: {e}"))?;
            let password = read_password()?;
            match state.work.set_password(&phone, &password).await {
                Ok(()) => println!("password set for {phone}"),
                Err(e @ (AccessError::Invalid(_) | AccessError::NoStaff(_))) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn token(config: Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    match command {
        TokenCommand::Issue { name, role, centre } => {
            let role = Role::parse(&role)?;
            match state.work.issue_token(&name, role, centre.as_deref()).await {
                Ok(token) => {
                    eprintln!("token `{name}` ({role}) issued; it is shown once, keep it secret:");
                    println!("{token}");
                }
                Err(e @ (AccessError::Invalid(_) | AccessError::TokenExists(_))) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        TokenCommand::Revoke { name } => {
            if state.work.revoke_token(&name).await? {
                println!("token `{name}` revoked");
            } else {
                eprintln!("no live token named `{name}`");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct AuditLine<'a> {
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    case: Option<&'a str>,
    address: Option<&'a str>,
}

pub(super) async fn audit(config: Config, command: AuditCommand) -> anyhow::Result<ExitCode> {
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    match command {
        AuditCommand::List { case, json } => {
            let case = case
                .map(|c| CaseRef::parse(&c).map_err(|e| anyhow::anyhow!("`{c}`: {e}")))
                .transpose()?;
            let mut filter = AuditFilter {
                case,
                limit: Some(10_000),
                ..AuditFilter::default()
            };
            loop {
                let rows = state.store.audit_entries(&filter).await?;
                for r in &rows {
                    if json {
                        let line = AuditLine {
                            at: &r.at,
                            actor: &r.actor,
                            action: &r.action,
                            case: r.case.as_deref(),
                            address: r.address.as_deref(),
                        };
                        println!("{}", serde_json::to_string(&line)?);
                    } else {
                        println!(
                            "{}  {:<22} {:<18} {:<9} {}{}",
                            r.at,
                            r.actor,
                            r.action,
                            r.case.as_deref().unwrap_or("-"),
                            r.address.as_deref().unwrap_or("-"),
                            r.detail
                                .as_deref()
                                .map(|d| format!("  {d}"))
                                .unwrap_or_default()
                        );
                    }
                }
                match rows.last() {
                    Some(last) if rows.len() == 10_000 => filter.after = Some(last.id),
                    _ => break,
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
