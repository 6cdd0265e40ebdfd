//! Flows as data: `flows/<id>.toml` name states and the Fluent message ids
//! they show. This module is the checked graph of states the engine walks
//! (`load.rs` reads and checks the files, `sms.rs` their keywords and
//! one-message forms, `validate.rs` the whole graph, `raw.rs` the files'
//! own shape).

use std::collections::BTreeMap;

use toml::Spanned;

use crate::{domain::FlowId, text::source::Problem};

mod load;
mod raw;
mod sms;
mod validate;

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

    /// Every (value, message id of its label) of the menu options that set
    /// `var`, in the flows' order (the labels a case's concern is shown by).
    pub fn option_labels<'f>(&'f self, var: &'f str) -> impl Iterator<Item = (&'f str, &'f str)> {
        self.states.iter().flat_map(move |s| match &s.kind {
            Kind::Menu {
                var: Some(v),
                options,
                ..
            } if v.as_str() == var => options
                .iter()
                .filter_map(|o| Some((o.value.as_deref()?, o.label.as_str())))
                .collect(),
            _ => vec![],
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
}

/// Resolves a `next` target (a state of this flow, or `@flow`) to a state.
type Resolver<'a> = dyn Fn(&Spanned<String>, &mut Vec<Problem>) -> Option<StateIdx> + 'a;
