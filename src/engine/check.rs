//! Checks that need flows and texts together: every message a flow shows
//! exists, and every screen fits the USSD budget in every language, rendered
//! with the longest values it can hold.

use std::collections::BTreeMap;

use fluent_bundle::{FluentArgs, FluentValue};

use super::{
    flows::{FlowSet, InputCheck, Kind, SmsTarget, State, KEY_MORE},
    numbered, paginate, RECENT_REPORTS,
};
use crate::{
    domain::{CaseRef, Locale, Stage, MAX_PLACE_NAME},
    text::{
        gsm::{sms_segments, units, UssdBudget},
        source::{Problem, SourceFile},
        Texts, REFERENCE_LOCALE,
    },
};

/// Messages the engine itself shows, whatever the flows.
pub const BUILTIN: &[&str] = &[
    "nav-back",
    "nav-more",
    "error-empty",
    "error-too-long",
    "error-choice",
    "error-name",
    "error-number",
    "error-reference-check",
    "error-reference-format",
    "error-reference-unknown",
    "error-text",
    "error-nav",
    "error-too-many",
    "error-internal",
    "error-forbidden",
];

/// Closing screens the engine shows outside any flow.
const BUILTIN_ENDS: &[&str] = &["error-too-many", "error-internal", "error-forbidden"];

pub fn check(
    flows: &FlowSet,
    texts: &Texts,
    locale_files: &[SourceFile],
    _flow_files: &[SourceFile],
    default_locale: &Locale,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let reference = texts.reference().clone();
    let en_file = reference_file(locale_files);

    if !texts.has_locale(default_locale) {
        problems.push(Problem::error(
            &en_file,
            1,
            format!("the default language `{default_locale}` has no texts"),
        ));
    }
    // Each case stage has a `stage-<name>` message.
    let stage_ids: Vec<String> = Stage::ALL
        .iter()
        .map(|s| format!("stage-{}", s.as_str()))
        .collect();
    for id in BUILTIN
        .iter()
        .copied()
        .chain(stage_ids.iter().map(String::as_str))
    {
        if texts.message(&reference, id).is_none() {
            problems.push(Problem::error(
                &en_file,
                1,
                format!("message `{id}` is missing: the engine shows it"),
            ));
        }
    }
    for state in &flows.states {
        for id in state.message_ids() {
            if texts.message(&reference, id).is_none() {
                problems.push(Problem {
                    file: state.file.clone(),
                    line: state.line,
                    message: format!(
                        "state `{}` shows `{id}`, which `{REFERENCE_LOCALE}` does not define",
                        state.name
                    ),
                    warning: false,
                });
            }
        }
    }

    let budget = UssdBudget::default();
    for locale in texts.locales() {
        let samples = samples(flows, texts, locale);
        let t = |id: &str| texts.format(locale, id, Some(&samples));
        let footer = Some(t("nav-back"));
        let more = format!("{KEY_MORE}. {}", t("nav-more"));
        let mut report = |state: Option<&State>, id: &str, text: &str| {
            let (enc, n) = units(text);
            let at = texts.message(locale, id);
            problems.push(Problem {
                file: at.map_or_else(|| format!("locales/{locale}"), |m| m.file.clone()),
                line: at.map_or(1, |m| m.line),
                message: format!(
                    "{}in `{locale}` a screen is {n} {enc:?} characters, over the USSD budget of {}: {:?}",
                    state.map(|s| format!("state `{}.{}` ", s.flow, s.name)).unwrap_or_default(),
                    budget.limit_for(text),
                    text
                ),
                warning: false,
            });
        };
        for id in BUILTIN_ENDS {
            let text = t(id);
            if !budget.fits(&text) {
                report(None, id, &text);
            }
        }
        for state in &flows.states {
            let (headers, items, trailer): (Vec<Vec<String>>, Vec<String>, Vec<String>) =
                match &state.kind {
                    Kind::Menu { options, .. } => {
                        let prompt = t(&state.prompt);
                        (
                            vec![vec![prompt.clone()], vec![t("error-choice"), prompt]],
                            numbered(options.iter().map(|o| t(&o.label)).collect()),
                            vec![],
                        )
                    }
                    Kind::Input { check, keys, .. } => {
                        let prompt = t(&state.prompt);
                        let errors: &[&str] = match check {
                            InputCheck::Name => &["error-name", "error-too-long", "error-empty"],
                            InputCheck::Number { .. } => {
                                &["error-number", "error-too-long", "error-empty"]
                            }
                            InputCheck::CaseReference => &[
                                "error-reference-check",
                                "error-reference-format",
                                "error-reference-unknown",
                                "error-empty",
                            ],
                            InputCheck::Text { .. } => {
                                &["error-too-long", "error-text", "error-empty"]
                            }
                        };
                        let mut headers = vec![vec![prompt.clone()]];
                        headers.extend(errors.iter().map(|e| vec![t(e), prompt.clone()]));
                        (
                            headers,
                            vec![],
                            keys.iter()
                                .map(|k| format!("{}. {}", k.key, t(&k.label)))
                                .collect(),
                        )
                    }
                    Kind::Location { titles, .. } => {
                        let names = numbered((0..14).map(|_| "W".repeat(MAX_PLACE_NAME)).collect());
                        let headers = titles
                            .iter()
                            .flat_map(|title| [vec![t(title)], vec![t("error-choice"), t(title)]])
                            .collect();
                        (headers, names, vec![])
                    }
                    Kind::List { item, empty, .. } => {
                        let line = t(item);
                        (
                            vec![
                                vec![t(&state.prompt)],
                                vec![t(empty)],
                                vec![t("error-nav"), t(&state.prompt)],
                            ],
                            vec![line; RECENT_REPORTS as usize],
                            vec![],
                        )
                    }
                    Kind::End => {
                        let text = t(&state.prompt);
                        if !budget.fits(&text) {
                            report(Some(state), &state.prompt, &text);
                        }
                        continue;
                    }
                    Kind::Action { .. } => continue,
                };
            'headers: for header in headers {
                let mut page = 0;
                loop {
                    let layout = paginate(
                        &budget,
                        header.clone(),
                        items.clone(),
                        trailer.clone(),
                        footer.clone(),
                        more.clone(),
                        page,
                    );
                    if layout.truncated {
                        let full = [
                            header.clone(),
                            items.clone(),
                            trailer.clone(),
                            footer.iter().cloned().collect(),
                        ]
                        .concat()
                        .join("\n");
                        report(Some(state), &state.prompt, &full);
                        break 'headers;
                    }
                    page += 1;
                    if page >= layout.pages {
                        break;
                    }
                }
            }
        }
    }
    problems
}

/// A file of the reference language, where a missing message is reported.
fn reference_file(locale_files: &[SourceFile]) -> SourceFile {
    locale_files
        .iter()
        .find(|f| f.path.contains(&format!("/{REFERENCE_LOCALE}/")))
        .cloned()
        .unwrap_or(SourceFile {
            path: format!("locales/{REFERENCE_LOCALE}"),
            text: String::new(),
        })
}

/// Messages the SMS service shows, whatever the flows.
pub const SMS_BUILTIN: &[&str] = &[
    "sms-help-volunteer",
    "sms-help-public",
    "sms-continue",
    "sms-volunteers-only",
    "sms-expired",
    "sms-language-set",
    "sms-language-usage",
    "sms-form-refused",
    "sms-form-missing",
    "sms-form-place",
    "sms-form-place-needed",
    "sms-form-extra",
    "sms-help-staff",
    "sms-staff-only",
    "sms-ack-usage",
    "sms-ack-done",
    "sms-ack-already",
    "sms-ack-other-centre",
    "sms-alert-new",
    "sms-alert-escalated",
    "sms-alert-visit",
    "sms-reminder-overdue",
    "sms-step-response",
    "sms-step-assessment",
    "sms-step-plan",
    "sms-step-review",
    "sms-step-closure_check",
    "sms-digest",
    "sms-visit-reminder",
];

/// The SMS side: every message a keyword's form shows exists, and no SMS
/// text (`sms-*`, `*-sms`) can take more than `segments` SMS segments in
/// any language, rendered with the longest values it can hold (a warning:
/// it still sends, at the cost of more messages).
pub fn check_sms(
    flows: &FlowSet,
    texts: &Texts,
    locale_files: &[SourceFile],
    segments: usize,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let reference = texts.reference().clone();
    let en_file = reference_file(locale_files);
    for id in SMS_BUILTIN {
        if texts.message(&reference, id).is_none() {
            problems.push(Problem::error(
                &en_file,
                1,
                format!("message `{id}` is missing: the SMS service shows it"),
            ));
        }
    }
    let mut usages = Vec::new();
    let mut fields = Vec::new();
    for entry in &flows.sms {
        let SmsTarget::Conversation {
            form: Some(form), ..
        } = &entry.target
        else {
            continue;
        };
        usages.push(form.usage.clone());
        let ids = std::iter::once(form.usage.clone()).chain(
            form.fields
                .iter()
                .map(|f| format!("sms-field-{}", flows.state(f.state).name)),
        );
        for id in ids {
            if texts.message(&reference, &id).is_none() {
                problems.push(Problem {
                    file: entry.file.clone(),
                    line: entry.line,
                    message: format!(
                        "the form shows `{id}`, which `{REFERENCE_LOCALE}` does not define"
                    ),
                    warning: false,
                });
            }
            if id.starts_with("sms-field-") {
                fields.push(id);
            }
        }
    }
    for locale in texts.locales() {
        let with_codes = || {
            let mut a = samples(flows, texts, locale);
            a.set("code", FluentValue::from("W".repeat(20)));
            a.set("extra", FluentValue::from("W".repeat(40)));
            // Alerts and reminders: the longest each can be.
            a.set("urgent", FluentValue::from("yes"));
            a.set("district", FluentValue::from("W".repeat(MAX_PLACE_NAME)));
            a.set("centre", FluentValue::from("W".repeat(MAX_PLACE_NAME)));
            a.set("after", FluentValue::from("99h"));
            a.set("step", FluentValue::from("W".repeat(30)));
            a.set("count", FluentValue::from("99"));
            a.set("references", FluentValue::from(["99999999"; 3].join(", ")));
            a
        };
        let mut args = with_codes();
        let longest = |ids: &mut dyn Iterator<Item = String>| {
            ids.map(|id| texts.format(locale, &id, Some(&with_codes())))
                .max_by_key(|t| units(t).1)
                .unwrap_or_default()
        };
        let reasons = [
            "sms-form-missing",
            "sms-form-place",
            "sms-form-place-needed",
            "sms-form-extra",
            "error-number",
            "error-choice",
            "error-reference-check",
            "error-reference-unknown",
            "error-too-long",
        ];
        args.set(
            "field",
            FluentValue::from(longest(&mut fields.iter().cloned())),
        );
        args.set(
            "usage",
            FluentValue::from(longest(&mut usages.iter().cloned())),
        );
        args.set(
            "reason",
            FluentValue::from(longest(&mut reasons.iter().map(|r| r.to_string()))),
        );
        for (id, info) in texts.messages(locale) {
            if !(id.starts_with("sms-") || id.ends_with("-sms")) {
                continue;
            }
            let text = texts.format(locale, id, Some(&args));
            let n = sms_segments(&text);
            if n > segments {
                let (enc, len) = units(&text);
                problems.push(Problem {
                    file: info.file.clone(),
                    line: info.line,
                    message: format!(
                        "in `{locale}` `{id}` can take {n} SMS segments ({len} {enc:?} characters), over the budget of {segments} (KANDA_SMS_SEGMENTS): {text:?}"
                    ),
                    warning: true,
                });
            }
        }
    }
    problems
}

/// The longest value each variable can take, rendered in `locale`.
fn samples(flows: &FlowSet, texts: &Texts, locale: &Locale) -> FluentArgs<'static> {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut longest = |k: String, v: String| {
        let e = values.entry(k).or_default();
        if units(&v).1 > units(e).1 {
            *e = v;
        }
    };
    let place = "W".repeat(MAX_PLACE_NAME);
    longest("own_village".into(), "99999".into());
    longest("own_village_name".into(), place.clone());
    longest("reference".into(), "9".repeat(CaseRef::LEN));
    longest("min".into(), "99".into());
    longest("max".into(), "100".into());
    longest("digits".into(), CaseRef::LEN.to_string());
    let stage = Stage::ALL
        .iter()
        .map(|s| texts.plain(locale, &format!("stage-{}", s.as_str())))
        .max_by_key(|s| units(s).1)
        .unwrap_or_default();
    longest("stage".into(), stage);
    for state in &flows.states {
        match &state.kind {
            Kind::Menu { var, options, .. } => {
                for o in options {
                    if let (Some(v), Some(value)) = (var, &o.value) {
                        longest(v.to_string(), value.clone());
                        longest(v.label().to_string(), texts.plain(locale, &o.label));
                    }
                    for (k, template) in &o.set {
                        let sample = if template.contains("name") {
                            place.clone()
                        } else {
                            "99999".into()
                        };
                        longest(k.clone(), sample);
                    }
                }
            }
            Kind::Input {
                var, check, keys, ..
            } => {
                let sample = match check {
                    InputCheck::Name => "W".repeat(40),
                    InputCheck::Number { min, max } => min.abs().max(max.abs()).to_string(),
                    InputCheck::CaseReference => "9".repeat(CaseRef::LEN),
                    InputCheck::Text { max } => "W".repeat(*max),
                };
                longest(var.to_string(), sample.clone());
                longest(var.label().to_string(), sample);
                for k in keys {
                    longest(var.label().to_string(), texts.plain(locale, &k.label));
                }
            }
            Kind::Location { var, .. } => {
                longest(var.to_string(), "99999".into());
                longest(var.place_name().to_string(), place.clone());
            }
            _ => {}
        }
    }
    let mut args = FluentArgs::new();
    for (k, v) in values {
        args.set(k, FluentValue::from(v));
    }
    args
}
