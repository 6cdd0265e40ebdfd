//! The days indicators are counted over: whole local days, `from` to `to`
//! included; a week, a month or a quarter ending on a day, or any range of
//! at most two years.

use chrono::{Datelike, Duration, NaiveDate, TimeZone};

/// A range of local days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The longest period, in days.
pub const MAX_DAYS: i64 = 731;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("`{0}` is not a date: use YYYY-MM-DD")]
    Date(String),
    #[error("the period starts after it ends")]
    Backwards,
    #[error("a period may span at most {MAX_DAYS} days")]
    TooLong,
    #[error("period `{0}`: use week, month, quarter or custom")]
    Kind(String),
}

/// A period by its length: the 7, 30 or 91 days that end on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
    Custom,
}

impl PeriodKind {
    pub fn parse(s: &str) -> Result<PeriodKind, PeriodError> {
        Ok(match s.trim() {
            "week" => PeriodKind::Week,
            "month" => PeriodKind::Month,
            "quarter" => PeriodKind::Quarter,
            "custom" => PeriodKind::Custom,
            other => return Err(PeriodError::Kind(other.chars().take(40).collect())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Custom => "custom",
        }
    }

    /// Its length in days (a custom period has none of its own).
    pub fn days(self) -> Option<i64> {
        match self {
            PeriodKind::Week => Some(7),
            PeriodKind::Month => Some(30),
            PeriodKind::Quarter => Some(91),
            PeriodKind::Custom => None,
        }
    }
}

/// A day, `YYYY-MM-DD`, from 1970 to 9999 (beyond, a day's end or a
/// week's could not be written).
pub fn parse_date(s: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=9999).contains(&d.year()))
        .ok_or_else(|| PeriodError::Date(s.chars().take(40).collect()))
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::Backwards);
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// The `days` days that end on `to`.
    pub fn ending(to: NaiveDate, days: i64) -> Period {
        Period {
            from: to - Duration::days(days.clamp(1, MAX_DAYS) - 1),
            to,
        }
    }

    /// The period as instants, in ms: from the start of `from` to the start
    /// of the day after `to`, in `tz`.
    pub fn range_ms(&self, tz: &impl TimeZone) -> (i64, i64) {
        (
            start_of(self.from, tz),
            start_of(self.to + Duration::days(1), tz),
        )
    }

    /// The weeks (Monday to Sunday) the period touches, each cut to the
    /// period: (first day, start ms, end ms).
    pub fn weeks(&self, tz: &impl TimeZone) -> Vec<(NaiveDate, i64, i64)> {
        let mut out = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
            let next = (monday + Duration::days(7)).min(self.to + Duration::days(1));
            out.push((day, start_of(day, tz), start_of(next, tz)));
            day = next;
        }
        out
    }
}

/// The first instant of a local day (the first valid one, on a day whose
/// midnight a clock change skips).
fn start_of(day: NaiveDate, tz: &impl TimeZone) -> i64 {
    let mut t = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    for _ in 0..4 {
        if let Some(at) = tz.from_local_datetime(&t).earliest() {
            return at.timestamp_millis();
        }
        t += Duration::minutes(30);
    }
    // No zone skips two hours at midnight; fall back to UTC's reading.
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_are_cut_to_the_period() {
        // 2026-11-04 is a Wednesday.
        let p = Period::new(d("2026-11-04"), d("2026-11-17")).unwrap();
        let weeks: Vec<_> = p.weeks(&Utc).into_iter().map(|w| w.0).collect();
        assert_eq!(weeks, [d("2026-11-04"), d("2026-11-09"), d("2026-11-16")]);
        let (from, to) = p.range_ms(&Utc);
        assert_eq!(to - from, 14 * 86_400_000);
        let all = p.weeks(&Utc);
        assert_eq!(all.first().unwrap().1, from);
        assert_eq!(all.last().unwrap().2, to);
        assert!(all.windows(2).all(|w| w[0].2 == w[1].1));
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(
            Period::new(d("2026-11-05"), d("2026-11-04")),
            Err(PeriodError::Backwards)
        );
        assert_eq!(
            Period::new(d("2024-01-01"), d("2026-11-04")),
            Err(PeriodError::TooLong)
        );
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("262143-12-31").is_err() && parse_date("1900-01-01").is_err());
        let last = Period::new(d("9999-12-25"), d("9999-12-31")).unwrap();
        assert_eq!(last.weeks(&Utc).len(), 2);
        assert_eq!(Period::ending(d("2026-11-30"), 30).from, d("2026-11-01"));
        assert_eq!(PeriodKind::parse("month").unwrap().days(), Some(30));
        assert!(PeriodKind::parse("year").is_err());
    }

    #[test]
    fn local_days_start_at_local_midnight() {
        let kigali: chrono_tz::Tz = "Africa/Kigali".parse().unwrap();
        let p = Period::new(d("2026-11-01"), d("2026-11-01")).unwrap();
        let (from, _) = p.range_ms(&kigali);
        // Kigali is UTC+2: its midnight is 22:00 UTC the day before.
        assert_eq!(
            from,
            d("2026-10-31")
                .and_hms_opt(22, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        );
    }
}
