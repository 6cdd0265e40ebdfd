//! Twilio: the SMS webhooks it calls (inbound messages answered in TwiML,
//! delivery reports), the signature it signs them with, and its REST API
//! for sending.

pub mod api;
pub mod signature;
pub mod sms;

use crate::domain::DeliveryStatus;

/// The name stored with each message Twilio sends.
pub const PROVIDER: &str = "twilio";

/// What a Twilio `MessageStatus` means for a message; `None` for one that
/// is recorded but not acted on (`receiving`, `read`, anything new).
pub fn delivery_status(raw: &str) -> Option<DeliveryStatus> {
    Some(match raw.trim().to_ascii_lowercase().as_str() {
        "queued" | "accepted" | "sending" | "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "undelivered" => DeliveryStatus::Undelivered,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_statuses_map_and_unknown_ones_do_not() {
        assert_eq!(
            delivery_status("delivered"),
            Some(DeliveryStatus::Delivered)
        );
        assert_eq!(delivery_status("queued"), Some(DeliveryStatus::Sent));
        assert_eq!(
            delivery_status("undelivered"),
            Some(DeliveryStatus::Undelivered)
        );
        assert_eq!(delivery_status("Success"), None);
        assert_eq!(delivery_status("partially_delivered"), None);
    }
}
