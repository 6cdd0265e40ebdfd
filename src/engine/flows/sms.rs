//! A flow's `[[sms]]` keywords and one-message forms, checked against its
//! states.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{
    raw::RawSms, Audience, Form, FormField, InputCheck, Kind, Resolver, SmsEntry, SmsTarget, State,
    StateIdx,
};
use crate::{
    domain::{FlowId, Locale},
    engine::keywords,
    text::source::{Problem, SourceFile},
};

/// Checks one `[[sms]]` declaration: its words, its target, its form.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_sms(
    file: &SourceFile,
    flow: &FlowId,
    audience: Audience,
    raw: &RawSms,
    index: &BTreeMap<(FlowId, String), StateIdx>,
    starts: &BTreeMap<FlowId, StateIdx>,
    states: &[Option<State>],
    problems: &mut Vec<Problem>,
) -> Option<SmsEntry> {
    let before = problems.len();
    let line = file.line_of(raw.words.span().start);
    let err = |problems: &mut Vec<Problem>, at: usize, m: String| {
        problems.push(Problem::error(file, at, format!("sms keyword: {m}")))
    };
    let mut words = Vec::new();
    for (lang, list) in raw.words.get_ref() {
        if Locale::parse(lang).is_err() {
            err(problems, line, format!("`{lang}` is not a language code"));
        }
        if list.is_empty() {
            err(problems, line, format!("`{lang}` lists no word"));
        }
        for w in list {
            let folded = keywords::fold(w);
            if folded.is_empty() || !folded.chars().all(char::is_alphanumeric) {
                err(
                    problems,
                    line,
                    format!("`{w}` must be one word of letters or digits"),
                );
            }
        }
        words.push((lang.clone(), list.clone()));
    }
    if words.is_empty() {
        err(problems, line, "`words` lists no language".into());
    }
    let state_named = |name: &Spanned<String>, problems: &mut Vec<Problem>| {
        let found = index.get(&(flow.clone(), name.get_ref().clone())).copied();
        if found.is_none() {
            err(
                problems,
                file.line_of(name.span().start),
                format!("unknown state `{}`", name.get_ref()),
            );
        }
        found
    };
    let (target, audience) = match raw.command.as_ref().map(|c| (c, c.get_ref().as_str())) {
        Some((_, "help")) => (SmsTarget::Help, None),
        Some((_, "language")) => (SmsTarget::Language, None),
        Some((_, "status")) => (SmsTarget::Status, Some(Audience::Volunteer)),
        Some((_, "ack")) => (SmsTarget::Ack, Some(Audience::Staff)),
        Some((c, other)) => {
            err(
                problems,
                file.line_of(c.span().start),
                format!("unknown command `{other}`: use help, language, status or ack"),
            );
            return None;
        }
        None => {
            let start = match &raw.start {
                Some(s) => state_named(s, problems)?,
                None => *starts.get(flow)?,
            };
            let form = match &raw.form {
                None => None,
                Some(fields) => Some(build_form(
                    file,
                    flow,
                    raw,
                    fields,
                    index,
                    states,
                    &state_named,
                    problems,
                )?),
            };
            (SmsTarget::Conversation { start, form }, Some(audience))
        }
    };
    if raw.command.is_some() && (raw.start.is_some() || raw.form.is_some()) {
        err(
            problems,
            line,
            "a `command` takes no `start` or `form`".into(),
        );
    }
    (problems.len() == before).then(|| SmsEntry {
        flow: flow.clone(),
        audience,
        words,
        target,
        file: file.path.clone(),
        line,
    })
}

/// A form's fields are states of its flow that take one answer (a menu with
/// a variable, an input, a location); a free-text field (name, text) takes
/// the rest of the message, so only the last may be one; optional fields
/// come after the required ones.
#[allow(clippy::too_many_arguments)]
fn build_form(
    file: &SourceFile,
    flow: &FlowId,
    raw: &RawSms,
    fields: &Spanned<Vec<String>>,
    index: &BTreeMap<(FlowId, String), StateIdx>,
    states: &[Option<State>],
    state_named: &Resolver<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Form> {
    let at = file.line_of(fields.span().start);
    let err = |problems: &mut Vec<Problem>, m: String| {
        problems.push(Problem::error(file, at, format!("sms form: {m}")))
    };
    let before = problems.len();
    let mut out = Vec::new();
    let n = fields.get_ref().len();
    for (i, f) in fields.get_ref().iter().enumerate() {
        let (name, optional) = match f.strip_suffix('?') {
            Some(n) => (n, true),
            None => (f.as_str(), false),
        };
        let Some(idx) = index.get(&(flow.clone(), name.to_string())).copied() else {
            err(problems, format!("unknown state `{name}`"));
            continue;
        };
        if out.iter().any(|o: &FormField| o.optional) && !optional {
            err(
                problems,
                format!("`{name}` is required but follows an optional field"),
            );
        }
        match states.get(idx.0).and_then(Option::as_ref).map(|s| &s.kind) {
            Some(Kind::Menu { var: Some(_), .. }) | Some(Kind::Location { .. }) => {}
            Some(Kind::Input { check, .. }) => {
                let rest = matches!(check, InputCheck::Name | InputCheck::Text { .. });
                if rest && i + 1 != n {
                    err(
                        problems,
                        format!("`{name}` takes the rest of the message, so it must come last"),
                    );
                }
            }
            Some(_) => err(
                problems,
                format!(
                    "`{name}` takes no answer: use a menu with a `var`, an input or a location"
                ),
            ),
            None => {}
        }
        out.push(FormField {
            state: idx,
            optional,
        });
    }
    let submit = match &raw.submit {
        Some(s) => state_named(s, problems),
        None => {
            err(
                problems,
                "a form needs `submit`, the state it continues at".into(),
            );
            None
        }
    };
    if raw.usage.is_none() {
        err(
            problems,
            "a form needs `usage`, the message showing its layout".into(),
        );
    }
    if problems.len() > before {
        return None;
    }
    Some(Form {
        fields: out,
        submit: submit?,
        usage: raw.usage.clone()?,
    })
}
