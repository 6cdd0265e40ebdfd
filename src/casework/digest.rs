//! Each centre manager's daily digest of overdue cases, at
//! `KANDA_DIGEST_AT` local time: counts and references only, and none on a
//! day with nothing overdue.

use chrono::{DateTime, Utc};

use super::{
    notify::{notify, render},
    timers::{now, schedule, DIGEST},
    CaseWork,
};
use crate::{domain::from_ms, store::TimerRow};

/// References a digest lists before it says how many more.
const DIGEST_REFERENCES: usize = 12;

/// Schedules a centre's next digest after `after_ms`, once per local day.
pub(super) async fn schedule_digest(
    work: &CaseWork,
    centre_id: i64,
    after_ms: i64,
) -> anyhow::Result<()> {
    let (due, day) = next_digest(work, from_ms(after_ms));
    // The centre rides in `level`: a digest is about no one case.
    let key = format!("digest:{centre_id}:{day}");
    schedule(
        work,
        None,
        DIGEST,
        Some(centre_id),
        due.timestamp_millis(),
        key,
        true,
    )
    .await
}

/// The next digest time after `at` (local `KANDA_DIGEST_AT`) and its local date.
pub(super) fn next_digest(work: &CaseWork, at: DateTime<Utc>) -> (DateTime<Utc>, String) {
    use chrono::TimeZone;
    let tz = work.settings.timezone;
    let minute = work.settings.deadlines.digest_minute as u32;
    let local = at.with_timezone(&tz);
    let mut day = local.date_naive();
    loop {
        let time = chrono::NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or_default();
        let candidate = tz
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.with_timezone(&Utc));
        if let Some(c) = candidate.filter(|c| *c > at) {
            return (c, day.to_string());
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// Each centre manager's daily digest: counts and references only.
pub(super) async fn digest(work: &CaseWork, timer: &TimerRow) -> anyhow::Result<()> {
    let Some(centre_id) = timer.level else {
        return Ok(());
    };
    let overdue = work.store.overdue_cases(centre_id).await?;
    if !overdue.is_empty() {
        let managers = work.store.centre_managers(centre_id).await?;
        let centre = work.store.centre_name(centre_id).await?.unwrap_or_default();
        // A digest stays short: the first references, then how many more.
        let mut refs = overdue
            .iter()
            .take(DIGEST_REFERENCES)
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if overdue.len() > DIGEST_REFERENCES {
            refs.push_str(&format!(" +{}", overdue.len() - DIGEST_REFERENCES));
        }
        notify(work, timer, &managers, false, |l| {
            let a = vec![
                ("centre", centre.clone()),
                ("count", overdue.len().to_string()),
                ("references", refs.clone()),
            ];
            render(work, "sms-digest", l, a, &[])
        })
        .await?;
    }
    schedule_digest(work, centre_id, timer.due_at.max(now(work))).await
}
