//! A real server on port 0 (or its state alone) over a test database, and
//! the requests a gateway would make of it.

use std::{net::SocketAddr, sync::Arc};

use kanda::{
    app::Config,
    domain::{SharedClock, SystemClock},
    text::gsm::UssdBudget,
    AppState,
};
use tokio::sync::oneshot;

use super::TestDb;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// Another handle on the same server, for a task of its own (stopping
    /// it stops nothing).
    pub fn clone_client(&self) -> TestApp {
        TestApp {
            addr: self.addr,
            state: self.state.clone(),
            http: self.http.clone(),
            shutdown: None,
            server: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// One Africa's Talking hop; asserts the reply is a valid, in-budget screen.
    pub async fn hop(&self, session: &str, phone: &str, text: &str) -> String {
        let (status, body) = self
            .post_ussd(
                &[
                    ("sessionId", session),
                    ("serviceCode", "*384*123#"),
                    ("phoneNumber", phone),
                    ("networkCode", "63510"),
                    ("text", text),
                ],
                "",
            )
            .await;
        assert_eq!(status, 200, "hop {text:?} answered {status}: {body}");
        body
    }

    /// Posts form fields to the USSD endpoint (with an optional query string).
    pub async fn post_ussd(&self, fields: &[(&str, &str)], query: &str) -> (u16, String) {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.post_raw(&format!("/ussd/africastalking{query}"), body, None)
            .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: String,
        basic: Option<(&str, &str)>,
    ) -> (u16, String) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        let (status, ctype, body) = answer(req).await;
        assert!(ctype.starts_with("text/plain"), "content type {ctype}");
        assert!(
            body.starts_with("CON ") || body.starts_with("END "),
            "not a USSD reply: {body:?}"
        );
        let screen = &body[4..];
        assert!(
            UssdBudget::default().fits(screen),
            "screen over budget ({} chars): {screen:?}",
            screen.chars().count()
        );
        (status, body)
    }

    /// Plays `inputs` as a whole session, one hop per input (after the dial);
    /// returns the last screen.
    pub async fn session(&self, session: &str, phone: &str, inputs: &[&str]) -> String {
        let mut last = self.hop(session, phone, "").await;
        for i in 1..=inputs.len() {
            last = self.hop(session, phone, &inputs[..i].join("*")).await;
        }
        last
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

pub fn config(db: &TestDb) -> Config {
    with_keys(Config::for_database(db.url.clone()))
}

/// The data key every test server shares (so two servers over one test
/// database read each other's rows).
pub const TEST_DATA_KEY: &str = "a2FuZGEtdGVzdHMtZGF0YS1rZXktMzItYnl0ZXMhISE=";

/// `config` with the tests' data key.
pub fn with_keys(mut config: Config) -> Config {
    config.data_keys = Some(std::sync::Arc::new(
        kanda::store::Keyring::parse(TEST_DATA_KEY).expect("the test key"),
    ));
    config
}

/// A server over `db` with the demo seeded (when empty).
pub async fn spawn_app_with(config: Config, clock: SharedClock) -> TestApp {
    spawn_state(demo_state(config, clock).await).await
}

pub async fn spawn_state(state: AppState) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn({
        let state = state.clone();
        async move {
            kanda::launch(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("server");
        }
    });
    TestApp {
        addr,
        state,
        http: reqwest::Client::new(),
        shutdown: Some(tx),
        server: Some(server),
    }
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(config(db), Arc::new(SystemClock)).await
}

/// The state over `config`'s database with the demo seeded (when empty):
/// no server, and no worker until the test starts one.
pub async fn demo_state(config: Config, clock: SharedClock) -> AppState {
    let state = AppState::build(config, clock).await.expect("app state");
    kanda::app::demo::seed(&state).await.expect("demo seed");
    state
}

/// The Twilio auth token the SMS tests sign with.
pub const TWILIO_TOKEN: &str = "test-twilio-auth-token";

/// A config whose Twilio webhooks verify with [`TWILIO_TOKEN`].
pub fn sms_config(db: &TestDb) -> Config {
    let mut c = config(db);
    c.sms.twilio = Some(kanda::gateway::TwilioConfig {
        account_sid: format!("AC{}", "0".repeat(32)),
        auth_token: kanda::domain::Secret::new(TWILIO_TOKEN),
        from: None,
        api_url: "http://127.0.0.1:9".into(),
    });
    c
}

/// A new Twilio message id (`SM` and 32 hex digits).
pub fn message_sid() -> String {
    format!("SM{}", kanda::domain::random_token())
}

impl TestApp {
    /// One inbound SMS as Twilio posts it, signed; the TwiML reply's message.
    pub async fn sms(&self, from: &str, body: &str) -> String {
        let (status, reply) = self.sms_with_sid(&message_sid(), from, body).await;
        assert_eq!(status, 200, "SMS {body:?} answered {status}: {reply:?}");
        reply.unwrap_or_else(|| panic!("no <Message> in the reply to {body:?}"))
    }

    /// An inbound SMS with a given `MessageSid`: status and TwiML message.
    pub async fn sms_with_sid(&self, sid: &str, from: &str, body: &str) -> (u16, Option<String>) {
        let fields = [
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("From", from),
            ("To", "+250788999999"),
            ("Body", body),
            ("NumMedia", "0"),
            ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ];
        let url = self.url("/sms/twilio");
        let sig = kanda::gateway::twilio::signature::compute(TWILIO_TOKEN, &url, &fields);
        self.post_twilio("/sms/twilio", &fields, Some(&sig)).await
    }

    /// Posts form fields to a Twilio webhook with a given signature header;
    /// asserts the answer is TwiML and returns its status and `<Message>`.
    pub async fn post_twilio(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        signature: Option<&str>,
    ) -> (u16, Option<String>) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).expect("form"));
        if let Some(sig) = signature {
            req = req.header("X-Twilio-Signature", sig);
        }
        let (status, ctype, body) = answer(req).await;
        assert!(
            ctype.starts_with("text/xml"),
            "content type {ctype}: {body}"
        );
        assert!(
            body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response"#),
            "not TwiML: {body:?}"
        );
        let message = body
            .split_once("<Message>")
            .and_then(|(_, rest)| rest.split_once("</Message>"))
            .map(|(m, _)| {
                m.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&")
            });
        (status, message)
    }
}

/// Sends `req`; its status, content type and body.
pub async fn answer(req: reqwest::RequestBuilder) -> (u16, String, String) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ctype, res.text().await.expect("body"))
}
