//! The records that cross layers: what a flow hands over when a session
//! confirms a report or a visit, and the places it lists. The engine makes
//! them, the case work acts on them, the store keeps them.

use super::{CaseRef, Phone};

/// Which channel a report or visit came by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Ussd,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Ussd => "ussd",
            Channel::Sms => "sms",
        }
    }
}

/// A place of the location tree (province, district, sector, village).
#[derive(Clone, Debug)]
pub struct Place {
    pub id: i64,
    pub name: String,
}

/// The levels of the location tree, from the top: a place's level is its
/// depth, 1 to 4.
pub const LEVELS: [&str; 4] = ["province", "district", "sector", "village"];

/// Longest place name: names appear on USSD screens.
pub const MAX_PLACE_NAME: usize = 30;

/// A report a session confirmed: once per `source_key`.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub source_key: String,
    pub channel: Channel,
    pub self_report: bool,
    pub anonymous: bool,
    pub reporter_phone: Option<Phone>,
    pub volunteer_id: Option<i64>,
    pub child_name: Option<String>,
    pub child_age: Option<i64>,
    pub child_sex: String,
    pub disability: Option<String>,
    pub concern: String,
    pub care: Option<String>,
    pub danger: bool,
    pub location_id: i64,
}

/// A follow-up visit a session confirmed: once per `source_key`.
#[derive(Clone, Debug)]
pub struct NewVisit {
    pub source_key: String,
    pub reference: CaseRef,
    pub outcome: String,
    pub note: Option<String>,
    pub volunteer_id: Option<i64>,
    pub phone: Phone,
    pub channel: Channel,
}
