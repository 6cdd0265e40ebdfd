//! The values of a centre's on-duty rota and escalation chain: the days
//! and hours a rota row covers (in local time), and the chain's levels,
//! read from what people write (`mon-fri`, `sam,dim`, `08:00-17:00`,
//! `all day`, `manager`...).

use std::fmt;

use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike, Weekday};

/// Minutes in a day: the end of an `all day` span (`24:00`).
pub const DAY_MINUTES: u16 = 24 * 60;

/// A set of weekdays, stored as a bitmask: Monday 1, Tuesday 2 ... Sunday 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Days(u8);

/// Each day's names: English and French, short and long.
const DAY_NAMES: [[&str; 4]; 7] = [
    ["mon", "monday", "lun", "lundi"],
    ["tue", "tuesday", "mar", "mardi"],
    ["wed", "wednesday", "mer", "mercredi"],
    ["thu", "thursday", "jeu", "jeudi"],
    ["fri", "friday", "ven", "vendredi"],
    ["sat", "saturday", "sam", "samedi"],
    ["sun", "sunday", "dim", "dimanche"],
];

fn day_index(word: &str) -> Option<u8> {
    DAY_NAMES
        .iter()
        .position(|names| names.iter().any(|n| n.eq_ignore_ascii_case(word)))
        .map(|i| i as u8)
}

fn weekday_index(d: Weekday) -> u8 {
    d.num_days_from_monday() as u8
}

impl Days {
    pub const ALL: Days = Days(0b111_1111);

    /// From the stored bitmask; `None` when it names no day or unknown bits.
    pub fn from_bits(bits: i64) -> Option<Days> {
        (1..=0b111_1111).contains(&bits).then_some(Days(bits as u8))
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << weekday_index(day)) != 0
    }

    /// Reads `mon-fri`, `sat,sun`, `mon,wed,fri`, `fri-mon` (a range may
    /// wrap round the week), `all`, `daily`, `weekdays`, `weekend`, and the
    /// French names (`lun`, `mar`, `mer`, `jeu`, `ven`, `sam`, `dim`, or
    /// whole: `lundi`...). Days are separated by `,`, `;`, `/` or spaces.
    pub fn parse(raw: &str) -> Result<Days, String> {
        let bad = || {
            format!(
                "days `{raw}`: write e.g. mon-fri, sat,sun, mon,wed,fri, all or daily (French: lun-ven, sam,dim)"
            )
        };
        let mut text = raw.trim().to_lowercase();
        while text.contains(" -") || text.contains("- ") {
            text = text.replace(" -", "-").replace("- ", "-");
        }
        match text.as_str() {
            "all" | "daily" | "every day" | "tous" | "tous les jours" => return Ok(Days::ALL),
            "weekdays" | "semaine" => return Ok(Days(0b001_1111)),
            "weekend" | "week-end" => return Ok(Days(0b110_0000)),
            _ => {}
        }
        let mut bits = 0u8;
        for part in text
            .split([',', ';', '/', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part.split_once('-') {
                Some((from, to)) => {
                    let (Some(from), Some(to)) = (day_index(from.trim()), day_index(to.trim()))
                    else {
                        return Err(bad());
                    };
                    let mut d = from;
                    loop {
                        bits |= 1 << d;
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => bits |= 1 << day_index(part).ok_or_else(bad)?,
            }
        }
        Days::from_bits(i64::from(bits)).ok_or_else(bad)
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Days::ALL {
            return f.write_str("all");
        }
        let names: Vec<&str> = (0..7)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| DAY_NAMES[i][0])
            .collect();
        f.write_str(&names.join(","))
    }
}

/// Reads `HH:MM` (or `H:MM`) as minutes after midnight; `24:00` only when
/// `end` is set.
fn clock_minute(s: &str, end: bool) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Reads `HH:MM-HH:MM` into (start, end) minutes after midnight; the end may
/// be `24:00`, and before the start (the span then runs past midnight).
pub fn parse_clock_span(raw: &str) -> Option<(u16, u16)> {
    let (a, b) = raw.trim().split_once('-')?;
    Some((clock_minute(a, false)?, clock_minute(b, true)?))
}

/// Minutes after midnight of a local time (seconds dropped).
pub fn minute_of(t: NaiveTime) -> u16 {
    (t.hour() * 60 + t.minute()) as u16
}

pub fn format_minute(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The hours a rota row covers on each of its days, in local time: from
/// `start_minute` (included) to `end_minute` (excluded). An end before the
/// start runs past midnight into the next day; `00:00-24:00` is all day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hours {
    start_minute: u16,
    end_minute: u16,
}

impl Hours {
    pub const ALL_DAY: Hours = Hours {
        start_minute: 0,
        end_minute: DAY_MINUTES,
    };

    /// From stored minutes; `None` when out of range or empty.
    pub fn from_minutes(start: i64, end: i64) -> Option<Hours> {
        let ok = (0..i64::from(DAY_MINUTES)).contains(&start)
            && (0..=i64::from(DAY_MINUTES)).contains(&end)
            && start != end;
        ok.then_some(Hours {
            start_minute: start as u16,
            end_minute: end as u16,
        })
    }

    pub fn start_minute(self) -> u16 {
        self.start_minute
    }

    pub fn end_minute(self) -> u16 {
        self.end_minute
    }

    pub fn overnight(self) -> bool {
        self.end_minute < self.start_minute
    }

    /// Reads `08:00-17:00`, `22:00-06:00` (overnight), `00:00-24:00` or
    /// `all day` (also `all-day`, `24h`, `toute la journée`).
    pub fn parse(raw: &str) -> Result<Hours, String> {
        let text = raw.trim().to_lowercase();
        if matches!(
            text.as_str(),
            "all day" | "all-day" | "allday" | "24h" | "toute la journée" | "toute la journee"
        ) {
            return Ok(Hours::ALL_DAY);
        }
        let (start, end) = parse_clock_span(&text).ok_or_else(|| {
            format!("hours `{raw}`: write HH:MM-HH:MM (e.g. 08:00-17:00, 22:00-06:00) or `all day`")
        })?;
        if start == end {
            return Err(format!(
                "hours `{raw}`: start and end are the same; write `all day` for a whole day"
            ));
        }
        Ok(Hours {
            start_minute: start,
            end_minute: end,
        })
    }

    /// Whether a row on `days` with these hours covers `at` (local time). An
    /// overnight span belongs to the day it starts on: `fri 22:00-06:00`
    /// covers Friday from 22:00 and Saturday until 06:00.
    pub fn covers(self, days: Days, at: NaiveDateTime) -> bool {
        let m = minute_of(at.time());
        let today = at.weekday();
        if self.overnight() {
            (days.contains(today) && m >= self.start_minute)
                || (days.contains(today.pred()) && m < self.end_minute)
        } else {
            days.contains(today) && self.start_minute <= m && m < self.end_minute
        }
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Hours::ALL_DAY {
            return f.write_str("all day");
        }
        write!(
            f,
            "{}-{}",
            format_minute(self.start_minute),
            format_minute(self.end_minute)
        )
    }
}

/// Words for the escalation chain's first levels.
pub const LEVEL_WORDS: [&str; 3] = ["caseworker", "manager", "committee"];

/// A level of the escalation chain: 1 (the caseworkers), 2, 3...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level(i64);

/// The deepest chain an import accepts.
pub const MAX_LEVEL: i64 = 9;

impl Level {
    /// Reads `1`..`9`, or `caseworker` (1), `manager` (2), `committee` (3).
    pub fn parse(raw: &str) -> Result<Level, String> {
        let text = raw.trim();
        if let Some(i) = LEVEL_WORDS
            .iter()
            .position(|w| w.eq_ignore_ascii_case(text))
        {
            return Ok(Level(i as i64 + 1));
        }
        match text.parse::<i64>() {
            Ok(n) if (1..=MAX_LEVEL).contains(&n) => Ok(Level(n)),
            _ => Err(format!(
                "level `{raw}`: use 1 to {MAX_LEVEL}, or caseworker (1), manager (2), committee (3)"
            )),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// Day 1 is a Monday (2026-11-30), day 7 a Sunday.
    fn at(day: u32, hh: u32, mm: u32) -> NaiveDateTime {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        (monday + chrono::TimeDelta::days(i64::from(day) - 1))
            .and_hms_opt(hh, mm, 0)
            .unwrap()
    }

    #[test]
    fn days_read_ranges_lists_words_and_french() {
        let d = |s: &str| Days::parse(s).unwrap().bits();
        assert_eq!(d("mon-fri"), 0b001_1111);
        assert_eq!(d("Mon - Fri"), 0b001_1111);
        assert_eq!(d("sat,sun"), 0b110_0000);
        assert_eq!(d("sat sun"), 0b110_0000);
        assert_eq!(d("mon,wed,fri"), 0b001_0101);
        assert_eq!(d("all"), 127);
        assert_eq!(d("DAILY"), 127);
        assert_eq!(d("lun-ven"), 0b001_1111);
        assert_eq!(d("sam,dim"), 0b110_0000);
        assert_eq!(d("mar;jeu"), 0b000_1010);
        assert_eq!(d("mer"), 0b000_0100);
        assert_eq!(d("dimanche"), 64);
        assert_eq!(d("fri-mon"), 0b111_0001, "a range wraps round the week");
        assert_eq!(d("weekend"), 0b110_0000);
        for bad in ["", "mon-", "funday", "mon-xyz", "1-5", ",", "monday tuesdy"] {
            let e = Days::parse(bad).unwrap_err();
            assert!(e.starts_with(&format!("days `{bad}`")), "{e}");
        }
        assert_eq!(
            Days::parse("mon-fri").unwrap().to_string(),
            "mon,tue,wed,thu,fri"
        );
        assert_eq!(Days::from_bits(0), None);
        assert_eq!(Days::from_bits(128), None);
    }

    #[test]
    fn hours_read_spans_overnight_and_all_day() {
        let h = |s: &str| {
            let h = Hours::parse(s).unwrap();
            (h.start_minute(), h.end_minute())
        };
        assert_eq!(h("08:00-17:00"), (480, 1020));
        assert_eq!(h("8:30-17:45"), (510, 1065));
        assert_eq!(h(" 22:00 - 06:00 "), (1320, 360));
        assert_eq!(h("00:00-24:00"), (0, 1440));
        assert_eq!(h("All Day"), (0, 1440));
        assert_eq!(h("18:00-24:00"), (1080, 1440));
        assert_eq!(Hours::parse("all day").unwrap(), Hours::ALL_DAY);
        for bad in [
            "",
            "8-17",
            "08:00",
            "08:00-25:00",
            "24:00-06:00",
            "08:60-09:00",
            "08:0-09:00",
            "x",
        ] {
            let e = Hours::parse(bad).unwrap_err();
            assert!(e.contains("HH:MM-HH:MM"), "{bad}: {e}");
        }
        assert!(Hours::parse("08:00-08:00")
            .unwrap_err()
            .contains("write `all day`"));
        assert_eq!(
            Hours::parse("22:00-06:00").unwrap().to_string(),
            "22:00-06:00"
        );
    }

    #[test]
    fn a_row_covers_its_days_and_an_overnight_span_runs_into_the_next_morning() {
        let weekdays = Days::parse("mon-fri").unwrap();
        let office = Hours::parse("08:00-17:00").unwrap();
        assert!(office.covers(weekdays, at(1, 8, 0)), "start included");
        assert!(office.covers(weekdays, at(5, 16, 59)));
        assert!(!office.covers(weekdays, at(1, 17, 0)), "end excluded");
        assert!(!office.covers(weekdays, at(1, 7, 59)));
        assert!(!office.covers(weekdays, at(6, 10, 0)), "saturday");

        let night = Hours::parse("22:00-06:00").unwrap();
        let fri = Days::parse("fri").unwrap();
        assert!(night.covers(fri, at(5, 23, 0)), "friday night");
        assert!(night.covers(fri, at(6, 5, 59)), "saturday early morning");
        assert!(!night.covers(fri, at(6, 6, 0)));
        assert!(
            !night.covers(fri, at(5, 5, 0)),
            "friday early morning belongs to thursday"
        );
        assert!(!night.covers(fri, at(6, 23, 0)));
        let sun = Days::parse("sun").unwrap();
        assert!(
            night.covers(sun, at(1, 3, 0)),
            "sunday night runs into monday"
        );

        assert!(Hours::ALL_DAY.covers(sun, at(7, 0, 0)));
        assert!(Hours::ALL_DAY.covers(sun, at(7, 23, 59)));
        assert!(!Hours::ALL_DAY.covers(sun, at(1, 0, 0)));
    }

    #[test]
    fn levels_read_numbers_and_words() {
        assert_eq!(Level::parse("caseworker").unwrap().get(), 1);
        assert_eq!(Level::parse("Manager").unwrap().get(), 2);
        assert_eq!(Level::parse("committee").unwrap().get(), 3);
        assert_eq!(Level::parse("4").unwrap().get(), 4);
        for bad in ["0", "-1", "10", "boss", ""] {
            assert!(
                Level::parse(bad).unwrap_err().starts_with("level `"),
                "{bad}"
            );
        }
    }
}
