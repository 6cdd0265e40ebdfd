//! Flows as data: `flows/<id>.toml` name states and the Fluent message ids
//! they show. This module parses them into a checked graph of states.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;
use toml::Spanned;

use crate::{
    domain::FlowId,
    source::{Problem, SourceFile},
};

/// Keys the engine reserves on every screen.
pub const KEY_BACK: &str = "0";
pub const KEY_HOME: &str = "00";
pub const KEY_MORE: &str = "98";
const RESERVED: [&str; 3] = [KEY_BACK, KEY_HOME, KEY_MORE];

/// Who starts in a flow: registered volunteers, or anyone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Volunteer,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateIdx(pub usize);

#[derive(Clone, Debug)]
pub struct MenuOption {
    pub label: String,
    pub value: Option<String>,
    pub next: Option<StateIdx>,
    /// Variables set from templates (`{var}` is replaced by that variable).
    pub set: Vec<(String, String)>,
    /// Shown only when this variable is set and not empty.
    pub requires: Option<String>,
    /// Words that choose this option in a one-message SMS form (besides
    /// its number and its value), compared folded (`Y`, `OUI`).
    pub codes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub key: String,
    pub label: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputCheck {
    /// A first name: letters, spaces, `-` and `'`, 1 to 40 characters.
    Name,
    Number {
        min: i64,
        max: i64,
    },
    /// A case reference with a valid check digit, of a case that exists.
    CaseReference,
    /// Free text up to `max` characters.
    Text {
        max: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    CreateCase,
    LogVisit,
    SetLocale,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create_case" => Action::CreateCase,
            "log_visit" => Action::LogVisit,
            "set_locale" => Action::SetLocale,
            _ => return None,
        })
    }

    /// Variables the action reads; a flow must set each before the action.
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            Action::CreateCase => &["age", "sex", "concern", "danger", "location"],
            Action::LogVisit => &["reference", "outcome"],
            Action::SetLocale => &["locale"],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListSource {
    MyReports,
}

/// A session variable a state sets, with the names of the variables the
/// engine derives from it (`<var>_label`, the answer as shown; `<var>_name`,
/// a place's name), built once when the flows load: the engine sets them on
/// every replayed answer of every hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    name: String,
    label: String,
    place_name: String,
}

impl Var {
    pub fn new(name: &str) -> Self {
        Var {
            name: name.to_string(),
            label: [name, "_label"].concat(),
            place_name: [name, "_name"].concat(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// `<var>_label`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// `<var>_name`.
    pub fn place_name(&self) -> &str {
        &self.place_name
    }
}

impl std::fmt::Display for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

#[derive(Clone, Debug)]
pub enum Kind {
    Menu {
        var: Option<Var>,
        options: Vec<MenuOption>,
        next: Option<StateIdx>,
    },
    Input {
        var: Var,
        check: InputCheck,
        keys: Vec<Key>,
        next: StateIdx,
    },
    Location {
        var: Var,
        titles: Vec<String>,
        next: StateIdx,
    },
    List {
        source: ListSource,
        item: String,
        empty: String,
    },
    Action {
        action: Action,
        next: StateIdx,
    },
    End,
}

#[derive(Clone, Debug)]
pub struct State {
    pub flow: FlowId,
    pub name: String,
    /// The message shown (for `end`, the closing text).
    pub prompt: String,
    pub kind: Kind,
    pub file: String,
    pub line: usize,
}

impl State {
    /// Every message id this state shows.
    pub fn message_ids(&self) -> Vec<&str> {
        let mut ids = vec![self.prompt.as_str()];
        match &self.kind {
            Kind::Menu { options, .. } => ids.extend(options.iter().map(|o| o.label.as_str())),
            Kind::Input { keys, .. } => ids.extend(keys.iter().map(|k| k.label.as_str())),
            Kind::Location { titles, .. } => ids.extend(titles.iter().map(String::as_str)),
            Kind::List { item, empty, .. } => ids.extend([item.as_str(), empty.as_str()]),
            Kind::Action { .. } | Kind::End => {}
        }
        if matches!(self.kind, Kind::Action { .. }) {
            ids.clear();
        }
        ids
    }

    pub fn targets(&self) -> Vec<StateIdx> {
        match &self.kind {
            Kind::Menu { options, next, .. } => {
                options.iter().filter_map(|o| o.next.or(*next)).collect()
            }
            Kind::Input { next, .. } | Kind::Location { next, .. } | Kind::Action { next, .. } => {
                vec![*next]
            }
            Kind::List { .. } | Kind::End => vec![],
        }
    }

    /// Variables this state sets.
    pub fn sets(&self) -> Vec<String> {
        match &self.kind {
            Kind::Menu { var, options, .. } => {
                let mut v: Vec<String> = var.iter().map(Var::to_string).collect();
                v.extend(
                    options
                        .iter()
                        .flat_map(|o| o.set.iter().map(|(k, _)| k.clone())),
                );
                v
            }
            Kind::Input { var, .. } => vec![var.to_string()],
            Kind::Location { var, .. } => vec![var.to_string()],
            _ => vec![],
        }
    }
}

/// What an SMS keyword does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsTarget {
    /// Starts a guided conversation at `start`; with `form`, the words
    /// after the keyword may instead answer every field in one message,
    /// and the form then continues at `submit`.
    Conversation { start: StateIdx, form: Option<Form> },
    /// The HELP reply.
    Help,
    /// Shows or sets the language.
    Language,
    /// The sender's recent reports.
    Status,
    /// A staff member acknowledges a case (`ACK <reference>`).
    Ack,
}

/// Who may use a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Registered volunteers.
    Volunteer,
    /// Anyone not a registered volunteer.
    Public,
    /// The centres' registered staff.
    Staff,
}

/// A one-message form: the states whose answers it carries, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<FormField>,
    /// Where the form continues once every field is read (an action).
    pub submit: StateIdx,
    /// The message showing the form's layout, e.g. `REPORT age sex ...`.
    pub usage: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormField {
    pub state: StateIdx,
    pub optional: bool,
}

/// A keyword declaration of a flow (`[[sms]]`).
#[derive(Clone, Debug)]
pub struct SmsEntry {
    pub flow: FlowId,
    /// Who may use it: a flow with `entry = "public"` serves members of the
    /// public; any other serves registered volunteers; HELP and the language
    /// serve everyone.
    pub audience: Option<Audience>,
    /// Language code, then its words.
    pub words: Vec<(String, Vec<String>)>,
    pub target: SmsTarget,
    pub file: String,
    pub line: usize,
}

#[derive(Debug)]
pub struct FlowSet {
    pub states: Vec<State>,
    pub volunteer_start: StateIdx,
    pub public_start: StateIdx,
    starts: BTreeMap<FlowId, StateIdx>,
    pub sms: Vec<SmsEntry>,
}

impl FlowSet {
    pub fn state(&self, i: StateIdx) -> &State {
        &self.states[i.0]
    }

    pub fn start(&self, entry: Entry) -> StateIdx {
        match entry {
            Entry::Volunteer => self.volunteer_start,
            Entry::Public => self.public_start,
        }
    }

    pub fn flow_start(&self, flow: &FlowId) -> Option<StateIdx> {
        self.starts.get(flow).copied()
    }

    /// The message id of the menu option that sets `var` to `value` (the
    /// label a case's concern is shown by).
    pub fn option_label(&self, var: &str, value: &str) -> Option<&str> {
        self.states.iter().find_map(|s| match &s.kind {
            Kind::Menu {
                var: Some(v),
                options,
                ..
            } if v.as_str() == var => options
                .iter()
                .find(|o| o.value.as_deref() == Some(value))
                .map(|o| o.label.as_str()),
            _ => None,
        })
    }

    /// A state's stable name, `flow.state` (stored by conversations that
    /// outlive a process).
    pub fn state_key(&self, i: StateIdx) -> String {
        let s = self.state(i);
        [s.flow.as_str(), ".", &s.name].concat()
    }

    /// The state named by [`FlowSet::state_key`], if the flows still have it.
    pub fn state_by_key(&self, key: &str) -> Option<StateIdx> {
        let (flow, name) = key.split_once('.')?;
        self.states
            .iter()
            .position(|s| s.flow.as_str() == flow && s.name == name)
            .map(StateIdx)
    }

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

    /// A form's `submit` action reads only what the form's fields set.
    fn check_forms(&self, problems: &mut Vec<Problem>) {
        for entry in &self.sms {
            let SmsTarget::Conversation {
                form: Some(form), ..
            } = &entry.target
            else {
                continue;
            };
            let set: BTreeSet<String> = form
                .fields
                .iter()
                .flat_map(|f| self.state(f.state).sets())
                .collect();
            if let Kind::Action { action, .. } = &self.state(form.submit).kind {
                for need in action.needs() {
                    if !set.contains(*need) {
                        problems.push(Problem {
                            file: entry.file.clone(),
                            line: entry.line,
                            message: format!(
                                "sms form: `{}` needs `{need}`, which no field of the form sets",
                                self.state(form.submit).name
                            ),
                            warning: false,
                        });
                    }
                }
            }
        }
    }

    /// Unreachable states, and actions whose variables no earlier state sets.
    fn check_graph(&self, problems: &mut Vec<Problem>) {
        let mut seen = BTreeSet::new();
        // Variables that may be set on some path to each state.
        let mut set_before: BTreeMap<StateIdx, BTreeSet<String>> = BTreeMap::new();
        let mut queue = VecDeque::new();
        let ctx_vars: BTreeSet<String> = ["own_village", "own_village_name"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for start in [self.volunteer_start, self.public_start] {
            queue.push_back((start, ctx_vars.clone()));
        }
        while let Some((i, vars)) = queue.pop_front() {
            let known = set_before.entry(i).or_default();
            let grew = vars.iter().any(|v| !known.contains(v));
            known.extend(vars.iter().cloned());
            if !seen.insert(i) && !grew {
                continue;
            }
            let state = self.state(i);
            let mut after = known.clone();
            after.extend(state.sets());
            for t in state.targets() {
                queue.push_back((t, after.clone()));
            }
        }
        for (n, state) in self.states.iter().enumerate() {
            let problem = |message: String| Problem {
                file: state.file.clone(),
                line: state.line,
                message,
                warning: false,
            };
            if !seen.contains(&StateIdx(n)) {
                problems.push(problem(format!(
                    "state `{}` cannot be reached from any entry",
                    state.name
                )));
                continue;
            }
            if let Kind::Action { action, .. } = &state.kind {
                let known = &set_before[&StateIdx(n)];
                for need in action.needs() {
                    if !known.contains(*need) {
                        problems.push(problem(format!(
                            "action needs `{need}`, which no state before it sets"
                        )));
                    }
                }
            }
        }
    }
}

/// Resolves a `next` target (a state of this flow, or `@flow`) to a state.
type Resolver<'a> = dyn Fn(&Spanned<String>, &mut Vec<Problem>) -> Option<StateIdx> + 'a;

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

/// Checks one `[[sms]]` declaration: its words, its target, its form.
#[allow(clippy::too_many_arguments)]
fn build_sms(
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
        if crate::domain::Locale::parse(lang).is_err() {
            err(problems, line, format!("`{lang}` is not a language code"));
        }
        if list.is_empty() {
            err(problems, line, format!("`{lang}` lists no word"));
        }
        for w in list {
            let folded = crate::keywords::fold(w);
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

fn valid_var(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    id: Spanned<String>,
    #[serde(default)]
    entry: Option<Spanned<String>>,
    start: Spanned<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    states: BTreeMap<String, RawState>,
    #[serde(default)]
    sms: Vec<RawSms>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSms {
    words: Spanned<BTreeMap<String, Vec<String>>>,
    /// `help`, `language` or `status`; without it the keyword starts a conversation.
    command: Option<Spanned<String>>,
    start: Option<Spanned<String>>,
    form: Option<Spanned<Vec<String>>>,
    submit: Option<Spanned<String>>,
    usage: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    kind: Spanned<String>,
    prompt: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    var: Option<String>,
    options: Option<Vec<RawOption>>,
    next: Option<Spanned<String>>,
    #[serde(rename = "type")]
    input_type: Option<Spanned<String>>,
    min: Option<i64>,
    max: Option<i64>,
    keys: Option<Vec<RawKey>>,
    action: Option<Spanned<String>>,
    titles: Option<Vec<Spanned<String>>>,
    source: Option<String>,
    item: Option<Spanned<String>>,
    empty: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    label: Spanned<String>,
    value: Option<String>,
    next: Option<Spanned<String>>,
    set: Option<BTreeMap<String, String>>,
    requires: Option<String>,
    codes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    key: String,
    label: Spanned<String>,
    value: String,
}
