//! The SMS providers' settings: which one sends, and each one's
//! credentials and address (from `KANDA_SMS_PROVIDER`, `KANDA_TWILIO_*`,
//! `KANDA_AT_*`).

use std::time::Duration;

use crate::domain::Secret;

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
            SmsProvider::Twilio => super::twilio::PROVIDER,
            SmsProvider::AfricasTalking => super::africastalking::PROVIDER,
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
}
