//! Reading flow files into a [`FlowSet`]: every state, resolved to an
//! index, with each problem at its `file:line`.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::{
    raw::{RawFlow, RawState},
    sms::build_sms,
    Action, Audience, FlowSet, InputCheck, Key, Kind, ListSource, MenuOption, Resolver, State,
    StateIdx, Var, RESERVED,
};
use crate::{
    domain::FlowId,
    text::source::{Problem, SourceFile},
};

impl FlowSet {
    /// Loads and checks every flow. A set with any error is not returned.
    pub fn load(files: &[SourceFile]) -> (Option<FlowSet>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut raws = Vec::new();
        for file in files {
            match toml::from_str::<RawFlow>(&file.text) {
                Ok(raw) => raws.push((file, raw)),
                Err(e) => {
                    let line = e.span().map_or(1, |s| file.line_of(s.start));
                    problems.push(Problem::error(file, line, e.message().to_string()));
                }
            }
        }

        // First pass: flow ids and a global index for every state.
        let mut index: BTreeMap<(FlowId, String), StateIdx> = BTreeMap::new();
        let mut flow_ids: BTreeMap<FlowId, (&SourceFile, String)> = BTreeMap::new();
        let mut parsed = Vec::new();
        for (file, raw) in &raws {
            let id = match FlowId::parse(raw.id.get_ref()) {
                Ok(id) => id,
                Err(e) => {
                    problems.push(Problem::error(
                        file,
                        file.line_of(raw.id.span().start),
                        e.to_string(),
                    ));
                    continue;
                }
            };
            let stem = file
                .path
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".toml");
            if stem != id.as_str() {
                problems.push(Problem::error(
                    file,
                    file.line_of(raw.id.span().start),
                    format!("flow `{id}` must be in a file named `{id}.toml`"),
                ));
            }
            if let Some((other, _)) = flow_ids.get(&id) {
                problems.push(Problem::error(
                    file,
                    1,
                    format!("flow `{id}` is also defined in {}", other.path),
                ));
                continue;
            }
            flow_ids.insert(id.clone(), (file, raw.start.get_ref().clone()));
            for name in raw.states.keys() {
                let next = StateIdx(index.len());
                index.insert((id.clone(), name.clone()), next);
            }
            parsed.push((*file, id, raw));
        }

        let mut starts = BTreeMap::new();
        for (id, (file, start)) in &flow_ids {
            match index.get(&(id.clone(), start.clone())) {
                Some(i) => {
                    starts.insert(id.clone(), *i);
                }
                None => problems.push(Problem::error(
                    file,
                    file.line_containing("start"),
                    format!("start state `{start}` is not defined"),
                )),
            }
        }

        let mut states: Vec<Option<State>> = vec![None; index.len()];
        let mut volunteer_start = None;
        let mut public_start = None;
        for (file, id, raw) in &parsed {
            if let Some(entry) = &raw.entry {
                let line = file.line_of(entry.span().start);
                let slot = match entry.get_ref().as_str() {
                    "volunteer" => &mut volunteer_start,
                    "public" => &mut public_start,
                    other => {
                        problems.push(Problem::error(
                            file,
                            line,
                            format!("entry `{other}`: use `volunteer` or `public`"),
                        ));
                        continue;
                    }
                };
                if slot.is_some() {
                    problems.push(Problem::error(
                        file,
                        line,
                        format!("another flow is already the `{}` entry", entry.get_ref()),
                    ));
                }
                *slot = starts.get(id).copied();
            }
            for (name, raw_state) in &raw.states {
                let line = file.line_containing(&format!("[states.{name}]"));
                let resolve = |target: &Spanned<String>,
                               problems: &mut Vec<Problem>|
                 -> Option<StateIdx> {
                    let t = target.get_ref();
                    let line = file.line_of(target.span().start);
                    let found = if let Some(flow) = t.strip_prefix('@') {
                        FlowId::parse(flow)
                            .ok()
                            .and_then(|f| starts.get(&f).copied())
                    } else {
                        index.get(&(id.clone(), t.clone())).copied()
                    };
                    if found.is_none() {
                        let what = if t.starts_with('@') { "flow" } else { "state" };
                        problems.push(Problem::error(file, line, format!("unknown {what} `{t}`")));
                    }
                    found
                };
                let ctx = Ctx { file, line };
                if let Some(state) = build_state(&ctx, id, name, raw_state, &resolve, &mut problems)
                {
                    states[index[&(id.clone(), name.clone())].0] = Some(state);
                }
            }
        }

        let mut sms = Vec::new();
        for (file, id, raw) in &parsed {
            let audience = match raw.entry.as_ref().map(|e| e.get_ref().as_str()) {
                Some("public") => Audience::Public,
                _ => Audience::Volunteer,
            };
            for r in &raw.sms {
                if let Some(entry) = build_sms(
                    file,
                    id,
                    audience,
                    r,
                    &index,
                    &starts,
                    &states,
                    &mut problems,
                ) {
                    sms.push(entry);
                }
            }
        }

        let no_entry = |what: &str| Problem {
            file: "flows".into(),
            line: 1,
            message: format!("no flow has `entry = \"{what}\"`"),
            warning: false,
        };
        if volunteer_start.is_none() && problems.is_empty() {
            problems.push(no_entry("volunteer"));
        }
        if public_start.is_none() && problems.is_empty() {
            problems.push(no_entry("public"));
        }
        if problems.iter().any(|p| !p.warning) || states.iter().any(Option::is_none) {
            return (None, problems);
        }
        let set = FlowSet {
            states: states
                .into_iter()
                .map(|s| s.expect("checked above"))
                .collect(),
            volunteer_start: volunteer_start.expect("checked above"),
            public_start: public_start.expect("checked above"),
            starts,
            sms,
        };
        set.check_graph(&mut problems);
        set.check_forms(&mut problems);
        let ok = !problems.iter().any(|p| !p.warning);
        (ok.then_some(set), problems)
    }
}

struct Ctx<'a> {
    file: &'a SourceFile,
    line: usize,
}

fn build_state(
    ctx: &Ctx<'_>,
    flow: &FlowId,
    name: &str,
    raw: &RawState,
    resolve: &Resolver<'_>,
    problems: &mut Vec<Problem>,
) -> Option<State> {
    let before = problems.len();
    let err = |problems: &mut Vec<Problem>, m: String| {
        problems.push(Problem::error(
            ctx.file,
            ctx.line,
            format!("state `{name}`: {m}"),
        ))
    };
    let required =
        |v: &Option<Spanned<String>>, field: &str, problems: &mut Vec<Problem>| -> Option<String> {
            match v {
                Some(s) => Some(s.get_ref().clone()),
                None => {
                    err(
                        problems,
                        format!("`{}` needs `{field}`", raw.kind.get_ref()),
                    );
                    None
                }
            }
        };
    let next = |problems: &mut Vec<Problem>| -> Option<StateIdx> {
        match &raw.next {
            Some(n) => resolve(n, problems),
            None => {
                err(problems, format!("`{}` needs `next`", raw.kind.get_ref()));
                None
            }
        }
    };
    let var = |problems: &mut Vec<Problem>| -> Option<Var> {
        match &raw.var {
            Some(v) if valid_var(v) => Some(Var::new(v)),
            Some(v) => {
                err(
                    problems,
                    format!("`{v}` is not a variable name (lower-case letters, digits, _)"),
                );
                None
            }
            None => {
                err(problems, format!("`{}` needs `var`", raw.kind.get_ref()));
                None
            }
        }
    };
    let prompt = if raw.kind.get_ref() == "end" {
        required(&raw.text, "text", problems)
    } else if raw.kind.get_ref() == "action" {
        Some(String::new())
    } else if raw.kind.get_ref() == "location" {
        // A drill-down shows one title per level instead of a prompt.
        Some(
            raw.titles
                .iter()
                .flatten()
                .next()
                .map(|t| t.get_ref().clone())
                .unwrap_or_default(),
        )
    } else {
        required(&raw.prompt, "prompt", problems)
    };

    let kind = match raw.kind.get_ref().as_str() {
        "menu" => {
            let options: Vec<MenuOption> = raw
                .options
                .iter()
                .flatten()
                .map(|o| MenuOption {
                    label: o.label.get_ref().clone(),
                    value: o.value.clone(),
                    next: o.next.as_ref().and_then(|n| resolve(n, problems)),
                    set: o
                        .set
                        .iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    requires: o.requires.clone(),
                    codes: o.codes.clone().unwrap_or_default(),
                })
                .collect();
            let next = raw.next.as_ref().and_then(|n| resolve(n, problems));
            if options.is_empty() {
                err(problems, "a menu needs `options`".into());
            }
            if options.len() > 97 {
                err(problems, "a menu has at most 97 options".into());
            }
            for (i, o) in raw.options.iter().flatten().enumerate() {
                if o.next.is_none() && next.is_none() && raw.next.is_none() {
                    err(
                        problems,
                        format!("option {} has no `next` and the menu has none", i + 1),
                    );
                }
                if raw.var.is_some() && o.value.is_none() {
                    err(
                        problems,
                        format!(
                            "option {} needs a `value` for `{}`",
                            i + 1,
                            raw.var.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
            let var = match &raw.var {
                Some(_) => Some(var(problems)?),
                None => None,
            };
            Kind::Menu { var, options, next }
        }
        "input" => {
            let check = match raw.input_type.as_ref().map(|t| t.get_ref().as_str()) {
                Some("name") => InputCheck::Name,
                Some("number") => match (raw.min, raw.max) {
                    (Some(min), Some(max)) if min <= max => InputCheck::Number { min, max },
                    _ => {
                        err(problems, "a number needs `min` <= `max`".into());
                        InputCheck::Name
                    }
                },
                Some("case_reference") => InputCheck::CaseReference,
                Some("text") => InputCheck::Text {
                    max: raw.max.unwrap_or(100).clamp(1, 160) as usize,
                },
                other => {
                    err(
                        problems,
                        format!(
                            "unknown input type {:?}: use name, number, case_reference or text",
                            other.unwrap_or("(none)")
                        ),
                    );
                    InputCheck::Name
                }
            };
            let keys: Vec<Key> = raw
                .keys
                .iter()
                .flatten()
                .map(|k| Key {
                    key: k.key.clone(),
                    label: k.label.get_ref().clone(),
                    value: k.value.clone(),
                })
                .collect();
            let mut seen = BTreeSet::new();
            for k in &keys {
                if RESERVED.contains(&k.key.as_str()) {
                    err(
                        problems,
                        format!(
                            "key `{}` clashes with a navigation key (0 back, 00 menu, 98 more)",
                            k.key
                        ),
                    );
                }
                if k.key.is_empty() || !k.key.chars().all(|c| c.is_ascii_digit()) {
                    err(
                        problems,
                        format!("key `{}` must be digits, typed on any keypad", k.key),
                    );
                }
                if !seen.insert(k.key.clone()) {
                    err(problems, format!("key `{}` is used twice", k.key));
                }
                if let InputCheck::Number { min, max } = check {
                    if k.key.parse::<i64>().is_ok_and(|n| n >= min && n <= max) {
                        err(
                            problems,
                            format!("key `{}` is also a valid answer ({min}-{max})", k.key),
                        );
                    }
                }
            }
            Kind::Input {
                var: var(problems)?,
                check,
                keys,
                next: next(problems)?,
            }
        }
        "location" => {
            let titles: Vec<String> = raw
                .titles
                .iter()
                .flatten()
                .map(|t| t.get_ref().clone())
                .collect();
            if titles.is_empty() {
                err(
                    problems,
                    "a location needs `titles`, one per level (province, district, ...)".into(),
                );
            }
            Kind::Location {
                var: var(problems)?,
                titles,
                next: next(problems)?,
            }
        }
        "list" => {
            let source = match raw.source.as_deref() {
                Some("my_reports") => ListSource::MyReports,
                other => {
                    err(
                        problems,
                        format!(
                            "unknown list source {:?}: use my_reports",
                            other.unwrap_or("(none)")
                        ),
                    );
                    ListSource::MyReports
                }
            };
            Kind::List {
                source,
                item: required(&raw.item, "item", problems)?,
                empty: required(&raw.empty, "empty", problems)?,
            }
        }
        "action" => {
            let a = raw
                .action
                .as_ref()
                .map(|a| a.get_ref().as_str())
                .unwrap_or("(none)");
            let Some(action) = Action::parse(a) else {
                err(
                    problems,
                    format!("unknown action `{a}`: use create_case, log_visit or set_locale"),
                );
                return None;
            };
            Kind::Action {
                action,
                next: next(problems)?,
            }
        }
        "end" => Kind::End,
        other => {
            problems.push(Problem::error(
                ctx.file,
                ctx.file.line_of(raw.kind.span().start),
                format!("state `{name}`: unknown kind `{other}` (menu, input, location, list, action, end)"),
            ));
            return None;
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(State {
        flow: flow.clone(),
        name: name.to_string(),
        prompt: prompt?,
        kind,
        file: ctx.file.path.clone(),
        line: ctx.line,
    })
}

pub(super) fn valid_var(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
