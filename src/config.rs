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
    pub gateway_token: Option<String>,
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
}
