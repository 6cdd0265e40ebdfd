//! Loads a database with many cases for the staff-side benchmarks
//! (BENCHMARKS.md): the demo's places, centres and staff, then N cases
//! spread over the demo's villages of both provinces and over the last two
//! years, with a realistic mix (a fifth new, a tenth urgent, one in
//! twenty-five overdue, a sixth closed, a fifth self-reports), and their
//! timelines (an alert for each, an acknowledgement for each case past
//! `new`) and deadline timers. Deterministic (a fixed seed).
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
    AppState,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::{AnyPool, Row};

const BATCH: usize = 400;
const TX: usize = 10_000;
const DAY_MS: i64 = 86_400_000;

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
    let state = AppState::build(Config::for_database(url.clone()), Arc::new(SystemClock)).await?;
    if demo::seed(&state).await?.is_none() {
        anyhow::bail!("the database is not empty");
    }
    drop(state);
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(&url).await?;
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
    let (mut events, mut timers) = (0usize, 0usize);
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
                });
            }
            insert_cases(&mut tx, &cases).await?;
            events += insert_events(&mut tx, &cases).await?;
            timers += insert_timers(&mut tx, &cases, now).await?;
        }
        tx.commit().await?;
        eprint!("\r{} cases", (tx_start + TX).min(n));
    }
    eprintln!();
    if postgres {
        for table in ["cases", "case_events", "timers"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(&pool)
            .await?;
        }
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    println!(
        "RESULT seeded cases={n} events={events} timers={timers} seconds={:.1}",
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
            .bind(if c.id % 3 == 0 { Some("Amina") } else { None })
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

async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[Case],
) -> anyhow::Result<usize> {
    // (case id, kind, at, actor, outcome, source key)
    type Event<'a> = (i64, &'a str, i64, &'a str, Option<&'a str>, String);
    let mut rows: Vec<Event> = Vec::new();
    for c in cases {
        rows.push((
            c.id,
            "alert",
            c.created + 1_000,
            "kanda",
            None,
            format!("seed:alert:{}", c.id),
        ));
        if c.stage != "new" {
            rows.push((
                c.id,
                "acknowledged",
                c.created + 3_600_000,
                "staff:1",
                Some("acknowledged"),
                format!("seed:ack:{}", c.id),
            ));
        }
    }
    let sql = format!(
        "INSERT INTO case_events (case_id, kind, at, actor, outcome, source_key) VALUES {}",
        placeholders(rows.len(), 6)
    );
    let mut q = sqlx::query(&sql);
    for r in &rows {
        q = q
            .bind(r.0)
            .bind(r.1)
            .bind(r.2)
            .bind(r.3)
            .bind(r.4)
            .bind(r.5.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(rows.len())
}

async fn insert_timers(
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
