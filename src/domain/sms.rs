//! Outgoing SMS as every layer speaks of them: a message to queue, why it
//! goes (which decides who may receive it), and what a delivery report
//! says of it once a gateway has read the provider's own word.

use super::Phone;

/// Why a message goes out, which decides who may receive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsKind {
    /// Answers an SMS the phone just sent: always allowed.
    Reply,
    /// Anything else (alerts, reminders): only to staff, volunteers, and
    /// people who reported a case without anonymity (they opted in).
    Notice,
}

impl SmsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsKind::Reply => "reply",
            SmsKind::Notice => "notice",
        }
    }
}

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewSms {
    pub to: Phone,
    pub body: String,
    /// Jumps the queue.
    pub urgent: bool,
    pub kind: SmsKind,
    /// The caller's idempotency key (e.g. `sms-in:<provider id>:reply`):
    /// the same key twice queues one message.
    pub source_key: String,
    /// The case a message to staff is about (an alert, an escalation, a
    /// reminder), counted by the indicators; `None` for anything else.
    pub case_id: Option<i64>,
}

/// What a provider's delivery report means for a message that was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// The provider has it (queued, accepted, on its way).
    Sent,
    Delivered,
    /// The network could not deliver it.
    Undelivered,
    Failed,
}

impl DeliveryStatus {
    /// The message's status, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Undelivered => "undelivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// How far along it is (queued and sending 0, sent 1, the final ones
    /// 2): a report moves a message only up.
    pub fn rank(self) -> i64 {
        match self {
            DeliveryStatus::Sent => 1,
            _ => 2,
        }
    }
}
