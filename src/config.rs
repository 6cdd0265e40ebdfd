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
    /// An SMS conversation idle longer than this has timed out.
    pub sms_session_ttl: Duration,
    /// The public base URL gateways call (Twilio signs requests with it).
    pub public_url: Option<String>,
    /// Twilio's auth token: inbound Twilio webhooks are refused without it.
    pub twilio_auth_token: Option<String>,
}

impl Config {
    /// Defaults for tests and tools: a given database, shipped flows and texts.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            flows_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/flows")),
            locales_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/locales")),
            default_locale: Locale::parse("en").expect("en is a language tag"),
            country: Country::parse("RW").expect("RW is a country"),
            gateway_token: None,
            session_ttl: Duration::from_secs(600),
            sms_session_ttl: Duration::from_secs(1800),
            public_url: None,
            twilio_auth_token: None,
        }
    }
}

/// Reads `90s`, `15m`, `48h`, `7d` (and combinations such as `1h 30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 90s, 15m, 48h or 7d"))
}
