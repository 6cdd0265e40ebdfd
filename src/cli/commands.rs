//! What `kanda cases`, `kanda outbox` and `kanda check` print.

use std::{process::ExitCode, sync::Arc};

use super::{CasesCommand, OutboxCommand};
use crate::{
    app::{load_content, AppState, Config},
    domain::{random_token, CaseRef, StageChange, SystemClock},
};

pub(super) async fn cases(config: Config, command: CasesCommand) -> anyhow::Result<ExitCode> {
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    let reference = |r: &str| {
        CaseRef::parse(r).map_err(|e| anyhow::anyhow!("`{r}` is not a case reference: {e}"))
    };
    match command {
        CasesCommand::Show { reference: r, json } => {
            let r = reference(&r)?;
            let Some(view) = state.work.view(&r).await? else {
                eprintln!("no case {r}");
                return Ok(ExitCode::FAILURE);
            };
            if json {
                println!("{}", serde_json::to_string(&view)?);
            } else {
                let c = &view.case;
                println!(
                    "{}  {}  {}  {}  urgent={}  {}  {}",
                    c.reference, c.stage, c.centre, c.concern, c.urgent, c.location, c.created_at
                );
                for e in &view.timeline {
                    println!(
                        "  {}  {:<14} {}{}{}",
                        e.at,
                        e.kind,
                        e.actor.as_deref().unwrap_or(""),
                        e.outcome
                            .as_deref()
                            .map(|o| format!(" {o}"))
                            .unwrap_or_default(),
                        e.note
                            .as_deref()
                            .map(|n| format!(" \"{n}\""))
                            .unwrap_or_default()
                    );
                }
                for d in &view.deadlines {
                    println!("  deadline {:<14} due {}  {}", d.kind, d.due_at, d.state);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CasesCommand::Stage {
            reference: r,
            stage,
            by,
            note,
        } => {
            let r = reference(&r)?;
            let change = StageChange::parse(&stage).map_err(anyhow::Error::msg)?;
            let by = state
                .channels
                .phones
                .read(&by)
                .map_err(|e| anyhow::anyhow!("--by {by}: {e}"))?;
            let key = format!("cli:{}", random_token());
            match state
                .work
                .record_stage(&r, change, &by, note, "cli", key)
                .await
            {
                Ok(done) => {
                    println!(
                        "case {r}: {} -> {}",
                        done.from.as_str(),
                        change.target().as_str()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::casework::CaseError::Store(e)) => Err(e.into()),
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CasesCommand::List { json } => {
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
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(super) async fn outbox(config: Config, command: OutboxCommand) -> anyhow::Result<ExitCode> {
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    match command {
        OutboxCommand::List { json } => {
            for m in state.store.list_outbox().await? {
                if json {
                    println!("{}", serde_json::to_string(&m)?);
                } else {
                    let body: String = m.body.chars().take(40).collect();
                    println!(
                        "{:>6}  {:<11} {:>2}  {:<14} {:<6} {:<14} {}  {:?}{}",
                        m.id,
                        m.status,
                        m.attempts,
                        m.to,
                        if m.urgent { "urgent" } else { "" },
                        m.provider.as_deref().unwrap_or("-"),
                        m.created_at,
                        body,
                        m.last_error
                            .map(|e| format!("  last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        OutboxCommand::Retry { id } => {
            state.store.retry_sms(id).await?;
            println!("outbox message {id} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn check(config: &Config) -> anyhow::Result<ExitCode> {
    let content = load_content(config)?;
    for p in &content.problems {
        println!("{p}");
    }
    let mut errors = content.problems.iter().filter(|p| !p.warning).count();
    let warnings = content.problems.len() - errors;
    // The Primero field mapping `serve` would push with.
    if let Some(primero) = &config.primero {
        match crate::casework::primero::FieldMap::load(&primero.fields) {
            Ok(map) => {
                let fields: Vec<_> = map.mapped().map(|f| f.name()).collect();
                println!(
                    "ok: Primero field mapping {} ({})",
                    primero.fields.display(),
                    fields.join(", ")
                );
            }
            Err(e) => {
                println!("{e}");
                errors += 1;
            }
        }
    }
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
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{errors} problem(s), {warnings} warning(s)");
        Ok(ExitCode::FAILURE)
    }
}
