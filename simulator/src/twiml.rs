//! TwiML messaging replies, read as Twilio reads them: each `<Message>` in
//! the `<Response>` is one SMS back to the phone.
//!
//! `<?xml version="1.0" encoding="UTF-8"?><Response><Message>text</Message></Response>`,
//! several `<Message>` elements, or none (`<Response/>`). A message's text is
//! its character data (entities and CDATA decoded) or that of its `<Body>`
//! child; `<Media>` children are ignored. Any other element is refused, so a
//! server that answers something Twilio would not send as an SMS shows up.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TwimlError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("no <Response> element")]
    NoResponse,
    #[error("the root element is <{0}>, not <Response>")]
    WrongRoot(String),
    #[error("<{0}> is not a messaging verb the simulator knows (inside <{1}>)")]
    Unsupported(String, String),
    #[error("text outside <Message>: {0:?}")]
    StrayText(String),
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("content after </Response>")]
    Trailing,
}

fn xml_err(e: impl std::fmt::Display) -> TwimlError {
    TwimlError::Xml(e.to_string())
}

/// Where the reader is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Prolog,
    Response,
    Message,
    Body,
    Media,
    Done,
}

/// The texts of the reply's messages, in order.
pub fn messages(xml: &str) -> Result<Vec<String>, TwimlError> {
    let mut reader = Reader::from_str(xml);
    let mut at = At::Prolog;
    let mut out: Vec<String> = Vec::new();
    let mut text = String::new();
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        match event {
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Start(_) | Event::Empty(_) if at == At::Done => {
                return Err(TwimlError::Trailing);
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                at = enter(at, &name)?;
                if at == At::Message {
                    text.clear();
                }
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match enter(at, &name)? {
                    At::Response => at = At::Done,
                    At::Message => out.push(String::new()),
                    _ => {}
                }
            }
            Event::End(_) => {
                // The reader has checked that it closes the open element.
                at = match at {
                    At::Response => At::Done,
                    At::Message => {
                        out.push(std::mem::take(&mut text));
                        At::Response
                    }
                    At::Body | At::Media => At::Message,
                    other => other,
                };
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(xml_err)?;
                match at {
                    At::Message | At::Body => text.push_str(&t),
                    At::Media => {}
                    _ if t.trim().is_empty() => {}
                    _ => return Err(TwimlError::StrayText(t.into_owned())),
                }
            }
            Event::CData(t) => {
                let t = t.xml10_content().map_err(xml_err)?;
                match at {
                    At::Message | At::Body => text.push_str(&t),
                    At::Media => {}
                    _ => return Err(TwimlError::StrayText(t.into_owned())),
                }
            }
            Event::GeneralRef(r) => {
                let c = resolve(&r)?;
                match at {
                    At::Message | At::Body => text.push_str(&c),
                    At::Media => {}
                    _ => return Err(TwimlError::StrayText(c)),
                }
            }
        }
    }
    match at {
        At::Done => Ok(out),
        At::Prolog => Err(TwimlError::NoResponse),
        _ => Err(TwimlError::Xml(
            "the document ends inside an element".into(),
        )),
    }
}

/// The state after opening element `name` at `at`.
fn enter(at: At, name: &str) -> Result<At, TwimlError> {
    match (at, name) {
        (At::Prolog, "Response") => Ok(At::Response),
        (At::Prolog, _) => Err(TwimlError::WrongRoot(name.into())),
        (At::Response, "Message") => Ok(At::Message),
        (At::Message, "Body") => Ok(At::Body),
        (At::Message, "Media") => Ok(At::Media),
        (inside, _) => Err(TwimlError::Unsupported(
            name.into(),
            match inside {
                At::Response => "Response",
                At::Message => "Message",
                At::Body => "Body",
                _ => "Media",
            }
            .into(),
        )),
    }
}

/// `&amp;` and the other four predefined entities, `&#233;` and `&#xE9;`.
fn resolve(r: &BytesRef<'_>) -> Result<String, TwimlError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref().map_err(xml_err)? {
            Some(c) => Ok(c.to_string()),
            None => Err(TwimlError::Xml("bad character reference".into())),
        };
    }
    let name = r.decode().map_err(xml_err)?;
    match &*name {
        "amp" => Ok("&".into()),
        "lt" => Ok("<".into()),
        "gt" => Ok(">".into()),
        "quot" => Ok("\"".into()),
        "apos" => Ok("'".into()),
        other => Err(TwimlError::UnknownEntity(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    #[test]
    fn one_several_or_no_messages() {
        assert_eq!(
            messages(&format!(
                "{DECL}<Response><Message>Hello</Message></Response>"
            ))
            .unwrap(),
            ["Hello"]
        );
        assert_eq!(
            messages(&format!(
                "{DECL}\n<Response>\n  <Message>One</Message>\n  <Message>Two</Message>\n</Response>\n"
            ))
            .unwrap(),
            ["One", "Two"]
        );
        assert!(messages(&format!("{DECL}<Response/>")).unwrap().is_empty());
        assert!(messages("<Response></Response>").unwrap().is_empty());
        assert_eq!(
            messages("<Response><Message/><Message></Message></Response>").unwrap(),
            ["", ""]
        );
    }

    #[test]
    fn entities_cdata_and_line_breaks_are_decoded() {
        let xml = "<Response><Message>Tom &amp; Jerry &lt;3 &gt; &quot;hi&quot; &apos;x&apos; \
                   &#233;t&#xE9; &#x1F642;<![CDATA[ <raw> & ]]>\nline 2</Message></Response>";
        assert_eq!(
            messages(xml).unwrap(),
            ["Tom & Jerry <3 > \"hi\" 'x' été 🙂 <raw> & \nline 2"]
        );
        // Whitespace inside a message is the message's own.
        assert_eq!(
            messages("<Response><Message>  a  </Message></Response>").unwrap(),
            ["  a  "]
        );
        // CR LF in the XML is a line feed, as XML 1.0 says.
        assert_eq!(
            messages("<Response><Message>a\r\nb</Message></Response>").unwrap(),
            ["a\nb"]
        );
    }

    #[test]
    fn body_and_media_children() {
        let xml = "<Response><Message to=\"+1\"><Body>Hi &amp; bye</Body>\
                   <Media>https://x.example/a.png</Media></Message></Response>";
        assert_eq!(messages(xml).unwrap(), ["Hi & bye"]);
    }

    #[test]
    fn what_twilio_would_not_send_as_an_sms_is_an_error() {
        let err = |xml: &str| messages(xml).unwrap_err();
        assert_eq!(err(""), TwimlError::NoResponse);
        assert_eq!(err(DECL), TwimlError::NoResponse);
        assert!(matches!(
            err("CON Hello"),
            TwimlError::StrayText(_) | TwimlError::NoResponse
        ));
        assert_eq!(err("<Html>x</Html>"), TwimlError::WrongRoot("Html".into()));
        assert_eq!(
            err("<Response><Say>Hi</Say></Response>"),
            TwimlError::Unsupported("Say".into(), "Response".into())
        );
        assert_eq!(
            err("<Response><Message><b>x</b></Message></Response>"),
            TwimlError::Unsupported("b".into(), "Message".into())
        );
        assert_eq!(
            err("<Response>stray<Message>x</Message></Response>"),
            TwimlError::StrayText("stray".into())
        );
        assert_eq!(
            err("<Response><Message>&nbsp;</Message></Response>"),
            TwimlError::UnknownEntity("nbsp".into())
        );
        assert_eq!(err("<Response/><Response/>"), TwimlError::Trailing);
        assert!(matches!(
            err("<Response><Message>x</Response>"),
            TwimlError::Xml(_)
        ));
        assert!(matches!(err("<Response><Message>x"), TwimlError::Xml(_)));
        assert!(matches!(
            err("<Response><Message>&#0;</Message></Response>"),
            TwimlError::Xml(_)
        ));
    }
}
