//! `kanda-sim run`: scripted sessions with expected screens.
//!
//! ```toml
//! [[session]]
//! name = "report in own village"
//! phone = "+250788000001"
//! steps = [
//!   { expect = ["1. Report a child"] },            # the dial (no `send`)
//!   { send = "1", expect = ["first name"] },
//!   { send = "1", end = true, capture = { name = "reference", regex = "(\\d{8})" } },
//!   { repeat = true },                             # the gateway retries the same hop
//! ]
//! ```
//! `send` is one input (`{name}` takes a value captured earlier in the file);
//! `expect` and `absent` are substrings; `end` says the screen must be `END`
//! (default: `CON`); `repeat` posts the previous hop again and must get the
//! very same screen; `pause` waits that many seconds before the hop. Every
//! screen must fit the USSD budget.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::wire::{session_id, Conn, Gateway, Hop, Reply, Target};

/// The server's retry window for gateways without hop numbers (2 s), and a
/// little more.
const RETRY_WINDOW: Duration = Duration::from_millis(2100);

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, rename = "session")]
    pub sessions: Vec<SessionScript>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SessionScript {
    pub name: String,
    pub phone: String,
    #[serde(default = "default_service_code")]
    pub service_code: String,
    pub steps: Vec<Step>,
}

fn default_service_code() -> String {
    "*384*123#".into()
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub send: Option<String>,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub absent: Vec<String>,
    #[serde(default)]
    pub end: bool,
    pub capture: Option<Capture>,
    #[serde(default)]
    pub repeat: bool,
    /// Seconds of silence before this hop (a person asking a neighbour; a
    /// line gone quiet long enough for the server to count the session
    /// before it as dropped).
    pub pause: Option<f64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub name: String,
    pub regex: String,
}

/// Replaces `{name}` with captured values; an unknown name is an error.
pub fn substitute(template: &str, vars: &HashMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .with_context(|| format!("unclosed `{{` in {template:?}"))?;
        let name = &after[..close];
        let value = vars
            .get(name)
            .with_context(|| format!("`{{{name}}}` was not captured before this step"))?;
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub struct Outcome {
    pub passed: usize,
    pub failed: usize,
}

/// Runs every session of a scenario file; prints one line per session.
pub async fn run_file(
    path: &str,
    url: Option<&str>,
    token: Option<&str>,
    gateway: Gateway,
) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let scenario: Scenario =
        toml::from_str(&text).with_context(|| format!("{path}: not a scenario"))?;
    let url = url
        .or(scenario.url.as_deref())
        .with_context(|| format!("{path}: no url (give --url)"))?;
    let target = Target::parse(url, token)?;
    if let Some(d) = &scenario.description {
        println!("# {path}: {d}");
    }
    let mut vars = HashMap::new();

    let mut outcome = Outcome {
        passed: 0,
        failed: 0,
    };
    for s in &scenario.sessions {
        match run_session(&target, gateway, s, &mut vars).await {
            Ok(hops) => {
                outcome.passed += 1;
                println!("ok    {path} :: {} ({hops} hops)", s.name);
            }
            Err(e) => {
                outcome.failed += 1;
                println!("FAIL  {path} :: {}\n{e:#}", s.name);
            }
        }
    }
    Ok(outcome)
}

async fn run_session(
    target: &Target,
    gateway: Gateway,
    s: &SessionScript,
    vars: &mut HashMap<String, String>,
) -> anyhow::Result<usize> {
    let mut conn = Conn::connect(target).await?;
    let id = session_id("scenario");
    let mut inputs: Vec<String> = Vec::new();
    let mut previous: Option<(String, Reply)> = None;
    // The hop's number (repeated with a retried hop) and when the last went.
    let mut seq = 0;
    let mut last_sent: Option<(Instant, Option<String>)> = None;
    for (n, step) in s.steps.iter().enumerate() {
        let at = || format!("step {}", n + 1);
        let text = if step.repeat {
            let Some((text, _)) = &previous else {
                bail!("{}: `repeat` needs a hop before it", at())
            };
            text.clone()
        } else {
            seq = n;
            match (&step.send, n) {
                (None, 0) => String::new(),
                (None, _) => bail!("{}: only the first step may omit `send` (the dial)", at()),
                (Some(send), _) => {
                    if n == 0 && !send.is_empty() {
                        bail!("{}: the first step is the dial; it sends nothing", at());
                    }
                    if n > 0 {
                        inputs.push(substitute(send, vars).with_context(at)?);
                    }
                    inputs.join("*")
                }
            }
        };
        if let Some(seconds) = step.pause {
            let pause = Duration::try_from_secs_f64(seconds)
                .with_context(|| format!("{}: pause {seconds} is not a duration", at()))?;
            tokio::time::sleep(pause).await;
        }
        let typed: Vec<String> = match text.is_empty() {
            true => vec![],
            false => text.split('*').map(str::to_string).collect(),
        };
        // A gateway without hop numbers: the same key again within the
        // server's retry window would be taken for a retry, so a person
        // typing it twice waits as a person would.
        if !step.repeat && !gateway.numbers_hops() {
            if let Some((when, latest)) = &last_sent {
                if latest.is_some() && latest.as_ref() == typed.last() {
                    let wait = RETRY_WINDOW.saturating_sub(when.elapsed());
                    tokio::time::sleep(wait).await;
                }
            }
        }
        let reply = conn
            .hop_via(
                gateway,
                &Hop {
                    session: &id,
                    phone: &s.phone,
                    service_code: &s.service_code,
                    inputs: &typed,
                    seq,
                },
            )
            .await
            .with_context(at)?;
        last_sent = Some((Instant::now(), typed.last().cloned()));
        let shown = || {
            format!(
                "{}: after text {text:?} the screen was {}:\n{}",
                at(),
                reply.length_line(),
                indent(&reply.text)
            )
        };
        if step.repeat {
            if let Some((_, before)) = &previous {
                if *before != reply {
                    bail!(
                        "{} (a retried hop must get the same screen; before:\n{})",
                        shown(),
                        indent(&before.text)
                    );
                }
            }
        }
        // A repeated hop is held to the screen before it, END or CON.
        if !step.repeat && reply.end != step.end {
            bail!(
                "{} (expected {})",
                shown(),
                if step.end { "END" } else { "CON" }
            );
        }
        if !reply.fits() {
            bail!("{} (over the USSD budget)", shown());
        }
        for e in &step.expect {
            let e = substitute(e, vars).with_context(at)?;
            if !reply.text.contains(&e) {
                bail!("{} (expected to contain {e:?})", shown());
            }
        }
        for a in &step.absent {
            let a = substitute(a, vars).with_context(at)?;
            if reply.text.contains(&a) {
                bail!("{} (expected NOT to contain {a:?})", shown());
            }
        }
        if let Some(c) = &step.capture {
            let re = regex::Regex::new(&c.regex)
                .with_context(|| format!("{}: bad regex {:?}", at(), c.regex))?;
            let Some(value) = re.captures(&reply.text).and_then(|m| m.get(1)) else {
                bail!("{} (nothing matched capture {:?})", shown(), c.regex);
            };
            vars.insert(c.name.clone(), value.as_str().to_string());
        }
        previous = Some((text, reply));
    }
    Ok(s.steps.len())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution() {
        let mut vars = HashMap::new();
        vars.insert("reference".to_string(), "12345678".to_string());
        assert_eq!(substitute("{reference}", &vars).unwrap(), "12345678");
        assert_eq!(
            substitute("case {reference}.", &vars).unwrap(),
            "case 12345678."
        );
        assert_eq!(substitute("plain", &vars).unwrap(), "plain");
        assert!(substitute("{missing}", &vars).is_err());
        assert!(substitute("{open", &vars).is_err());
    }

    #[test]
    fn parses_the_documented_format() {
        let s: Scenario = toml::from_str(
            r#"
            [[session]]
            name = "x"
            phone = "+250788000001"
            steps = [
              { expect = ["Menu"] },
              { send = "1", end = true, capture = { name = "reference", regex = "(\\d{8})" } },
              { repeat = true },
            ]
            "#,
        )
        .unwrap();
        assert_eq!(s.sessions[0].steps.len(), 3);
        assert!(s.sessions[0].steps[2].repeat);
        assert!(
            toml::from_str::<Scenario>("[[session]]\nname='x'\nphone='1'\nsteps=[{sned='1'}]")
                .is_err(),
            "typos are refused"
        );
    }
}
