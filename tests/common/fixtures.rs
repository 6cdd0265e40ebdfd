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
