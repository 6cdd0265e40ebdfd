//! Nalo Solutions. Follows Nalo's USSD API documentation (Postman,
//! "USSD API DOCUMENTATION", table 1.0: POST, JSON) and the fields as the
//! npm `ussd-builder` (`lib/ussd-menu.js`, `index.d.ts` `NaloArgs`) and
//! `SeveighTech/nunyakata` (`docs/ussd_api_compliance.md`) read them.
//!
//! Request, JSON: `USERID` (the integrator's id, echoed), `MSISDN`
//! (`233XXXXXXXXX`), `USERDATA` (the latest input; the dialled string on the
//! dial), `MSGTYPE` (`true` on the dial, `false` after), `NETWORK`,
//! `SESSIONID`. No sequence number: an identical input repeated at once is
//! the gateway's retry. Reply, JSON: `USERID`, `MSISDN` (echoed as
//! received), `MSG`, `MSGTYPE` (`true` to continue, `false` to end).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{session_id, Incoming, Protocol};
use crate::{channels::ussd::Typed, engine::Screen};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct Request {
    userid: Option<String>,
    msisdn: Option<String>,
    userdata: Option<String>,
    msgtype: Option<bool>,
    sessionid: Option<String>,
}

pub struct Nalo;

impl Protocol for Nalo {
    const NAME: &'static str = "nalo";
    type Request = Request;

    fn incoming(r: &Request) -> Result<Incoming, String> {
        let session_id = session_id(r.sessionid.as_deref().unwrap_or_default())?;
        let phone = r.msisdn.clone().ok_or("no MSISDN")?;
        let typed = match r.msgtype.ok_or("no MSGTYPE")? {
            true => Typed::Dial,
            false => Typed::Latest {
                input: r.userdata.clone().unwrap_or_default(),
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
            "USERID": r.userid.clone().unwrap_or_default(),
            "MSISDN": r.msisdn.clone().unwrap_or_default(),
            "MSG": screen.text,
            "MSGTYPE": !screen.end,
        })
    }
}
