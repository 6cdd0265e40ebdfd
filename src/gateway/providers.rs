//! The SMS providers behind the outbox's port ([`SmsSender`]): Twilio's
//! REST API (`twilio/api.rs`), Africa's Talking's SMS API
//! (`africastalking/api.rs`), and `log` (prints each message). Each send
//! ends in a [`SendOutcome`] that says whether to retry; nothing here
//! touches the database. This file chooses the one the settings name.

use super::{
    africastalking::api::AfricasTalking,
    settings::{SmsConfig, SmsProvider},
    twilio::api::Twilio,
};
use crate::{
    casework::outbox::{SendFuture, SendOutcome, SmsSender},
    domain::Phone,
};

/// The provider's settings are missing or unusable.
#[derive(Debug, thiserror::Error)]
#[error("SMS provider settings: {0}")]
pub struct ProviderError(pub String);

/// The configured provider, ready to send.
#[derive(Clone, Debug)]
pub enum Provider {
    Log,
    Twilio(Twilio),
    AfricasTalking(AfricasTalking),
}

impl Provider {
    /// The provider `sms` selects; an error when its settings are missing.
    pub fn new(sms: &SmsConfig, public_url: Option<&str>) -> Result<Provider, ProviderError> {
        let http = || {
            reqwest::Client::builder()
                .timeout(sms.timeout)
                .connect_timeout(sms.timeout)
                .user_agent(concat!("kanda/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| ProviderError(format!("HTTP client: {e}")))
        };
        Ok(match sms.provider {
            SmsProvider::Log => Provider::Log,
            SmsProvider::Twilio => {
                let config = sms.twilio.clone().ok_or_else(|| {
                    ProviderError(
                        "twilio needs KANDA_TWILIO_ACCOUNT_SID and KANDA_TWILIO_AUTH_TOKEN".into(),
                    )
                })?;
                if config.from.is_none() {
                    return Err(ProviderError("twilio needs KANDA_TWILIO_FROM".into()));
                }
                Provider::Twilio(Twilio::new(
                    http()?,
                    config,
                    public_url.map(|u| format!("{u}/sms/twilio/status")),
                ))
            }
            SmsProvider::AfricasTalking => Provider::AfricasTalking(AfricasTalking::new(
                http()?,
                sms.africastalking.clone().ok_or_else(|| {
                    ProviderError(
                        "africastalking needs KANDA_AT_USERNAME and KANDA_AT_API_KEY".into(),
                    )
                })?,
            )),
        })
    }

    /// The name stored with each message (`delivery_report` matches on it).
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Log => SmsProvider::Log.name(),
            Provider::Twilio(_) => SmsProvider::Twilio.name(),
            Provider::AfricasTalking(_) => SmsProvider::AfricasTalking.name(),
        }
    }

    /// Sends outbox message `id` (the `log` provider names its fake id after it).
    pub async fn send(&self, id: i64, to: &Phone, body: &str) -> SendOutcome {
        match self {
            Provider::Log => {
                println!("SMS to {to} : {}", body.replace(['\r', '\n'], " "));
                tracing::info!(id, to = %to.redacted(), chars = body.chars().count(), "SMS (log provider)");
                SendOutcome::Sent {
                    id: Some(format!("log-{id}")),
                    status: None,
                    note: None,
                }
            }
            Provider::Twilio(t) => t.send(to, body).await,
            Provider::AfricasTalking(a) => a.send(to, body).await,
        }
    }
}

impl SmsSender for Provider {
    fn name(&self) -> &'static str {
        Provider::name(self)
    }

    fn send<'a>(&'a self, id: i64, to: &'a Phone, body: &'a str) -> SendFuture<'a> {
        Box::pin(Provider::send(self, id, to, body))
    }
}
