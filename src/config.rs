//! Configuration, from flags and environment variables (never from files
//! found through the current directory).

use std::{path::PathBuf, time::Duration};

use crate::domain::{Country, Locale};

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub flows_dir: PathBuf,
    pub locales_dir: PathBuf,
    pub default_locale: Locale,
    pub country: Country,
    /// When set, gateways must present it (`?token=` or HTTP Basic password).
    pub gateway_token: Option<Secret>,
    /// Sessions started longer ago than this are purged.
    pub session_ttl: Duration,
    /// The public base URL the SMS gateways call back (`https://kanda.example.org`,
    /// no trailing slash). Unset: no delivery-report callback is asked for.
    pub public_url: Option<String>,
    /// SMS conversations (inbound keywords) end after this long without a message.
    pub sms_session_ttl: Duration,
    /// SMS segments a reply may take before `kanda check` warns.
    pub sms_segments: usize,
    /// Outgoing SMS: the provider and its credentials.
    pub sms: SmsConfig,
    /// Outgoing SMS: how the outbox worker retries and paces itself.
    pub outbox: OutboxConfig,
    /// Durable timers: how the scheduler polls, leases and retries.
    pub scheduler: crate::scheduler::SchedulerConfig,
    /// The deployment's time zone: rotas and quiet hours are in its local time.
    pub timezone: chrono_tz::Tz,
    /// Local hours when held-back messages (reminders) wait; `None`: never.
    pub quiet_hours: Option<QuietHours>,
    /// Case-management clocks: acknowledgement, deadlines, reminders.
    pub deadlines: Deadlines,
}

/// How long each step of a case may take (defaults from child-protection
/// case-management guidance; each a `KANDA_*` variable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// An alert not acknowledged after this goes to the next level (`KANDA_ACK_TIMEOUT`).
    pub ack: Duration,
    /// The same for a child in immediate danger (`KANDA_ACK_TIMEOUT_URGENT`); also
    /// the first-response deadline of such a case.
    pub ack_urgent: Duration,
    /// First response (acknowledged and screened) at the most (`KANDA_RESPONSE_DEADLINE`).
    pub response: Duration,
    /// Full assessment, from registration (`KANDA_ASSESSMENT_DEADLINE`).
    pub assessment: Duration,
    /// Case plan, from the assessment (`KANDA_PLAN_DEADLINE`).
    pub plan: Duration,
    /// Review of the plan, at least this often while open (`KANDA_REVIEW_INTERVAL`).
    pub review: Duration,
    /// A check visit after closure (`KANDA_CLOSURE_CHECK`).
    pub closure_check: Duration,
    /// A follow-up visit by the reporting volunteer, this often while open (`KANDA_VISIT_INTERVAL`).
    pub visit: Duration,
    /// When managers' daily digests go, local time, minutes after midnight (`KANDA_DIGEST_AT`).
    pub digest_minute: u16,
}

impl Default for Deadlines {
    fn default() -> Self {
        let h = |n: u64| Duration::from_secs(n * 3600);
        Deadlines {
            ack: h(24),
            ack_urgent: h(1),
            response: h(48),
            assessment: h(7 * 24),
            plan: h(14 * 24),
            review: h(90 * 24),
            closure_check: h(90 * 24),
            visit: h(30 * 24),
            digest_minute: 8 * 60,
        }
    }
}

impl Deadlines {
    /// The demo's clocks (`kanda serve --demo --fast`): minutes, not days,
    /// so the whole loop shows in one sitting.
    pub fn fast() -> Self {
        let m = |n: u64| Duration::from_secs(n * 60);
        Deadlines {
            ack: m(2),
            ack_urgent: m(1),
            response: m(4),
            assessment: m(10),
            plan: m(10),
            review: m(15),
            closure_check: m(15),
            visit: m(10),
            digest_minute: 8 * 60,
        }
    }
}

/// Reads `HH:MM` into minutes after midnight.
pub fn parse_clock_time(s: &str) -> Result<u16, String> {
    let bad = || format!("`{s}` is not a time of day: write HH:MM, e.g. 08:00");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A credential: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Who sends the outgoing SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SmsProvider {
    /// Twilio's REST API.
    #[value(name = "twilio")]
    Twilio,
    /// Africa's Talking's SMS API.
    #[value(name = "africastalking")]
    AfricasTalking,
    /// Prints each message (development, the demo) and marks it sent.
    #[value(name = "log")]
    Log,
}

impl SmsProvider {
    /// The name stored in `outbox.provider` and given to `delivery_report`.
    pub fn name(self) -> &'static str {
        match self {
            SmsProvider::Twilio => "twilio",
            SmsProvider::AfricasTalking => "africastalking",
            SmsProvider::Log => "log",
        }
    }

    /// Messages per second when `KANDA_SMS_RATE` is not set (`None`: no limit).
    pub fn default_rate(self) -> Option<f64> {
        match self {
            SmsProvider::Twilio => Some(1.0),
            SmsProvider::AfricasTalking => Some(10.0),
            SmsProvider::Log => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// A phone number (`+1...`) or a messaging service (`MG...`); needed to send.
    pub from: Option<String>,
    /// `https://api.twilio.com`, or a test server.
    pub api_url: String,
}

#[derive(Clone, Debug)]
pub struct AfricasTalkingConfig {
    pub username: String,
    pub api_key: Secret,
    /// A registered sender id or short code; unset: the account's default.
    pub sender: Option<String>,
    /// `https://api.africastalking.com`, or a test server.
    pub api_url: String,
}

#[derive(Clone, Debug)]
pub struct SmsConfig {
    pub provider: SmsProvider,
    /// Set whenever its credentials are (inbound webhook signatures need the
    /// auth token), whichever provider sends.
    pub twilio: Option<TwilioConfig>,
    pub africastalking: Option<AfricasTalkingConfig>,
    /// Messages per second for the provider and sender; `None`: no limit.
    pub rate: Option<f64>,
    /// One HTTP call to the provider gives up after this (then retries).
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct OutboxConfig {
    /// Sends tried before a message is `failed` (a 429 does not count).
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub backoff: Duration,
    /// How often a worker looks for rows other instances queued.
    pub poll: Duration,
    /// A claimed row is another worker's to take after this (its worker died).
    pub lease: Duration,
    /// Sends in flight at once, per worker.
    pub concurrency: usize,
    /// Rows one claim takes at most.
    pub batch: usize,
}

pub const TWILIO_API_URL: &str = "https://api.twilio.com";
pub const AFRICASTALKING_API_URL: &str = "https://api.africastalking.com";

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProvider::Log,
            twilio: None,
            africastalking: None,
            rate: None,
            timeout: Duration::from_secs(15),
        }
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_attempts: 8,
            backoff: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            concurrency: 16,
            batch: 100,
        }
    }
}

impl Config {
    /// Defaults for tests and tools: a given database, shipped flows and
    /// texts, the `log` SMS provider, no public URL.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            flows_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/flows")),
            locales_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/locales")),
            default_locale: Locale::parse("en").expect("en is a language tag"),
            country: Country::parse("RW").expect("RW is a country"),
            gateway_token: None,
            session_ttl: Duration::from_secs(600),
            public_url: None,
            sms_session_ttl: Duration::from_secs(30 * 60),
            sms_segments: 2,
            sms: SmsConfig::default(),
            outbox: OutboxConfig::default(),
            scheduler: crate::scheduler::SchedulerConfig::default(),
            timezone: DEFAULT_TIMEZONE,
            quiet_hours: None,
            deadlines: Deadlines::default(),
        }
    }
}

/// Reads `90s`, `15m`, `48h`, `7d` (and combinations such as `1h 30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 90s, 15m, 48h or 7d"))
}

/// A rate in messages per second: a positive number, or `unlimited`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub Option<f64>);

pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(Rate(None));
    }
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Rate(Some(r))),
        _ => Err(format!(
            "`{s}` is not a rate: write messages per second (e.g. 1, 10, 0.5) or `unlimited`"
        )),
    }
}

/// A public base URL: `http(s)://host[/path]`, without its trailing slashes.
pub fn parse_public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => Ok(s.to_string()),
        _ => Err(format!(
            "`{s}` is not a public base URL: write e.g. https://kanda.example.org"
        )),
    }
}

pub const DEFAULT_TIMEZONE: chrono_tz::Tz = chrono_tz::Tz::Africa__Kigali;

/// Reads an IANA time zone name (`Africa/Kigali`, `Europe/Paris`, `UTC`),
/// in any letter case.
pub fn parse_timezone(s: &str) -> Result<chrono_tz::Tz, String> {
    let s = s.trim();
    s.parse::<chrono_tz::Tz>()
        .ok()
        .or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(s))
        })
        .ok_or_else(|| {
            format!("KANDA_TIMEZONE: `{s}` is not an IANA time zone name: write e.g. Africa/Kigali, Africa/Lome or Europe/Paris")
        })
}

/// Hours of the day, in the deployment's local time, when reminders wait:
/// from `start_minute` (included) to `end_minute` (excluded), minutes after
/// midnight. An end before the start crosses midnight (`21:00-07:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    start_minute: u16,
    end_minute: u16,
}

/// `KANDA_QUIET_HOURS` as given: a span, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietSetting(pub Option<QuietHours>);

/// Reads `KANDA_QUIET_HOURS`: `HH:MM-HH:MM` (e.g. `21:00-07:00`) or `off`.
pub fn parse_quiet_hours(s: &str) -> Result<QuietSetting, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("off") || t.eq_ignore_ascii_case("none") {
        return Ok(QuietSetting(None));
    }
    t.parse().map(|q| QuietSetting(Some(q)))
}

impl std::str::FromStr for QuietHours {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (start, end) = crate::rota::parse_clock_span(s).ok_or_else(|| {
            format!("KANDA_QUIET_HOURS: `{s}` is not a span of hours: write HH:MM-HH:MM (e.g. 21:00-07:00), or `off`")
        })?;
        QuietHours::new(start, end).map_err(|e| format!("KANDA_QUIET_HOURS: `{s}`: {e}"))
    }
}

impl QuietHours {
    /// From minutes after midnight (`end` may be 1440, i.e. `24:00`); they
    /// must differ and leave some of the day outside.
    pub fn new(start_minute: u16, end_minute: u16) -> Result<Self, String> {
        let day = crate::rota::DAY_MINUTES;
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
        let m = crate::rota::minute_of(local);
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
                    for _ in 0..crate::rota::DAY_MINUTES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let t = TwilioConfig {
            account_sid: "AC123".into(),
            auth_token: Secret::new("hunter2"),
            from: None,
            api_url: TWILIO_API_URL.into(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn rates_and_public_urls_parse_or_say_why_not() {
        assert_eq!(parse_rate("10"), Ok(Rate(Some(10.0))));
        assert_eq!(parse_rate("unlimited"), Ok(Rate(None)));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(
            parse_public_url("https://kanda.example.org//").as_deref(),
            Ok("https://kanda.example.org")
        );
        assert!(parse_public_url("kanda.example.org").is_err());
        assert!(parse_public_url("https://").is_err());
    }

    fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
        s.parse().unwrap()
    }

    fn hm(h: u32, m: u32) -> chrono::NaiveTime {
        chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn time_zones_are_iana_names_in_any_case() {
        assert_eq!(
            parse_timezone("Africa/Kigali"),
            Ok(chrono_tz::Tz::Africa__Kigali)
        );
        assert_eq!(
            parse_timezone(" europe/paris "),
            Ok(chrono_tz::Tz::Europe__Paris)
        );
        assert_eq!(parse_timezone("UTC"), Ok(chrono_tz::Tz::UTC));
        let e = parse_timezone("Kigali").unwrap_err();
        assert!(e.starts_with("KANDA_TIMEZONE: `Kigali`"), "{e}");
        assert_eq!(
            Config::for_database("sqlite::memory:").timezone,
            DEFAULT_TIMEZONE
        );
    }

    #[test]
    fn quiet_hours_parse_or_name_the_variable() {
        let q: QuietHours = "21:00-07:00".parse().unwrap();
        assert_eq!((q.start_minute(), q.end_minute()), (1260, 420));
        assert_eq!(parse_quiet_hours("off"), Ok(QuietSetting(None)));
        assert_eq!(
            parse_quiet_hours("22:00-24:00").map(|q| q.0.map(|q| q.end_minute())),
            Ok(Some(0))
        );
        for bad in [
            "07:00-07:00",
            "00:00-24:00",
            "9pm-7am",
            "21:00",
            "25:00-07:00",
            "21:00-07:60",
        ] {
            let e = parse_quiet_hours(bad).unwrap_err();
            assert!(e.starts_with(&format!("KANDA_QUIET_HOURS: `{bad}`")), "{e}");
        }
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
