//! USSD on the wire: what each gateway posts (Africa's Talking's form with
//! every input so far; Hubtel's, Nalo's, Arkesel's and Beem's JSON with the
//! latest input) and the reply it reads. One keep-alive HTTP/1.1 connection
//! per phone.

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use kanda::text::gsm::{units, Encoding, UssdBudget};

/// Where the gateway posts: `http://host:port/path`, with `?token=` when one is set.
#[derive(Clone, Debug)]
pub struct Target {
    pub authority: String,
    pub path_and_query: String,
}

impl Target {
    pub fn parse(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let uri: hyper::Uri = url
            .parse()
            .with_context(|| format!("`{url}` is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("`{url}`: only http:// is supported (the simulator talks to a local server)");
        }
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow!("`{url}` has no host"))?;
        let authority = match authority.port() {
            Some(_) => authority.to_string(),
            None => format!("{}:80", authority.host()),
        };
        let mut path_and_query = uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string());
        if let Some(t) = token {
            let sep = if path_and_query.contains('?') {
                '&'
            } else {
                '?'
            };
            path_and_query.push(sep);
            path_and_query.push_str(&serde_urlencoded::to_string([("token", t)])?);
        }
        Ok(Target {
            authority,
            path_and_query,
        })
    }
}

/// One hop's form, exactly as Africa's Talking sends it.
pub fn form(
    session_id: &str,
    service_code: &str,
    phone: &str,
    network: &str,
    text: &str,
) -> String {
    serde_urlencoded::to_string([
        ("sessionId", session_id),
        ("serviceCode", service_code),
        ("phoneNumber", phone),
        ("networkCode", network),
        ("text", text),
    ])
    .unwrap_or_default()
}

/// The gateway a session goes through (`--gateway`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Gateway {
    Africastalking,
    Hubtel,
    Nalo,
    Arkesel,
    Beem,
}

/// One hop as a gateway sees it: every input so far (the last is this
/// hop's; none on the dial), and the hop's number (0 on the dial).
pub struct Hop<'a> {
    pub session: &'a str,
    pub phone: &'a str,
    pub service_code: &'a str,
    pub inputs: &'a [String],
    pub seq: usize,
}

impl Gateway {
    /// Whether the gateway numbers its hops; without, the server takes the
    /// same input again within 2 s for a retry, so a script waits before
    /// typing the same key twice.
    pub fn numbers_hops(self) -> bool {
        !matches!(self, Gateway::Nalo | Gateway::Arkesel)
    }

    /// The request's content type and body.
    pub fn request(self, h: &Hop<'_>) -> (&'static str, String) {
        let msisdn = h.phone.trim_start_matches('+');
        let dial = h.inputs.is_empty();
        let latest = h.inputs.last().map(String::as_str).unwrap_or_default();
        let json = |v: serde_json::Value| ("application/json", v.to_string());
        match self {
            Gateway::Africastalking => (
                "application/x-www-form-urlencoded",
                form(
                    h.session,
                    h.service_code,
                    h.phone,
                    "63510",
                    &h.inputs.join("*"),
                ),
            ),
            Gateway::Hubtel => json(serde_json::json!({
                "SessionId": h.session, "Mobile": msisdn,
                "ServiceCode": h.service_code.trim_start_matches('*').trim_end_matches('#'),
                "Type": if dial { "Initiation" } else { "Response" },
                "Message": if dial { h.service_code } else { latest },
                "Operator": "mtn", "Sequence": h.seq + 1, "ClientState": "", "Platform": "USSD",
            })),
            Gateway::Nalo => json(serde_json::json!({
                "USERID": "kanda-sim", "MSISDN": msisdn,
                "USERDATA": if dial { h.service_code } else { latest },
                "MSGTYPE": dial, "NETWORK": "MTN", "SESSIONID": h.session,
            })),
            Gateway::Arkesel => json(serde_json::json!({
                "sessionID": h.session, "userID": "kanda-sim", "newSession": dial,
                "msisdn": msisdn, "userData": if dial { h.service_code } else { latest },
                "network": "MTN",
            })),
            Gateway::Beem => json(serde_json::json!({
                "command": if dial { "initiate" } else { "continue" },
                "msisdn": msisdn, "session_id": h.session, "operator": "vodacom",
                "payload": {"request_id": h.seq, "response": if dial { serde_json::json!(0) } else { serde_json::json!(latest) }},
            })),
        }
    }

    /// The screen a reply shows.
    pub fn reply(self, status: u16, body: &str) -> anyhow::Result<Reply> {
        if self == Gateway::Africastalking {
            return Reply::parse(status, body);
        }
        if status != 200 {
            bail!("HTTP {status}: {body}");
        }
        let v: serde_json::Value =
            serde_json::from_str(body).with_context(|| format!("not JSON: {body:?}"))?;
        let text = |v: &serde_json::Value| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("no screen in {body}"))
        };
        let flag = |v: &serde_json::Value| v.as_bool().ok_or_else(|| anyhow!("no flag in {body}"));
        let (text, end) = match self {
            Gateway::Africastalking => unreachable!("read above"),
            Gateway::Hubtel => (text(&v["Message"])?, v["Type"] == "Release"),
            Gateway::Nalo => (text(&v["MSG"])?, !flag(&v["MSGTYPE"])?),
            Gateway::Arkesel => (text(&v["message"])?, !flag(&v["continueSession"])?),
            Gateway::Beem => (text(&v["payload"]["request"])?, v["command"] == "terminate"),
        };
        Ok(Reply { end, text })
    }
}

/// A screen as the phone shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub end: bool,
    pub text: String,
}

impl Reply {
    pub fn parse(status: u16, body: &str) -> anyhow::Result<Reply> {
        if status != 200 {
            bail!("HTTP {status}: {body}");
        }
        if let Some(t) = body.strip_prefix("CON ") {
            Ok(Reply {
                end: false,
                text: t.to_string(),
            })
        } else if let Some(t) = body.strip_prefix("END ") {
            Ok(Reply {
                end: true,
                text: t.to_string(),
            })
        } else {
            bail!("not a USSD reply (no CON/END): {body:?}")
        }
    }

    /// E.g. `[CON · 143/182 GSM-7]`, flagged when over the budget.
    pub fn length_line(&self) -> String {
        let (enc, n) = units(&self.text);
        let name = match enc {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        };
        let limit = UssdBudget::default().limit_for(&self.text);
        let over = if n > limit { "  OVER BUDGET" } else { "" };
        format!(
            "[{} · {n}/{limit} {name}]{over}",
            if self.end { "END" } else { "CON" }
        )
    }

    pub fn fits(&self) -> bool {
        UssdBudget::default().fits(&self.text)
    }
}

/// A server's answer to one post.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

pub struct Conn {
    target: Target,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn connect(target: &Target) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(&target.authority)
            .await
            .with_context(|| format!("cannot connect to {}", target.authority))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            target: target.clone(),
            sender,
        })
    }

    /// Posts one form with extra headers (such as a signature).
    pub async fn send(&mut self, body: String, headers: &[(&str, &str)]) -> anyhow::Result<Answer> {
        self.send_as("application/x-www-form-urlencoded", body, headers)
            .await
    }

    /// Posts one body of `content_type`; returns the status and body.
    pub async fn post_as(
        &mut self,
        content_type: &str,
        body: String,
    ) -> anyhow::Result<(u16, String)> {
        let answer = self.send_as(content_type, body, &[]).await?;
        Ok((answer.status, answer.body))
    }

    /// One hop through `gateway`: its screen.
    pub async fn hop_via(&mut self, gateway: Gateway, hop: &Hop<'_>) -> anyhow::Result<Reply> {
        let (content_type, body) = gateway.request(hop);
        let answer = self.send_as(content_type, body, &[]).await?;
        gateway.reply(answer.status, &answer.body)
    }

    async fn send_as(
        &mut self,
        content_type: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        self.sender.ready().await.context("connection closed")?;
        let mut req = hyper::Request::post(self.target.path_and_query.as_str())
            .header(hyper::header::HOST, self.target.authority.as_str())
            .header(hyper::header::CONTENT_TYPE, content_type);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let res = self
            .sender
            .send_request(req)
            .await
            .context("request failed")?;
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// A session id no other dial shares.
pub fn session_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encodes_like_a_gateway() {
        let f = form("s1", "*384*123#", "+250788000001", "63510", "1*Amina*7");
        assert_eq!(f, "sessionId=s1&serviceCode=*384*123%23&phoneNumber=%2B250788000001&networkCode=63510&text=1*Amina*7");
    }

    #[test]
    fn replies_and_lengths() {
        let r = Reply::parse(200, "CON Hello\n1. Yes").unwrap();
        assert_eq!(
            r,
            Reply {
                end: false,
                text: "Hello\n1. Yes".into()
            }
        );
        assert_eq!(r.length_line(), "[CON · 12/182 GSM-7]");
        let r = Reply::parse(200, "END garçon").unwrap();
        assert_eq!(r.length_line(), "[END · 6/80 UCS-2]");
        assert!(Reply::parse(200, "Hello").is_err());
        assert!(Reply::parse(500, "CON x").is_err());
    }

    #[test]
    fn each_gateway_sends_its_own_fields_and_reads_its_own_reply() {
        let inputs = vec!["1".to_string(), "Amina".to_string()];
        let hop = |inputs: &'static [String]| Hop {
            session: "s1",
            phone: "+250788000001",
            service_code: "*384*123#",
            inputs,
            seq: inputs.len(),
        };
        let typed: &'static [String] = Box::leak(inputs.into_boxed_slice());
        let (ct, body) = Gateway::Hubtel.request(&hop(&[]));
        assert_eq!(ct, "application/json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (v["Type"].as_str(), v["Message"].as_str()),
            (Some("Initiation"), Some("*384*123#"))
        );
        assert_eq!(v["Mobile"], "250788000001");
        let v: serde_json::Value =
            serde_json::from_str(&Gateway::Beem.request(&hop(typed)).1).unwrap();
        assert_eq!(v["payload"]["response"], "Amina");
        assert_eq!(v["payload"]["request_id"], 2);
        let v: serde_json::Value =
            serde_json::from_str(&Gateway::Nalo.request(&hop(typed)).1).unwrap();
        assert_eq!(
            (v["USERDATA"].as_str(), v["MSGTYPE"].as_bool()),
            (Some("Amina"), Some(false))
        );
        let (_, form) = Gateway::Africastalking.request(&hop(typed));
        assert!(form.ends_with("text=1*Amina"), "{form}");
        let r = Gateway::Arkesel
            .reply(200, r#"{"message":"Bye","continueSession":false}"#)
            .unwrap();
        assert_eq!(
            r,
            Reply {
                end: true,
                text: "Bye".into()
            }
        );
        let r = Gateway::Beem
            .reply(
                200,
                r#"{"command":"continue","payload":{"request_id":1,"request":"Hi"}}"#,
            )
            .unwrap();
        assert_eq!(
            r,
            Reply {
                end: false,
                text: "Hi".into()
            }
        );
        assert!(Gateway::Hubtel.reply(200, "CON x").is_err());
        assert!(!Gateway::Nalo.numbers_hops() && Gateway::Hubtel.numbers_hops());
    }

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8080/ussd/africastalking", Some("a b")).unwrap();
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path_and_query, "/ussd/africastalking?token=a+b");
        assert!(Target::parse("https://example.org/x", None).is_err());
    }
}
