//! A phone texting the service through Twilio's inbound SMS webhook: each
//! SMS becomes the form Twilio posts, signed with `X-Twilio-Signature` as
//! Twilio signs it, and the TwiML reply becomes the SMS the phone receives.

use std::fmt::Write as _;
use std::io::IsTerminal;

use anyhow::bail;
use kanda::gateway::twilio::signature as twilio_signature;
use kanda::text::gsm::{self, Encoding};
use rand::Rng;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::twiml;
use crate::wire::{Answer, Conn, Target};

/// The line that resends the previous SMS, as a gateway retry would.
pub const AGAIN: &str = "!again";

/// `prefix` and 32 random lowercase hex digits, the shape of Twilio's SIDs.
pub fn sid(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    bytes.iter().fold(prefix.to_string(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Whether `number` is written as E.164 (`+` and 7 to 15 digits), as Twilio
/// always sends `From` and `To`.
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The ISO country of an E.164 number, as Twilio fills `FromCountry` and
/// `ToCountry`; empty when the number's country is not known.
pub fn country(number: &str) -> String {
    phonenumber::parse(None, number)
        .ok()
        .and_then(|n| n.country().id())
        .map(|id| id.as_ref().to_string())
        .unwrap_or_default()
}

/// One SMS from the phone to the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub account_sid: String,
    pub message_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
}

impl Inbound {
    /// The fields Twilio posts for an inbound SMS, in Twilio's order. Twilio
    /// leaves the city, state and zip fields empty outside North America.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let sid = &self.message_sid;
        vec![
            ("ToCountry", country(&self.to)),
            ("ToState", String::new()),
            ("SmsMessageSid", sid.clone()),
            ("NumMedia", "0".into()),
            ("ToCity", String::new()),
            ("FromZip", String::new()),
            ("SmsSid", sid.clone()),
            ("FromState", String::new()),
            ("SmsStatus", "received".into()),
            ("FromCity", String::new()),
            ("Body", self.body.clone()),
            ("FromCountry", country(&self.from)),
            ("To", self.to.clone()),
            ("ToZip", String::new()),
            ("NumSegments", gsm::sms_segments(&self.body).to_string()),
            ("MessageSid", sid.clone()),
            ("AccountSid", self.account_sid.clone()),
            ("From", self.from.clone()),
            ("ApiVersion", "2010-04-01".into()),
        ]
    }

    /// The `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> String {
        serde_urlencoded::to_string(self.fields()).unwrap_or_default()
    }

    /// `X-Twilio-Signature` for this SMS posted to `signed_url`.
    pub fn signature(&self, auth_token: &str, signed_url: &str) -> String {
        twilio_signature::compute(auth_token, signed_url, &self.fields())
    }
}

/// E.g. `[12 septets, GSM-7, 1 segment]`: what the reply costs as SMS.
pub fn length_line(text: &str) -> String {
    let (encoding, n) = gsm::units(text);
    let (unit, name) = match encoding {
        Encoding::Gsm7 => ("septets", "GSM-7"),
        Encoding::Ucs2 => ("UTF-16 units", "UCS-2"),
    };
    let segments = gsm::sms_segments(text);
    let plural = if segments == 1 { "" } else { "s" };
    format!("[{n} {unit}, {name}, {segments} segment{plural}]")
}

/// What the phone shows for the server's answer, one line each.
pub fn answer_lines(answer: &Answer) -> Vec<String> {
    if answer.status != 200 {
        return vec![format!("! HTTP {}: {}", answer.status, answer.body.trim())];
    }
    let mut out = Vec::new();
    let ct = answer.content_type.to_ascii_lowercase();
    if !(ct.starts_with("text/xml") || ct.starts_with("application/xml")) {
        out.push(format!(
            "! content type {:?}: Twilio expects text/xml or application/xml",
            answer.content_type
        ));
    }
    match twiml::messages(&answer.body) {
        Err(e) => out.push(format!("! not TwiML ({e}): {:?}", answer.body)),
        Ok(messages) if messages.is_empty() => out.push("  (no reply)".into()),
        Ok(messages) => {
            for m in messages {
                let mut lines = m.split('\n');
                out.push(format!("< {}", lines.next().unwrap_or("")));
                out.extend(lines.map(|l| format!("  {l}")));
                out.push(format!("  {}", length_line(&m)));
            }
        }
    }
    out
}

/// The `kanda-sim sms` options.
pub struct Chat {
    /// Where to post (the server's Twilio SMS webhook).
    pub url: String,
    /// The URL the signature covers: `url` unless a proxy is in between.
    pub signed_url: String,
    pub phone: String,
    pub to: String,
    pub auth_token: String,
}

/// Reads one SMS a line from stdin until end of input.
pub async fn chat(opts: Chat) -> anyhow::Result<()> {
    for (flag, number) in [("--phone", &opts.phone), ("--to", &opts.to)] {
        if !is_e164(number) {
            bail!("{flag} {number}: write the number as E.164, e.g. +250788000001");
        }
    }
    let target = Target::parse(&opts.url, None)?;
    let typing = std::io::stdin().is_terminal();
    let dim = std::io::stdout().is_terminal();
    let via = if opts.signed_url == opts.url {
        String::new()
    } else {
        format!(", signed for {}", opts.signed_url)
    };
    println!(
        "SMS from {} to {} via {}{via}. One line is one SMS, {AGAIN} resends the last, Ctrl-D ends.",
        opts.phone, opts.to, opts.url
    );
    let account_sid = sid("AC");
    let mut conn: Option<Conn> = None;
    let mut last: Option<Inbound> = None;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if typing {
            crate::print_prompt("> ");
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim_end_matches('\r');
        if !typing {
            println!("> {line}");
        }
        let sms = if line == AGAIN {
            match &last {
                Some(sms) => {
                    println!("  (the same SMS again, {})", sms.message_sid);
                    sms.clone()
                }
                None => {
                    println!("! nothing to resend yet");
                    continue;
                }
            }
        } else {
            Inbound {
                account_sid: account_sid.clone(),
                message_sid: sid("SM"),
                from: opts.phone.clone(),
                to: opts.to.clone(),
                body: line.to_string(),
            }
        };
        let signature = sms.signature(&opts.auth_token, &opts.signed_url);
        match deliver(&target, &mut conn, sms.form(), &signature).await {
            Ok(answer) => {
                for l in answer_lines(&answer) {
                    if dim && l.starts_with("  [") {
                        println!("\x1b[2m{l}\x1b[0m");
                    } else {
                        println!("{l}");
                    }
                }
            }
            Err(e) => println!("! {e:#}"),
        }
        last = Some(sms);
    }
    Ok(())
}

/// Posts on the open connection; on a closed one (a server's idle timeout
/// while the person types), connects again and posts once more.
async fn deliver(
    target: &Target,
    conn: &mut Option<Conn>,
    form: String,
    signature: &str,
) -> anyhow::Result<Answer> {
    let headers = [(twilio_signature::HEADER, signature)];
    if let Some(c) = conn.as_mut() {
        if let Ok(answer) = c.send(form.clone(), &headers).await {
            return Ok(answer);
        }
    }
    *conn = None;
    let mut fresh = Conn::connect(target).await?;
    let answer = fresh.send(form, &headers).await?;
    *conn = Some(fresh);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(body: &str) -> Inbound {
        Inbound {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            message_sid: "SMfedcba9876543210fedcba9876543210".into(),
            from: "+250788000001".into(),
            to: "+250788999999".into(),
            body: body.into(),
        }
    }

    #[test]
    fn sids_look_like_twilios() {
        let a = sid("SM");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("SM"));
        assert!(a[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(a, sid("SM"));
    }

    #[test]
    fn numbers() {
        assert!(is_e164("+250788000001"));
        assert!(!is_e164("250788000001"));
        assert!(!is_e164("+0788000001"));
        assert!(!is_e164("+25078800000a"));
        assert!(!is_e164("+"));
        assert_eq!(country("+250788000001"), "RW");
        assert_eq!(country("+22890000000"), "TG");
        assert_eq!(country("+999"), "");
    }

    #[test]
    fn the_form_has_twilios_fields_in_twilios_order() {
        let s = sms("Mwaramutse ç é + & =");
        let names: Vec<&str> = s.fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "ToCountry",
                "ToState",
                "SmsMessageSid",
                "NumMedia",
                "ToCity",
                "FromZip",
                "SmsSid",
                "FromState",
                "SmsStatus",
                "FromCity",
                "Body",
                "FromCountry",
                "To",
                "ToZip",
                "NumSegments",
                "MessageSid",
                "AccountSid",
                "From",
                "ApiVersion"
            ]
        );
        let form = s.form();
        assert!(form.starts_with("ToCountry=RW&ToState=&SmsMessageSid=SMfedcba"));
        assert!(form.contains("&Body=Mwaramutse+%C3%A7+%C3%A9+%2B+%26+%3D&"));
        assert!(form.contains("&From=%2B250788000001&ApiVersion=2010-04-01"));
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&form).unwrap();
        let fields: Vec<(String, String)> = s
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(decoded, fields);
        assert_eq!(
            sms(&"a".repeat(161)).fields()[14],
            ("NumSegments", "2".into())
        );
    }

    #[test]
    fn the_signature_is_twilios_over_the_signed_url() {
        let s = sms("Hello");
        let url = "https://kanda.example.org/sms/twilio";
        let sig = s.signature("tok", url);
        assert!(twilio_signature::verify("tok", url, &s.fields(), &sig));
        assert!(!twilio_signature::verify("other", url, &s.fields(), &sig));
        assert!(!twilio_signature::verify(
            "tok",
            url,
            &sms("Hellp").fields(),
            &sig
        ));
    }

    #[test]
    fn lengths() {
        assert_eq!(length_line("Hello"), "[5 septets, GSM-7, 1 segment]");
        assert_eq!(length_line("€"), "[2 septets, GSM-7, 1 segment]");
        assert_eq!(
            length_line("Muraho 🙂"),
            "[9 UTF-16 units, UCS-2, 1 segment]"
        );
        assert_eq!(
            length_line(&"a".repeat(161)),
            "[161 septets, GSM-7, 2 segments]"
        );
    }

    fn answer(status: u16, content_type: &str, body: &str) -> Answer {
        Answer {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    #[test]
    fn what_the_phone_shows() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
                   <Message>Case 34222358 &amp; more\nline 2</Message>\
                   <Message>Ça va 🙂</Message></Response>";
        assert_eq!(
            answer_lines(&answer(200, "text/xml; charset=utf-8", xml)),
            [
                "< Case 34222358 & more",
                "  line 2",
                "  [27 septets, GSM-7, 1 segment]",
                "< Ça va 🙂",
                "  [8 UTF-16 units, UCS-2, 1 segment]",
            ]
        );
        assert_eq!(
            answer_lines(&answer(200, "application/xml", "<Response/>")),
            ["  (no reply)"]
        );
        assert_eq!(
            answer_lines(&answer(403, "text/plain", "bad signature\n")),
            ["! HTTP 403: bad signature"]
        );
        let plain = answer_lines(&answer(200, "text/plain", "END Bye"));
        assert_eq!(plain.len(), 2, "{plain:?}");
        assert!(plain[0].starts_with("! content type \"text/plain\""));
        assert!(plain[1].starts_with("! not TwiML ("), "{plain:?}");
        assert!(plain[1].ends_with("\"END Bye\""), "{plain:?}");
    }
}
