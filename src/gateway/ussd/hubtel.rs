//! Hubtel (Programmable Services / USSD). Follows Hubtel's own SDK,
//! `hubtel/programmable-services-sdk-dotnet`
//! (`Models/ProgrammableServiceRequest.cs`, `ProgrammableServiceResponse.cs`,
//! `ProgrammableServiceActionType.cs`), its sample request
//! (hubtel.readme.io, "sample general services interaction") and the npm
//! `ussd-builder` (`lib/ussd-menu.js`).
//!
//! Request, JSON: `SessionId`, `Mobile` (`233...`, no `+`), `ServiceCode`,
//! `Type` (`Initiation` on the dial with `Message` the dialled string,
//! `Response` with `Message` the latest input, `Release` when the person
//! hung up, `Timeout`; any case), `Sequence` (the hop's number, a number or
//! a string), `Operator`. Reply, JSON: `{"Type": "Response"|"Release",
//! "Message": ...}`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{session_id, text_of, Incoming, Protocol};
use crate::{channels::ussd::Typed, engine::Screen};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    session_id: Option<String>,
    mobile: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    message: Option<String>,
    sequence: Option<Value>,
}

pub struct Hubtel;

impl Protocol for Hubtel {
    const NAME: &'static str = "hubtel";
    type Request = Request;

    fn incoming(r: &Request) -> Result<Incoming, String> {
        let session_id = session_id(r.session_id.as_deref().unwrap_or_default())?;
        let phone = r.mobile.clone().ok_or("no Mobile")?;
        let kind = r.kind.as_deref().unwrap_or_default().to_ascii_lowercase();
        let typed = match kind.as_str() {
            "initiation" => Typed::Dial,
            "response" => Typed::Latest {
                input: r.message.clone().unwrap_or_default(),
                seq: r.sequence.as_ref().and_then(text_of),
            },
            "release" | "timeout" => return Ok(Incoming::Ended { session_id, phone }),
            other => return Err(format!("unknown Type `{other}`")),
        };
        Ok(Incoming::Hop {
            session_id,
            phone,
            typed,
        })
    }

    fn reply(_: &Request, screen: &Screen) -> Value {
        json!({
            "Type": if screen.end { "Release" } else { "Response" },
            "Message": screen.text,
        })
    }
}
