//! `kanda-sim sms` against a fake Twilio SMS webhook that checks each
//! request as the real endpoint must (signature by the library's `verify`,
//! Twilio's fields) and answers TwiML: the transcript must show each reply.

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use kanda::gateway::twilio::signature as twilio_signature;

const TOKEN: &str = "test-token-0123";
const PUBLIC_URL: &str = "https://kanda.example.org/sms/twilio";

/// Every request the fake accepted, as its decoded form.
type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn twiml(messages: &[&str]) -> Response {
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for m in messages {
        xml.push_str("<Message>");
        xml.push_str(m);
        xml.push_str("</Message>");
    }
    xml.push_str("</Response>");
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn answer(signed_url: &str, seen: &Seen, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: Vec<(String, String)> = match serde_urlencoded::from_bytes(body) {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad form: {e}")).into_response(),
    };
    let signature = headers
        .get(twilio_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !twilio_signature::verify(TOKEN, signed_url, &form, signature) {
        return (StatusCode::FORBIDDEN, "bad signature").into_response();
    }
    let field = |name: &str| {
        let mut values = form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    };
    let ok = field("ApiVersion") == Some("2010-04-01")
        && field("SmsStatus") == Some("received")
        && field("NumMedia") == Some("0")
        && field("NumSegments") == Some("1")
        && field("ToCountry") == Some("RW")
        && field("FromCountry") == Some("RW")
        && field("MessageSid").is_some_and(|s| is_sid(s, "SM"))
        && field("SmsSid") == field("MessageSid")
        && field("SmsMessageSid") == field("MessageSid")
        && field("AccountSid").is_some_and(|s| is_sid(s, "AC"))
        && [
            "ToState",
            "ToCity",
            "FromZip",
            "FromState",
            "FromCity",
            "ToZip",
        ]
        .iter()
        .all(|f| field(f) == Some(""))
        && form.len() == 19;
    let (Some(from), Some(text), Some(sid), true) =
        (field("From"), field("Body"), field("MessageSid"), ok)
    else {
        return (StatusCode::BAD_REQUEST, format!("bad fields: {form:?}")).into_response();
    };
    let mut seen = seen.lock().unwrap();
    let again = seen
        .iter()
        .any(|f| f.contains(&("MessageSid".into(), sid.into())));
    seen.push(form.clone());
    match text {
        "two" => twiml(&[
            "Tom &amp; Jerry &lt;3 &quot;x&quot; &apos;y&apos; &#233;t&#xE9; &gt;",
            "Second\nline",
        ]),
        "none" => twiml(&[]),
        "boom" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        "plain" => "END Bye".into_response(),
        _ => twiml(&[&format!(
            "{} from {from} ({})",
            escape(text),
            if again { "again" } else { "new" }
        )]),
    }
}

/// The fake webhook: `/sms/twilio` checks signatures over its own URL,
/// `/behind-proxy` over [`PUBLIC_URL`], as a server behind a proxy would;
/// `/closing` closes the connection after each answer, as a server's idle
/// timeout does while a person types.
async fn fake() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let own = format!("{base}/sms/twilio");
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let closing_url = format!("{base}/closing");
    let app = Router::new()
        .route(
            "/sms/twilio",
            post(move |headers: HeaderMap, body: Bytes| {
                let (own, seen) = (own.clone(), s1.clone());
                async move { answer(&own, &seen, &headers, &body) }
            }),
        )
        .route(
            "/closing",
            post(move |headers: HeaderMap, body: Bytes| {
                let (url, seen) = (closing_url.clone(), s3.clone());
                async move {
                    let mut res = answer(&url, &seen, &headers, &body);
                    res.headers_mut()
                        .insert(header::CONNECTION, "close".parse().unwrap());
                    res
                }
            }),
        )
        .route(
            "/behind-proxy",
            post(move |headers: HeaderMap, body: Bytes| {
                let seen = s2.clone();
                async move { answer(PUBLIC_URL, &seen, &headers, &body) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

/// Runs `kanda-sim sms` with `input` on a pipe; returns the exit code and
/// what it printed (stdout, then stderr).
async fn sms(args: &[&str], env_token: Option<&str>, input: &str) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let input = input.to_string();
    let env_token = env_token.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kanda-sim"));
        cmd.arg("sms")
            .args(&args)
            .env_remove("KANDA_TWILIO_AUTH_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = env_token {
            cmd.env("KANDA_TWILIO_AUTH_TOKEN", t);
        }
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_shows_each_reply_and_error_and_resends_with_the_same_sid() {
    let (base, seen) = fake().await;
    let url = format!("{base}/sms/twilio");
    let input = "Mwaramutse ç é + & <\n!again\ntwo\nnone\nboom\nplain\n\nlast one\r\n";
    let (code, out, err) = sms(
        &[
            "--url",
            &url,
            "--phone",
            "+250788000001",
            "--auth-token",
            TOKEN,
        ],
        None,
        input,
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let sids: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|f| {
            f.iter()
                .find(|(k, _)| k == "MessageSid")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(sids.len(), 8, "every line reached the server: {out}");
    let expected = format!(
        "SMS from +250788000001 to +250788999999 via {url}. One line is one SMS, !again resends the last, Ctrl-D ends.
> Mwaramutse ç é + & <
< Mwaramutse ç é + & < from +250788000001 (new)
  [45 UTF-16 units, UCS-2, 1 segment]
> !again
  (the same SMS again, {sid0})
< Mwaramutse ç é + & < from +250788000001 (again)
  [47 UTF-16 units, UCS-2, 1 segment]
> two
< Tom & Jerry <3 \"x\" 'y' été >
  [28 septets, GSM-7, 1 segment]
< Second
  line
  [11 septets, GSM-7, 1 segment]
> none
  (no reply)
> boom
! HTTP 500: oops
> plain
! content type \"text/plain; charset=utf-8\": Twilio expects text/xml or application/xml
! not TwiML (text outside <Message>: \"END Bye\"): \"END Bye\"
> 
<  from +250788000001 (new)
  [25 septets, GSM-7, 1 segment]
> last one
< last one from +250788000001 (new)
  [33 septets, GSM-7, 1 segment]
",
        sid0 = sids[0]
    );
    assert_eq!(out, expected, "stderr: {err}");
    assert_eq!(sids[1], sids[0], "!again resends the same MessageSid");
    let mut distinct = sids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        7,
        "every other SMS has its own sid: {sids:?}"
    );
    let accounts: std::collections::HashSet<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|f| {
            f.iter()
                .find(|(k, _)| k == "AccountSid")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(accounts.len(), 1, "one AccountSid per run: {accounts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_url_is_refused_and_signed_url_signs_for_the_proxy() {
    let (base, seen) = fake().await;
    let url = format!("{base}/sms/twilio");
    let (code, out, err) = sms(&["--url", &url, "--phone", "+250788000001"], None, "hi\n").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with("> hi\n! HTTP 403: bad signature\n"),
        "the demo token is not this server's: {out}"
    );

    let proxied = format!("{base}/behind-proxy");
    let (_, out, _) = sms(
        &["--url", &proxied, "--phone", "+250788000001"],
        Some(TOKEN),
        "hi\n",
    )
    .await;
    assert!(
        out.ends_with("! HTTP 403: bad signature\n"),
        "signed for the URL posted to, not the public one: {out}"
    );
    let (code, out, err) = sms(
        &[
            "--url",
            &proxied,
            "--signed-url",
            PUBLIC_URL,
            "--phone",
            "+250788000001",
            "--to",
            "+250788123456",
        ],
        Some(TOKEN),
        "hi\n",
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "SMS from +250788000001 to +250788123456 via {proxied}, signed for {PUBLIC_URL}."
        )),
        "{out}"
    );
    assert!(
        out.ends_with("> hi\n< hi from +250788000001 (new)\n  [27 septets, GSM-7, 1 segment]\n"),
        "{out}"
    );
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "only the signed request was accepted");
        assert!(seen[0].contains(&("To".into(), "+250788123456".into())));
    }

    let (code, _, err) = sms(&["--url", &url, "--phone", "0788000001"], None, "").await;
    assert_eq!(code, 1);
    assert!(err.contains("E.164"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_connection_is_opened_again() {
    let (base, seen) = fake().await;
    let url = format!("{base}/closing");
    let (code, out, err) = sms(
        &["--url", &url, "--phone", "+250788000001"],
        Some(TOKEN),
        "first\nsecond\nthird\n",
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    for word in ["first", "second", "third"] {
        assert!(
            out.contains(&format!("< {word} from +250788000001 (new)\n")),
            "{out}"
        );
    }
    assert_eq!(seen.lock().unwrap().len(), 3, "{out}");
}
