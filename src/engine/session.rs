//! What a session starts from, and the screen it comes to.

use super::flows::Entry;
use crate::domain::{Channel, Locale, Phone};

/// A registered volunteer, as the session saw them when it started.
#[derive(Clone, Debug)]
pub struct VolunteerSnapshot {
    pub id: i64,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
}

/// What a session starts from; fixed for the session's life.
#[derive(Clone, Debug)]
pub struct Session {
    /// Makes the session's effects idempotent (e.g. `ussd:<sessionId>`).
    pub key: String,
    pub phone: Phone,
    pub locale: Locale,
    pub channel: Channel,
    pub volunteer: Option<VolunteerSnapshot>,
}

impl Session {
    pub fn entry(&self) -> Entry {
        if self.volunteer.is_some() {
            Entry::Volunteer
        } else {
            Entry::Public
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    /// The session is over: the last screen, after which the phone hangs up.
    pub end: bool,
}
