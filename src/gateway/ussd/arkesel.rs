//! Arkesel. Follows the npm `ussd-builder` (`lib/ussd-menu.js`,
//! `index.d.ts` `ArkeselArgs`, `ArkeselResponse`) and
//! `spesohq/laravel-ussd` (`src/Responses/ArkeselResponse.php`), which agree
//! on the names and their case.
//!
//! Request, JSON: `sessionID`, `userID` (the account's, echoed),
//! `newSession` (`true` on the dial), `msisdn`, `userData` (the latest
//! input), `network`. No sequence number: an identical input repeated at
//! once is the gateway's retry. Reply, JSON: `sessionID`, `userID`,
//! `msisdn` (echoed), `message`, `continueSession`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{session_id, Incoming, Protocol};
use crate::{channels::ussd::Typed, engine::Screen};

#[derive(Debug, Default, Deserialize)]
pub struct Request {
    #[serde(rename = "sessionID")]
    session_id: Option<String>,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    #[serde(rename = "newSession")]
    new_session: Option<bool>,
    msisdn: Option<String>,
    #[serde(rename = "userData")]
    user_data: Option<String>,
}

pub struct Arkesel;

impl Protocol for Arkesel {
    const NAME: &'static str = "arkesel";
    type Request = Request;

    fn incoming(r: &Request) -> Result<Incoming, String> {
        let session_id = session_id(r.session_id.as_deref().unwrap_or_default())?;
        let phone = r.msisdn.clone().ok_or("no msisdn")?;
        let typed = match r.new_session.ok_or("no newSession")? {
            true => Typed::Dial,
            false => Typed::Latest {
                input: r.user_data.clone().unwrap_or_default(),
                seq: None,
            },
        };
        Ok(Incoming::Hop {
            session_id,
            phone,
            typed,
        })
    }

    fn reply(r: &Request, screen: &Screen) -> Value {
        json!({
            "sessionID": r.session_id.clone().unwrap_or_default(),
            "userID": r.user_id.clone().unwrap_or_default(),
            "msisdn": r.msisdn.clone().unwrap_or_default(),
            "message": screen.text,
            "continueSession": !screen.end,
        })
    }
}
