//! What the suites share of the demo and of time: its people, a case to
//! save, the reference in a screen, the clocks, and a bounded wait.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use chrono::TimeZone;
use kanda::domain::{CaseRef, Channel, ManualClock, NewCase};

// Volunteers of the demo (and one number it does not know).
pub const GRACE: &str = "+250788000001"; // English, Cyarwa village
pub const MARIE: &str = "+250788000002"; // French
pub const EMMANUEL: &str = "+250788000003"; // Kinyarwanda
pub const STRANGER: &str = "+250788999001"; // not registered

// Staff of the demo.
pub const CLAUDINE: &str = "+250788100001"; // caseworker, CAPE-S, English; on duty weekdays 08-17
pub const JEAN: &str = "+250788100002"; // manager, CAPE-S, French
pub const ALINE: &str = "+250788200001"; // caseworker, CAPE-E, Kinyarwanda
pub const PATRICK: &str = "+250788200002"; // manager, CAPE-E, Kinyarwanda
pub const ESTHER: &str = "+250788300001"; // committee, CAPE-S, English

/// The case reference in a screen or a message (its first run of
/// [`CaseRef::LEN`] digits), checked.
pub fn reference_in(text: &str) -> CaseRef {
    let digits: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == CaseRef::LEN)
        .unwrap_or_else(|| panic!("no reference in {text:?}"))
        .to_string();
    CaseRef::parse(&digits).expect("a valid reference")
}

/// A volunteer's report by USSD of a girl of 9, neglect, no immediate
/// danger, at `location_id`, made once per `source_key`. Tests change
/// what they are about: `NewCase { danger: true, ..new_case(key, at) }`.
pub fn new_case(source_key: &str, location_id: i64) -> NewCase {
    NewCase {
        source_key: source_key.into(),
        channel: Channel::Ussd,
        self_report: false,
        anonymous: false,
        reporter_phone: None,
        volunteer_id: None,
        child_name: None,
        child_age: Some(9),
        child_sex: "female".into(),
        disability: None,
        concern: "neglect".into(),
        care: None,
        danger: false,
        location_id,
    }
}

/// Tuesday 1 December 2026, 10:00 in Kigali (08:00 UTC): Claudine is on
/// duty and no quiet hours hold.
pub fn tuesday_morning() -> ManualClock {
    ManualClock::at(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
            .single()
            .expect("a time"),
    )
}

/// Polls `check` until it holds (20 s at most, then fails naming `what`).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A report in Grace's village for a girl named `name`, aged 7.
pub fn report(name: &str) -> Vec<String> {
    ["1", name, "7", "1", "2", "2", "1", "1", "1", "1"]
        .map(str::to_string)
        .to_vec()
}

/// Plays a whole report; the case it made.
pub async fn report_case(app: &super::TestApp, session: &str, name: &str) -> CaseRef {
    let inputs = report(name);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let done = app.session(session, GRACE, &inputs).await;
    assert!(done.starts_with("END Thank you."), "{done}");
    reference_in(&done)
}

/// Everything the database holds, as bytes: SQLite's file and its log;
/// PostgreSQL's rows as `pg_dump` writes them.
pub fn database_bytes(url: &str) -> Vec<u8> {
    match url.strip_prefix("sqlite://") {
        Some(file) => {
            let mut bytes = std::fs::read(file).expect("the database file");
            if let Ok(wal) = std::fs::read(format!("{file}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        None => {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--format=plain", url])
                .output()
                .expect("pg_dump");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    }
}

pub fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}
