//! Configuration, from flags and environment variables (never from files
//! found through the current directory): one value holding each layer's
//! own settings, which `AppState::build` hands to each.

use std::{path::PathBuf, sync::Arc, time::Duration};

use crate::{
    casework::{
        outbox::OutboxConfig, primero::PushConfig, scheduler::SchedulerConfig, Deadlines,
        QuietHours,
    },
    domain::{Country, Locale, Secret},
    gateway::{primero::PrimeroSettings, SmsConfig},
    store::Keyring,
};

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
    /// A USSD session with no hop for this long has ended unfinished.
    pub session_timeout: Duration,
    /// A session that ended unfinished is offered on the same phone's next
    /// dial for this long.
    pub resume_window: Duration,
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
    pub scheduler: SchedulerConfig,
    /// The deployment's time zone: rotas and quiet hours are in its local time.
    pub timezone: chrono_tz::Tz,
    /// Local hours when held-back messages (reminders) wait; `None`: never.
    pub quiet_hours: Option<QuietHours>,
    /// Case-management clocks: acknowledgement, deadlines, reminders.
    pub deadlines: Deadlines,
    /// A staff web session ends after this long without a request.
    pub web_session_ttl: Duration,
    /// Cases pushed to Primero, when it is configured.
    pub primero: Option<PrimeroConfig>,
    /// The data keys that seal child-identifying fields; `AppState::build`
    /// refuses to start without them.
    pub data_keys: Option<Arc<Keyring>>,
    /// Closed cases lose their identifying fields after this long; `None`
    /// (`KANDA_RETENTION=keep`, the default): kept.
    pub retention: Option<Duration>,
    /// When set, `GET /metrics` asks for it as a bearer token.
    pub metrics_token: Option<Secret>,
}

/// The push to Primero: the server, the field mapping file, the retries.
#[derive(Clone, Debug)]
pub struct PrimeroConfig {
    pub server: PrimeroSettings,
    /// `KANDA_PRIMERO_FIELDS`: read (and checked) when the app is built.
    pub fields: PathBuf,
    pub push: PushConfig,
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
            session_timeout: Duration::from_secs(60),
            resume_window: Duration::from_secs(15 * 60),
            public_url: None,
            sms_session_ttl: Duration::from_secs(30 * 60),
            sms_segments: 2,
            sms: SmsConfig::default(),
            outbox: OutboxConfig::default(),
            scheduler: SchedulerConfig::default(),
            timezone: DEFAULT_TIMEZONE,
            quiet_hours: None,
            deadlines: Deadlines::default(),
            web_session_ttl: Duration::from_secs(8 * 3600),
            primero: None,
            data_keys: None,
            retention: None,
            metrics_token: None,
        }
    }
}

/// How long closed cases keep what identifies the child; `None`: always.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention(pub Option<Duration>);

/// Reads `keep` (no purge) or a period such as `5y`, `730d`.
pub fn parse_retention(s: &str) -> Result<Retention, String> {
    match s.trim() {
        "keep" | "" => Ok(Retention(None)),
        period => {
            let d = parse_duration(period)?;
            // Practice: a check visit comes within 90 days of closure, and
            // a case may be reopened; a shorter period would erase a case
            // still being worked.
            if d < Duration::from_secs(180 * 86_400) {
                return Err(format!(
                    "`{s}` is shorter than 180 days: closed cases are still visited and reopened then"
                ));
            }
            Ok(Retention(Some(d)))
        }
    }
}

/// The file of a `sqlite://FILE` URL (its query dropped); `None` for
/// another database or one in memory.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && file != ":memory:").then(|| PathBuf::from(file))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
