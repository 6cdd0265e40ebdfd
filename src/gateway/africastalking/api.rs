//! Africa's Talking's SMS API: one message, `POST /version1/messaging`
//! with the `apiKey` header; the recipient's `messageId` is kept.

use serde::Deserialize;

use crate::{
    casework::outbox::SendOutcome,
    domain::Phone,
    gateway::{
        http::{chain, classify, retry_after_of, shorten},
        settings::AfricasTalkingConfig,
    },
};

#[derive(Clone, Debug)]
pub struct AfricasTalking {
    http: reqwest::Client,
    config: AfricasTalkingConfig,
}

impl AfricasTalking {
    pub fn new(http: reqwest::Client, config: AfricasTalkingConfig) -> Self {
        AfricasTalking { http, config }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
