//! Twilio's REST API: one message, `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! with HTTP Basic auth; the answer's `sid` is kept as the provider's id.

use serde::Deserialize;

use crate::{
    casework::outbox::SendOutcome,
    domain::Phone,
    gateway::{
        http::{chain, classify, retry_after_of, shorten},
        settings::TwilioConfig,
    },
};

#[derive(Clone, Debug)]
pub struct Twilio {
    http: reqwest::Client,
    config: TwilioConfig,
    /// `{KANDA_PUBLIC_URL}/sms/twilio/status`, when a public URL is set.
    status_callback: Option<String>,
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
    pub fn new(
        http: reqwest::Client,
        config: TwilioConfig,
        status_callback: Option<String>,
    ) -> Self {
        Twilio {
            http,
            config,
            status_callback,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_sends_from_a_number_or_a_messaging_service() {
        let mut config = TwilioConfig {
            account_sid: "AC1".into(),
            auth_token: crate::domain::Secret::new("t"),
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
