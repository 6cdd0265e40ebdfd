//! Beem Africa's USSD hub. Follows the npm `ussd-builder`
//! (`lib/ussd-menu.js`) and `gowelle/laravel-beem-africa`
//! (`src/DTOs/UssdCallback.php`, `UssdResponse.php`, `Enums/UssdCommand.php`
//! and its webhook test), which agree on the shapes.
//!
//! Request, JSON: `command` (`initiate` on the dial, `continue`,
//! `terminate` when the session closed), `msisdn` (`255...`), `session_id`,
//! `operator`, `payload` {`request_id` (the hop's number), `response` (the
//! latest input, a string or a number)}. Reply, JSON: `msisdn`, `operator`,
//! `session_id` (echoed), `command` (`continue` or `terminate`), `payload`
//! {`request_id` (echoed), `request` (the screen)}.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{session_id, text_of, Incoming, Protocol};
use crate::{channels::ussd::Typed, engine::Screen};

#[derive(Debug, Default, Deserialize)]
pub struct Request {
    command: Option<String>,
    msisdn: Option<String>,
    session_id: Option<String>,
    operator: Option<String>,
    #[serde(default)]
    payload: Payload,
}

#[derive(Debug, Default, Deserialize)]
pub struct Payload {
    request_id: Option<Value>,
    response: Option<Value>,
}

pub struct Beem;

impl Protocol for Beem {
    const NAME: &'static str = "beem";
    type Request = Request;

    fn incoming(r: &Request) -> Result<Incoming, String> {
        let session_id = session_id(r.session_id.as_deref().unwrap_or_default())?;
        let phone = r.msisdn.clone().ok_or("no msisdn")?;
        let command = r
            .command
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let typed = match command.as_str() {
            "initiate" => Typed::Dial,
            "continue" => Typed::Latest {
                input: r
                    .payload
                    .response
                    .as_ref()
                    .and_then(text_of)
                    .unwrap_or_default(),
                seq: r.payload.request_id.as_ref().and_then(text_of),
            },
            "terminate" => return Ok(Incoming::Ended { session_id, phone }),
            other => return Err(format!("unknown command `{other}`")),
        };
        Ok(Incoming::Hop {
            session_id,
            phone,
            typed,
        })
    }

    fn reply(r: &Request, screen: &Screen) -> Value {
        json!({
            "msisdn": r.msisdn.clone().unwrap_or_default(),
            "operator": r.operator.clone().unwrap_or_default(),
            "session_id": r.session_id.clone().unwrap_or_default(),
            "command": if screen.end { "terminate" } else { "continue" },
            "payload": {
                "request_id": r.payload.request_id.clone().unwrap_or(json!(0)),
                "request": screen.text,
            },
        })
    }
}
