//! Africa's Talking: the USSD callback (`CON `/`END ` screens), the SMS
//! callbacks (inbound messages, whose replies go out through the outbox,
//! and delivery reports), and its SMS API for sending. Callbacks are
//! authenticated by the gateway token.

pub mod api;
pub mod sms;
pub mod ussd;

use crate::domain::DeliveryStatus;

/// The name stored with each message Africa's Talking sends.
pub const PROVIDER: &str = "africastalking";

/// What an Africa's Talking delivery `status` means for a message; `None`
/// for one that is recorded but not acted on.
pub fn delivery_status(raw: &str) -> Option<DeliveryStatus> {
    Some(match raw.trim().to_ascii_lowercase().as_str() {
        "sent" | "submitted" | "buffered" => DeliveryStatus::Sent,
        "success" => DeliveryStatus::Delivered,
        "rejected" | "failed" => DeliveryStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_statuses_map_and_unknown_ones_do_not() {
        assert_eq!(delivery_status("Success"), Some(DeliveryStatus::Delivered));
        assert_eq!(delivery_status("Buffered"), Some(DeliveryStatus::Sent));
        assert_eq!(delivery_status("Rejected"), Some(DeliveryStatus::Failed));
        assert_eq!(delivery_status("delivered"), None);
    }
}
