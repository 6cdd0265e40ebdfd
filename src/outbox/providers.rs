//! SMS providers' wire formats: Twilio's REST API, Africa's Talking's SMS
//! API, and `log` (prints). Each send ends in a [`SendOutcome`] that says
//! whether to retry; nothing here touches the database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    config::{AfricasTalkingConfig, SmsConfig, SmsProvider, TwilioConfig},
    domain::Phone,
};

use super::OutboxError;

/// How one send ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider took the message (`id`: its message id, when it said).
    Sent {
        id: Option<String>,
        status: Option<String>,
        note: Option<String>,
    },
    /// Worth another try later: no connection, a timeout, a 5xx.
    Retry(String),
    /// 429: the whole provider waits `retry_after` (when it said); not an
    /// attempt of the message's.
    RateLimited {
        retry_after: Option<Duration>,
        error: String,
    },
    /// Refused for good (a 4xx: credentials, sender, number); no retry.
    Rejected(String),
}

/// The configured provider, ready to send.
#[derive(Clone, Debug)]
pub enum Provider {
    Log,
    Twilio(Twilio),
    AfricasTalking(AfricasTalking),
}

#[derive(Clone, Debug)]
pub struct Twilio {
    http: reqwest::Client,
    config: TwilioConfig,
    /// `{KANDA_PUBLIC_URL}/sms/twilio/status`, when a public URL is set.
    status_callback: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AfricasTalking {
    http: reqwest::Client,
    config: AfricasTalkingConfig,
}

impl Provider {
    /// The provider `sms` selects; an error when its settings are missing.
    pub fn new(sms: &SmsConfig, public_url: Option<&str>) -> Result<Provider, OutboxError> {
        let http = || {
            reqwest::Client::builder()
                .timeout(sms.timeout)
                .connect_timeout(sms.timeout)
                .user_agent(concat!("kanda/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| OutboxError::Config(format!("HTTP client: {e}")))
        };
        Ok(match sms.provider {
            SmsProvider::Log => Provider::Log,
            SmsProvider::Twilio => {
                let config = sms.twilio.clone().ok_or_else(|| {
                    OutboxError::Config(
                        "twilio needs KANDA_TWILIO_ACCOUNT_SID and KANDA_TWILIO_AUTH_TOKEN".into(),
                    )
                })?;
                if config.from.is_none() {
                    return Err(OutboxError::Config("twilio needs KANDA_TWILIO_FROM".into()));
                }
                Provider::Twilio(Twilio {
                    http: http()?,
                    config,
                    status_callback: public_url.map(|u| format!("{u}/sms/twilio/status")),
                })
            }
            SmsProvider::AfricasTalking => Provider::AfricasTalking(AfricasTalking {
                http: http()?,
                config: sms.africastalking.clone().ok_or_else(|| {
                    OutboxError::Config(
                        "africastalking needs KANDA_AT_USERNAME and KANDA_AT_API_KEY".into(),
                    )
                })?,
            }),
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

/// Twilio's request for one message: its URL and form fields (without the
/// credentials, which go in HTTP Basic auth).
pub fn twilio_request(
    config: &TwilioConfig,
    status_callback: Option<&str>,
    to: &Phone,
    body: &str,
) -> (String, Vec<(&'static str, String)>) {
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        config.api_url, config.account_sid
    );
    let mut form = vec![("To", to.as_str().to_string())];
    match config.from.as_deref() {
        Some(from) if from.starts_with("MG") => form.push(("MessagingServiceSid", from.into())),
        Some(from) => form.push(("From", from.into())),
        None => {}
    }
    form.push(("Body", body.to_string()));
    if let Some(cb) = status_callback {
        form.push(("StatusCallback", cb.to_string()));
    }
    (url, form)
}

impl Twilio {
    pub async fn send(&self, to: &Phone, body: &str) -> SendOutcome {
        let (url, form) = twilio_request(&self.config, self.status_callback.as_deref(), to, body);
        let sent = self
            .http
            .post(&url)
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return SendOutcome::Retry(format!("twilio: {}", chain(&e))),
        };
        let status = response.status();
        let retry_after = retry_after_of(&response);
        let text = response.text().await;
        if status.is_success() {
            #[derive(Deserialize)]
            struct Created {
                sid: Option<String>,
                status: Option<String>,
            }
            return match text.map(|t| serde_json::from_str::<Created>(&t)) {
                Ok(Ok(Created {
                    sid: Some(sid),
                    status,
                })) => SendOutcome::Sent {
                    id: Some(sid),
                    status,
                    note: None,
                },
                other => SendOutcome::Sent {
                    id: None,
                    status: None,
                    note: Some(format!(
                        "twilio accepted it ({status}) but its answer had no sid: {}",
                        match other {
                            Ok(Ok(_)) => "no sid field".to_string(),
                            Ok(Err(e)) => e.to_string(),
                            Err(e) => chain(&e),
                        }
                    )),
                },
            };
        }
        #[derive(Deserialize)]
        struct Problem {
            code: Option<i64>,
            message: Option<String>,
        }
        let detail = match text.as_deref().map(serde_json::from_str::<Problem>) {
            Ok(Ok(Problem {
                code: Some(code),
                message,
            })) => format!("error {code}: {}", message.unwrap_or_default()),
            Ok(Ok(Problem { message, .. })) => message.unwrap_or_default(),
            Ok(Err(_)) => text.unwrap_or_default(),
            Err(e) => chain(&e),
        };
        classify(
            "twilio",
            status,
            retry_after,
            &format!("{status} {}", shorten(&detail)),
        )
    }
}

impl AfricasTalking {
    pub async fn send(&self, to: &Phone, body: &str) -> SendOutcome {
        let url = format!("{}/version1/messaging", self.config.api_url);
        let mut form = vec![
            ("username", self.config.username.clone()),
            ("to", to.as_str().to_string()),
            ("message", body.to_string()),
        ];
        if let Some(sender) = &self.config.sender {
            form.push(("from", sender.clone()));
        }
        let sent = self
            .http
            .post(&url)
            .header("apiKey", self.config.api_key.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return SendOutcome::Retry(format!("africastalking: {}", chain(&e))),
        };
        let status = response.status();
        let retry_after = retry_after_of(&response);
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) if status.is_success() => {
                return SendOutcome::Sent {
                    id: None,
                    status: None,
                    note: Some(format!(
                        "africastalking accepted it ({status}) but its answer was lost: {}",
                        chain(&e)
                    )),
                }
            }
            Err(e) => chain(&e),
        };
        if !status.is_success() {
            return classify(
                "africastalking",
                status,
                retry_after,
                &format!("{status} {}", shorten(&text)),
            );
        }
        at_outcome(&text)
    }
}

/// Reads Africa's Talking's answer to a send (HTTP 2xx): the recipient's
/// `statusCode` 100, 101 or 102 is taken, 5xx is worth a retry, any other
/// code is a refusal.
pub fn at_outcome(text: &str) -> SendOutcome {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "SMSMessageData")]
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        #[serde(rename = "Message", default)]
        message: String,
        #[serde(rename = "Recipients", default)]
        recipients: Vec<Recipient>,
    }
    #[derive(Deserialize)]
    struct Recipient {
        #[serde(rename = "statusCode")]
        status_code: i64,
        #[serde(default)]
        status: String,
        #[serde(rename = "messageId")]
        message_id: Option<String>,
    }
    let answer: Answer = match serde_json::from_str(text) {
        Ok(a) => a,
        Err(e) => {
            // It said yes (2xx): sending again could duplicate the message.
            return SendOutcome::Sent {
                id: None,
                status: None,
                note: Some(format!(
                    "africastalking accepted it but its answer could not be read ({e}): {}",
                    shorten(text)
                )),
            };
        }
    };
    let Some(r) = answer.data.recipients.first() else {
        return SendOutcome::Rejected(format!(
            "africastalking: no recipient taken: {}",
            shorten(&answer.data.message)
        ));
    };
    let error = format!(
        "africastalking: {} (statusCode {})",
        r.status, r.status_code
    );
    match r.status_code {
        100..=102 => SendOutcome::Sent {
            id: r.message_id.clone().filter(|id| id != "None"),
            status: Some(r.status.clone()).filter(|s| !s.is_empty()),
            note: None,
        },
        500..=599 => SendOutcome::Retry(error),
        _ => SendOutcome::Rejected(error),
    }
}

/// An HTTP refusal: 429 pauses, 408 and 5xx retry, any other 4xx (a
/// configuration error: credentials, sender, number) fails the message.
fn classify(
    provider: &str,
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    detail: &str,
) -> SendOutcome {
    let error = format!("{provider}: {detail}");
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        SendOutcome::RateLimited { retry_after, error }
    } else if status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT {
        SendOutcome::Retry(error)
    } else {
        SendOutcome::Rejected(error)
    }
}

fn retry_after_of(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()
        .and_then(|v| parse_retry_after(v, Utc::now()))
}

/// `Retry-After`: seconds, or an HTTP date (a date past is zero).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// An error with its causes (reqwest's own text leaves out "connection
/// refused" or "timed out").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// At most 300 characters of a provider's answer, on one line.
fn shorten(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut s: String = one_line.trim().chars().take(300).collect();
    if one_line.trim().chars().count() > 300 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn africastalking_recipient_codes_decide_the_outcome() {
        let answer = |code: i64, status: &str| {
            format!(
                r#"{{"SMSMessageData":{{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{{"statusCode":{code},"number":"+254711000001","status":"{status}","cost":"KES 0.8000","messageId":"ATXid_1"}}]}}}}"#
            )
        };
        assert_eq!(
            at_outcome(&answer(101, "Success")),
            SendOutcome::Sent {
                id: Some("ATXid_1".into()),
                status: Some("Success".into()),
                note: None
            }
        );
        assert!(matches!(
            at_outcome(&answer(102, "Queued")),
            SendOutcome::Sent { .. }
        ));
        assert!(matches!(
            at_outcome(&answer(405, "InsufficientBalance")),
            SendOutcome::Rejected(e) if e.contains("InsufficientBalance")
        ));
        assert!(matches!(
            at_outcome(&answer(403, "InvalidPhoneNumber")),
            SendOutcome::Rejected(_)
        ));
        assert!(matches!(
            at_outcome(&answer(502, "RejectedByGateway")),
            SendOutcome::Retry(_)
        ));
        assert!(matches!(
            at_outcome(r#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#),
            SendOutcome::Rejected(e) if e.contains("InvalidSenderId")
        ));
    }

    #[test]
    fn twilio_sends_from_a_number_or_a_messaging_service() {
        let mut config = TwilioConfig {
            account_sid: "AC1".into(),
            auth_token: crate::config::Secret::new("t"),
            from: Some("+15005550006".into()),
            api_url: "http://x".into(),
        };
        let to = Phone::from_trusted("+250788000001".into());
        let (url, form) = twilio_request(&config, Some("https://k/sms/twilio/status"), &to, "hi");
        assert_eq!(url, "http://x/2010-04-01/Accounts/AC1/Messages.json");
        assert_eq!(
            form,
            [
                ("To", "+250788000001".to_string()),
                ("From", "+15005550006".into()),
                ("Body", "hi".into()),
                ("StatusCallback", "https://k/sms/twilio/status".into())
            ]
        );
        config.from = Some("MG123".into());
        let (_, form) = twilio_request(&config, None, &to, "hi");
        assert_eq!(form[1], ("MessagingServiceSid", "MG123".to_string()));
        assert_eq!(form.len(), 3);
    }
}
