//! Loads a database with many cases for the staff-side benchmarks
//! (BENCHMARKS.md): the demo's places, centres and staff, then N cases
//! spread over the demo's villages of both provinces and over the last two
//! years, with a realistic mix (a fifth new, a tenth urgent, one in
//! twenty-five overdue, a sixth closed, a fifth self-reports), and their
//! timelines as the indicators read them (issue 15): an alert for each and
//! its SMS to staff (mostly delivered, some failed or unconfirmed); for each
//! case past `new` a first response after minutes to days, escalations
//! when it came late, then an assessment, a plan, follow-up visits and a
//! closure with its reason as far as the case's stage; a referral with its
//! outcome for a fifth of the assessed; and deadline timers. No event is
//! after now. Deterministic (a fixed seed).
//!
//!     DATABASE_URL=sqlite:///tmp/k1m.db cargo run --release --example seed_cases -- 1000000
//!     DATABASE_URL=postgres://postgres@127.0.0.1:5432/k1m cargo run --release --example seed_cases -- 1000000
//!
//! The database must be empty (the PostgreSQL database must exist). Rows go
//! in with multi-row INSERTs in transactions of 10,000 cases, bypassing the
//! case work (no SMS is queued); ids are given, so PostgreSQL's sequences
//! are moved past them at the end. Ends with ANALYZE.

use std::{sync::Arc, time::Instant};

use kanda::{
    app::{demo, Config},
    domain::{CaseRef, SystemClock},
    store::Keyring,
    AppState,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::Row;

const BATCH: usize = 400;
const TX: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
/// Rows per INSERT: sqlx's SQLite driver names each bound parameter with a
/// call whose cost grows with the statement's parameter count, so a
/// statement of many thousand parameters costs quadratically; ~1,000 per
/// statement keeps the load linear.
const ROWS: usize = 150;
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;
const CLOSE_REASONS: [&str; 4] = [
    "plan_completed",
    "no_protection_concern",
    "moved_away",
    "family_declined",
];
const SERVICES: [&str; 5] = [
    "health",
    "education",
    "legal_aid",
    "social_protection",
    "psychosocial",
];
const OUTCOMES: [Option<&str>; 5] = [
    None,
    Some("accepted"),
    Some("declined"),
    Some("completed"),
    Some("no_response"),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("set DATABASE_URL (sqlite://FILE or postgres://...)"))?;
    let postgres = url.starts_with("postgres");
    // The data key the server will read the seeded names with.
    let keys = Keyring::parse(&std::env::var("KANDA_DATA_KEY").map_err(|_| {
        anyhow::anyhow!("set KANDA_DATA_KEY (the key `kanda serve` reads these cases with)")
    })?)?;
    let name = keys.seal("cases.child_name", "Amina");
    let mut config = Config::for_database(url.clone());
    config.data_keys = Some(Arc::new(keys));
    let state = AppState::build(config, Arc::new(SystemClock)).await?;
    if demo::seed(&state).await?.is_none() {
        anyhow::bail!("the database is not empty");
    }
    drop(state);
    sqlx::any::install_default_drivers();
    // One connection, so that SQLite's settings below hold for every
    // insert: a 1 GiB page cache (the unique and time indexes of millions
    // of events no longer fit the default 2 MiB, and every insert would
    // read the disk), and no flush per transaction: a bulk load that
    // failed is loaded again.
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    if !postgres {
        for pragma in ["PRAGMA cache_size = -1048576", "PRAGMA synchronous = OFF"] {
            sqlx::query(pragma).execute(&pool).await?;
        }
    }
    let villages: Vec<(i64, i64)> = sqlx::query(
        "SELECT l.id, c.id AS centre FROM locations l JOIN centres c ON c.province_id = l.province_id WHERE l.level = 4",
    )
    .fetch_all(&pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("centre")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let volunteers: Vec<i64> = sqlx::query("SELECT id FROM volunteers")
        .fetch_all(&pool)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut rng = StdRng::seed_from_u64(42);
    let started = Instant::now();
    let (mut events, mut timers, mut sms, mut referrals) = (0usize, 0usize, 0usize, 0usize);
    for tx_start in (0..n).step_by(TX) {
        let mut tx = pool.begin().await?;
        for batch_start in (tx_start..(tx_start + TX).min(n)).step_by(BATCH) {
            let ids: Vec<usize> =
                (batch_start..(batch_start + BATCH).min(tx_start + TX).min(n)).collect();
            let mut cases = Vec::with_capacity(ids.len());
            for &i in &ids {
                let id = i as i64 + 1;
                let (village, centre) = villages[rng.gen_range(0..villages.len())];
                let created = now - rng.gen_range(0..730 * DAY_MS);
                let stage = match rng.gen_range(0..100) {
                    0..20 => "new",
                    20..40 => "acknowledged",
                    40..60 => "assessed",
                    60..84 => "planned",
                    _ => "closed",
                };
                let self_report = rng.gen_bool(0.2);
                cases.push(Case {
                    id,
                    reference: CaseRef::from_body(i as u32 + 1).to_string(),
                    stage,
                    centre,
                    village,
                    urgent: rng.gen_bool(0.1),
                    overdue: stage != "closed" && rng.gen_bool(0.04),
                    concern: [
                        "neglect",
                        "violence",
                        "separated",
                        "exploitation",
                        "out_of_school",
                        "disability",
                        "other",
                    ][rng.gen_range(0..7)],
                    channel: if rng.gen_bool(0.7) { "ussd" } else { "sms" },
                    self_report,
                    anonymous: self_report && rng.gen_bool(0.5),
                    volunteer: (!self_report)
                        .then(|| volunteers[rng.gen_range(0..volunteers.len())]),
                    created,
                    // Most answered within the day, some within two, a few later.
                    ack_after: match rng.gen_range(0..100) {
                        0..60 => rng.gen_range(5 * MINUTE_MS..6 * HOUR_MS),
                        60..85 => rng.gen_range(6 * HOUR_MS..DAY_MS),
                        85..95 => rng.gen_range(DAY_MS..2 * DAY_MS),
                        _ => rng.gen_range(2 * DAY_MS..6 * DAY_MS),
                    },
                    assess_after: rng.gen_range(DAY_MS..12 * DAY_MS),
                    plan_after: rng.gen_range(2 * DAY_MS..20 * DAY_MS),
                    close_after: rng.gen_range(20 * DAY_MS..200 * DAY_MS),
                    roll: rng.gen(),
                });
            }
            insert_cases(&mut tx, &cases, &name).await?;
            events += insert_events(&mut tx, &cases, now).await?;
            sms += insert_alert_sms(&mut tx, &cases).await?;
            referrals += insert_referrals(&mut tx, &cases, now).await?;
            timers += insert_timers(&mut tx, &cases, now).await?;
        }
        tx.commit().await?;
        eprint!("\r{} cases", (tx_start + TX).min(n));
    }
    eprintln!();
    if postgres {
        for table in ["cases", "case_events", "timers", "outbox", "referrals"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&pool)
            .await?;
        }
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    println!(
        "RESULT seeded cases={n} events={events} timers={timers} sms={sms} referrals={referrals} seconds={:.1}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Case {
    id: i64,
    reference: String,
    stage: &'static str,
    centre: i64,
    village: i64,
    urgent: bool,
    overdue: bool,
    concern: &'static str,
    channel: &'static str,
    self_report: bool,
    anonymous: bool,
    volunteer: Option<i64>,
    created: i64,
    /// After registration, ms: the first response, then the assessment,
    /// the plan and the closure after it, each when the stage has it.
    ack_after: i64,
    assess_after: i64,
    plan_after: i64,
    close_after: i64,
    /// A closing reason, a referral's service and outcome, the alert's fate.
    roll: u64,
}

/// `($1, $2, ...), (...)` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_cases(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    name: &str,
) -> anyhow::Result<()> {
    for chunk in cases.chunks(ROWS / 3) {
        insert_case_rows(tx, chunk, name).await?;
    }
    Ok(())
}

async fn insert_case_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    name: &str,
) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO cases (id, reference, stage, centre_id, location_id, urgent, concern, care, child_name, child_age,
             child_sex, disability, channel, self_report, anonymous, reporter_phone, volunteer_id, source_key, created_at, overdue)
         VALUES {}",
        placeholders(cases.len(), 20)
    );
    let mut q = sqlx::query(&sql);
    for c in cases {
        q = q
            .bind(c.id)
            .bind(c.reference.clone())
            .bind(c.stage)
            .bind(c.centre)
            .bind(c.village)
            .bind(c.urgent as i64)
            .bind(c.concern)
            .bind("relatives")
            .bind((c.id % 3 == 0).then(|| name.to_string()))
            .bind(Some(c.id % 17))
            .bind(if c.id % 2 == 0 { "female" } else { "male" })
            .bind(Some("no"))
            .bind(c.channel)
            .bind(c.self_report as i64)
            .bind(c.anonymous as i64)
            .bind((c.self_report && !c.anonymous).then(|| format!("+2507880{:05}", c.id % 100_000)))
            .bind(c.volunteer)
            .bind(format!("seed:{}", c.id))
            .bind(c.created)
            .bind(c.overdue as i64);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The stages a case's timeline reaches, by its stage now.
fn reached(stage: &str) -> usize {
    match stage {
        "new" => 0,
        "acknowledged" => 1,
        "assessed" => 2,
        "planned" => 3,
        _ => 4,
    }
}

async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    now: i64,
) -> anyhow::Result<usize> {
    // (case id, kind, at, actor, outcome, source key)
    type Event<'a> = (i64, &'a str, i64, &'a str, Option<String>, String);
    let mut rows: Vec<Event> = Vec::new();
    // Nothing happens after now: a step that would is done just before.
    let clamp = |t: i64| t.min(now - MINUTE_MS);
    for c in cases {
        let id = c.id;
        rows.push((
            id,
            "alert",
            c.created + 1_000,
            "kanda",
            None,
            format!("seed:alert:{id}"),
        ));
        let reached = reached(c.stage);
        if reached == 0 {
            continue;
        }
        let ack = clamp(c.created + c.ack_after);
        // Late: up the chain, a level per timeout (1 h urgent, else 24 h).
        let timeout = if c.urgent { HOUR_MS } else { DAY_MS };
        for level in 2..=3 {
            let at = c.created + timeout * (level - 1);
            if at < ack {
                rows.push((
                    id,
                    "escalated",
                    at,
                    "kanda",
                    Some(format!("level {level}")),
                    format!("seed:esc:{id}:{level}"),
                ));
            }
        }
        rows.push((
            id,
            "acknowledged",
            ack,
            "staff:1",
            Some("acknowledged".into()),
            format!("seed:ack:{id}"),
        ));
        if reached < 2 {
            continue;
        }
        let assessed = clamp(ack.max(c.created + c.assess_after));
        rows.push((
            id,
            "assessed",
            assessed,
            "staff:1",
            Some("assessed".into()),
            format!("seed:assess:{id}"),
        ));
        if reached < 3 {
            continue;
        }
        let planned = clamp(assessed + c.plan_after);
        rows.push((
            id,
            "planned",
            planned,
            "staff:1",
            Some("planned".into()),
            format!("seed:plan:{id}"),
        ));
        // Follow-up visits every 30 days after the plan, up to three.
        let last = if reached == 4 {
            clamp(planned + c.close_after)
        } else {
            now - MINUTE_MS
        };
        for k in 1..=3 {
            let at = planned + k * 30 * DAY_MS;
            if at < last {
                rows.push((
                    id,
                    "visit",
                    at,
                    "volunteer:1",
                    Some("same".into()),
                    format!("seed:visit:{id}:{k}"),
                ));
            }
        }
        if reached == 4 {
            let reason = CLOSE_REASONS[(c.roll % CLOSE_REASONS.len() as u64) as usize];
            rows.push((
                id,
                "closed",
                last,
                "staff:1",
                Some(reason.into()),
                format!("seed:close:{id}"),
            ));
        }
    }
    for chunk in rows.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO case_events (case_id, kind, at, actor, outcome, source_key) VALUES {}",
            placeholders(chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.0)
                .bind(r.1)
                .bind(r.2)
                .bind(r.3)
                .bind(r.4.clone())
                .bind(r.5.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(rows.len())
}

/// Each case's alert SMS to the staff on duty, keyed as the case work keys
/// it: mostly delivered, some sent without a report yet, a few failed.
async fn insert_alert_sms(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
) -> anyhow::Result<usize> {
    for chunk in cases.chunks(ROWS / 2) {
        insert_sms_rows(tx, chunk).await?;
    }
    Ok(cases.len())
}

async fn insert_sms_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
) -> anyhow::Result<usize> {
    let sql = format!(
        "INSERT INTO outbox (to_phone, body, kind, urgent, status, attempts, next_attempt_at, source_key, created_at, updated_at, sent_at, case_id) VALUES {}",
        placeholders(cases.len(), 12)
    );
    let mut q = sqlx::query(&sql);
    for c in cases {
        let status = match c.roll % 100 {
            0..90 => "delivered",
            90..95 => "sent",
            _ => "failed",
        };
        let at = c.created + 1_000;
        q = q
            .bind("+250788100001")
            .bind(format!(
                "Kanda: new case {}. Reply ACK {} when you have seen it.",
                c.reference, c.reference
            ))
            .bind("notice")
            .bind(c.urgent as i64)
            .bind(status)
            .bind(1i64)
            .bind(at)
            .bind(format!("seed:alert-sms:{}", c.id))
            .bind(at)
            .bind(at + 2_000)
            .bind(Some(at + 1_000))
            .bind(c.id);
    }
    q.execute(&mut **tx).await?;
    Ok(cases.len())
}

/// A referral for a fifth of the cases assessed, two days after the
/// assessment, with an outcome a week later (or none yet).
async fn insert_referrals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    now: i64,
) -> anyhow::Result<usize> {
    let referred: Vec<&Case> = cases
        .iter()
        .filter(|c| reached(c.stage) >= 2 && (c.roll >> 8) % 5 == 0)
        .collect();
    if referred.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO referrals (case_id, service, referred_by, referred_at, outcome, outcome_at) VALUES {}",
        placeholders(referred.len(), 6)
    );
    let mut q = sqlx::query(&sql);
    for c in &referred {
        let at = (c.created + c.ack_after.max(c.assess_after) + 2 * DAY_MS).min(now - MINUTE_MS);
        let outcome = OUTCOMES[((c.roll >> 16) % OUTCOMES.len() as u64) as usize];
        q = q
            .bind(c.id)
            .bind(SERVICES[((c.roll >> 24) % SERVICES.len() as u64) as usize])
            .bind(1i64)
            .bind(at)
            .bind(outcome)
            .bind(outcome.map(|_| (at + 7 * DAY_MS).min(now)));
    }
    q.execute(&mut **tx).await?;
    Ok(referred.len())
}

async fn insert_timers(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    now: i64,
) -> anyhow::Result<usize> {
    for chunk in cases.chunks(ROWS / 4) {
        insert_timer_rows(tx, chunk, now).await?;
    }
    Ok(cases.len() * 2)
}

async fn insert_timer_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
    now: i64,
) -> anyhow::Result<usize> {
    // Each case's alert, sent long ago (keyed as the case work keys it,
    // `alert:<id>`, so the sweep a server runs when it starts finds none
    // missing), and one deadline: the response (met, or pending when new),
    // or for an overdue case a missed assessment.
    let sql = format!(
        "INSERT INTO timers (case_id, kind, due_at, state, attempts, source_key, quiet, created_at, fired_at, settled_at) VALUES {}",
        placeholders(cases.len() * 2, 10)
    );
    let mut q = sqlx::query(&sql);
    for c in cases {
        q = q
            .bind(c.id)
            .bind("alert")
            .bind(c.created)
            .bind("fired")
            .bind(0i64)
            .bind(format!("alert:{}", c.id))
            .bind(0i64)
            .bind(c.created)
            .bind(Some(c.created + 1_000))
            .bind(None::<i64>);
        let (kind, state, fired, settled) = if c.overdue {
            ("assessment", "fired", Some(c.created + 7 * DAY_MS), None)
        } else if c.stage == "new" {
            ("response", "pending", None, None)
        } else {
            ("response", "met", None, Some(c.created + 3_600_000))
        };
        // A pending deadline is in the future: the server must not spend the
        // benchmark firing a backlog.
        let due = match state {
            "pending" => now + 2 * DAY_MS,
            _ if kind == "assessment" => c.created + 7 * DAY_MS,
            _ => c.created + 2 * DAY_MS,
        };
        q = q
            .bind(c.id)
            .bind(kind)
            .bind(due)
            .bind(state)
            .bind(0i64)
            .bind(format!("seed:{kind}:{}", c.id))
            .bind(0i64)
            .bind(c.created)
            .bind(fired)
            .bind(settled);
    }
    q.execute(&mut **tx).await?;
    Ok(cases.len() * 2)
}
