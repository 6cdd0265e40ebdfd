//! Quiet hours: the local hours when reminders and digests wait (alerts
//! and escalations never do), daylight saving followed.

use chrono::{DateTime, Utc};

use super::CaseWork;
use crate::domain::rota::{minute_of, parse_clock_span, DAY_MINUTES};

/// Hours of the day, in the deployment's local time, when reminders wait:
/// from `start_minute` (included) to `end_minute` (excluded), minutes after
/// midnight. An end before the start crosses midnight (`21:00-07:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    start_minute: u16,
    end_minute: u16,
}

impl std::str::FromStr for QuietHours {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (start, end) = parse_clock_span(s).ok_or_else(|| {
            format!("KANDA_QUIET_HOURS: `{s}` is not a span of hours: write HH:MM-HH:MM (e.g. 21:00-07:00), or `off`")
        })?;
        QuietHours::new(start, end).map_err(|e| format!("KANDA_QUIET_HOURS: `{s}`: {e}"))
    }
}

impl QuietHours {
    /// From minutes after midnight (`end` may be 1440, i.e. `24:00`); they
    /// must differ and leave some of the day outside.
    pub fn new(start_minute: u16, end_minute: u16) -> Result<Self, String> {
        let day = DAY_MINUTES;
        if start_minute >= day || end_minute > day {
            return Err("a time is past 24:00".into());
        }
        if start_minute == end_minute || (start_minute == 0 && end_minute == day) {
            return Err("the start and the end must differ and leave part of the day outside (messages would never go)".into());
        }
        Ok(QuietHours {
            start_minute,
            end_minute: end_minute % day,
        })
    }

    pub fn start_minute(&self) -> u16 {
        self.start_minute
    }

    /// 0 for `24:00`.
    pub fn end_minute(&self) -> u16 {
        self.end_minute
    }

    /// Whether a local time (to the minute) is quiet.
    pub fn contains(&self, local: chrono::NaiveTime) -> bool {
        let m = minute_of(local);
        if self.start_minute < self.end_minute {
            self.start_minute <= m && m < self.end_minute
        } else {
            m >= self.start_minute || m < self.end_minute
        }
    }

    /// Whether it is quiet in `tz` at the instant `utc`.
    pub fn quiet_at(&self, tz: chrono_tz::Tz, utc: chrono::DateTime<chrono::Utc>) -> bool {
        self.contains(utc.with_timezone(&tz).time())
    }

    /// When held-back messages may go: `utc` itself when it is not quiet,
    /// else the instant these quiet hours end. Daylight saving time is
    /// followed: an end that a clock change skips (spring) is the change
    /// itself; an end that happens twice (autumn) ends at its first pass
    /// unless the instant given is already in the repeated hour.
    pub fn next_end_after(
        &self,
        tz: chrono_tz::Tz,
        utc: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        use chrono::{LocalResult, TimeZone};
        if !self.quiet_at(tz, utc) {
            return utc;
        }
        let end = chrono::NaiveTime::from_hms_opt(
            u32::from(self.end_minute / 60),
            u32::from(self.end_minute % 60),
            0,
        )
        .unwrap_or(chrono::NaiveTime::MIN);
        let today = utc.with_timezone(&tz).date_naive();
        let mut ends = Vec::new();
        for offset in -1..=2 {
            let Some(day) = today.checked_add_signed(chrono::TimeDelta::days(offset)) else {
                continue;
            };
            let local = day.and_time(end);
            match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => ends.push(t.with_timezone(&chrono::Utc)),
                LocalResult::Ambiguous(a, b) => {
                    ends.push(a.with_timezone(&chrono::Utc));
                    ends.push(b.with_timezone(&chrono::Utc));
                }
                // Skipped by a clock change: the end is the first instant
                // after the last local minute before it.
                LocalResult::None => {
                    let mut before = local;
                    for _ in 0..DAY_MINUTES {
                        before -= chrono::TimeDelta::minutes(1);
                        if let Some(t) = tz.from_local_datetime(&before).latest() {
                            ends.push(
                                t.with_timezone(&chrono::Utc) + chrono::TimeDelta::minutes(1),
                            );
                            break;
                        }
                    }
                }
            }
        }
        ends.sort();
        ends.into_iter()
            .find(|t| *t > utc && !self.quiet_at(tz, *t))
            // Unreachable for a span that leaves part of the day outside; a
            // day later is a safe answer all the same.
            .unwrap_or(utc + chrono::TimeDelta::days(1))
    }
}

impl CaseWork {
    /// When a reminder held at `at` may go: `None` when it is not quiet
    /// (now), else when quiet hours end.
    pub(super) fn quiet_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let q = self.settings.quiet_hours?;
        let tz = self.settings.timezone;
        q.quiet_at(tz, at).then(|| q.next_end_after(tz, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
        s.parse().unwrap()
    }

    fn hm(h: u32, m: u32) -> chrono::NaiveTime {
        chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn quiet_hours_contain_their_start_not_their_end_across_midnight() {
        let night: QuietHours = "21:00-07:00".parse().unwrap();
        assert!(night.contains(hm(21, 0)));
        assert!(night.contains(hm(23, 59)));
        assert!(night.contains(hm(0, 0)));
        assert!(night.contains(hm(6, 59)));
        assert!(!night.contains(hm(7, 0)));
        assert!(!night.contains(hm(12, 0)));
        assert!(!night.contains(hm(20, 59)));
        let lunch: QuietHours = "12:00-14:00".parse().unwrap();
        assert!(lunch.contains(hm(12, 0)) && lunch.contains(hm(13, 59)));
        assert!(!lunch.contains(hm(14, 0)) && !lunch.contains(hm(11, 59)));
    }

    #[test]
    fn quiet_hours_end_in_local_time_without_daylight_saving() {
        // Kigali is UTC+2 all year.
        let tz = chrono_tz::Tz::Africa__Kigali;
        let night: QuietHours = "21:00-07:00".parse().unwrap();
        assert!(
            night.quiet_at(tz, utc("2026-12-01T19:00:00Z")),
            "21:00 local"
        );
        assert!(!night.quiet_at(tz, utc("2026-12-01T18:59:00Z")));
        assert!(
            !night.quiet_at(tz, utc("2026-12-01T05:00:00Z")),
            "07:00 local"
        );
        assert_eq!(
            night.next_end_after(tz, utc("2026-12-01T19:30:00Z")),
            utc("2026-12-02T05:00:00Z"),
            "21:30 local waits for 07:00 the next morning"
        );
        assert_eq!(
            night.next_end_after(tz, utc("2026-12-02T02:00:00Z")),
            utc("2026-12-02T05:00:00Z"),
            "04:00 local waits for 07:00 the same morning"
        );
        let noon = utc("2026-12-02T10:00:00Z");
        assert_eq!(night.next_end_after(tz, noon), noon, "not quiet: now");
        let late: QuietHours = "22:00-24:00".parse().unwrap();
        assert_eq!(
            late.next_end_after(tz, utc("2026-12-01T20:30:00Z")),
            utc("2026-12-01T22:00:00Z"),
            "22:30 local waits for midnight"
        );
    }

    #[test]
    fn quiet_hours_follow_daylight_saving_in_paris() {
        let tz = chrono_tz::Tz::Europe__Paris;
        let night: QuietHours = "21:00-07:00".parse().unwrap();
        // Spring: on 2026-03-29 clocks go from 02:00 CET to 03:00 CEST;
        // 07:00 is then UTC+2.
        assert_eq!(
            night.next_end_after(tz, utc("2026-03-28T21:00:00Z")),
            utc("2026-03-29T05:00:00Z")
        );
        assert_eq!(
            night.next_end_after(tz, utc("2026-03-27T21:00:00Z")),
            utc("2026-03-28T06:00:00Z"),
            "the night before, still CET"
        );
        // Autumn: on 2026-10-25 clocks go from 03:00 CEST back to 02:00 CET.
        assert_eq!(
            night.next_end_after(tz, utc("2026-10-24T20:00:00Z")),
            utc("2026-10-25T06:00:00Z")
        );
        assert!(night.quiet_at(tz, utc("2026-10-25T05:59:00Z")));
        assert!(!night.quiet_at(tz, utc("2026-10-25T06:00:00Z")));

        // An end the spring change skips (02:30 never happens): the change.
        let short: QuietHours = "22:00-02:30".parse().unwrap();
        assert_eq!(
            short.next_end_after(tz, utc("2026-03-28T22:00:00Z")),
            utc("2026-03-29T01:00:00Z")
        );
        // An end that happens twice in autumn: its first pass, then, from
        // inside the repeated hour, its second.
        assert_eq!(
            short.next_end_after(tz, utc("2026-10-24T21:00:00Z")),
            utc("2026-10-25T00:30:00Z"),
            "02:30 CEST"
        );
        assert!(
            short.quiet_at(tz, utc("2026-10-25T01:10:00Z")),
            "02:10 CET, the second time"
        );
        assert_eq!(
            short.next_end_after(tz, utc("2026-10-25T01:10:00Z")),
            utc("2026-10-25T01:30:00Z"),
            "02:30 CET"
        );
    }
}
