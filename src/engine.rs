//! The flow engine: from a session and the inputs typed so far, the next
//! screen. It knows no gateway and no SQL: data and effects go through
//! [`Backend`].
//!
//! A session is a pure function of its start snapshot and its inputs, so the
//! engine replays the inputs on every hop. Nothing a hop needs lives in
//! process memory, a retried hop gets the same screen, and two servers can
//! serve alternating hops. Effects run only for the newest input, and the
//! backend makes each of them idempotent by the session's key.

use std::{
    borrow::Cow,
    collections::HashMap,
    sync::{Arc, RwLock},
};

use fluent_bundle::{FluentArgs, FluentValue};

use crate::{
    domain::{CaseRef, Locale, Phone},
    flows::{
        Action, Entry, FlowSet, Form, InputCheck, Kind, ListSource, MenuOption, StateIdx, Var,
        KEY_BACK, KEY_HOME, KEY_MORE,
    },
    gsm::{Units, UssdBudget},
    texts::Texts,
};

/// Failed answers on one screen before the session ends politely.
pub const MAX_FAILURES: u8 = 3;
/// Longest input any screen accepts; anything longer is refused unread.
pub const MAX_INPUT: usize = 160;
/// How many reports "my recent reports" shows.
pub const RECENT_REPORTS: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Ussd,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Ussd => "ussd",
            Channel::Sms => "sms",
        }
    }
}

/// A registered volunteer, as the session saw them when it started.
#[derive(Clone, Debug)]
pub struct VolunteerSnapshot {
    pub id: i64,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
}

/// What a session starts from; fixed for the session's life.
#[derive(Clone, Debug)]
pub struct Session {
    /// Makes the session's effects idempotent (e.g. `ussd:<sessionId>`).
    pub key: String,
    pub phone: Phone,
    pub locale: Locale,
    pub channel: Channel,
    pub volunteer: Option<VolunteerSnapshot>,
}

impl Session {
    pub fn entry(&self) -> Entry {
        if self.volunteer.is_some() {
            Entry::Volunteer
        } else {
            Entry::Public
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    /// The session is over (USSD `END`).
    pub end: bool,
}

#[derive(Clone, Debug)]
pub struct Place {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct NewCase {
    pub source_key: String,
    pub channel: Channel,
    pub self_report: bool,
    pub anonymous: bool,
    pub reporter_phone: Option<Phone>,
    pub volunteer_id: Option<i64>,
    pub child_name: Option<String>,
    pub child_age: Option<i64>,
    pub child_sex: String,
    pub disability: Option<String>,
    pub concern: String,
    pub care: Option<String>,
    pub danger: bool,
    pub location_id: i64,
}

#[derive(Clone, Debug)]
pub struct NewVisit {
    pub source_key: String,
    pub reference: CaseRef,
    pub outcome: String,
    pub note: Option<String>,
    pub volunteer_id: Option<i64>,
    pub phone: Phone,
    pub channel: Channel,
}

pub type BackendResult<T> = Result<T, anyhow::Error>;

/// Data and effects the flows need. Each effect must be idempotent by its
/// `source_key`: the same key twice has its effect once.
#[allow(async_fn_in_trait)]
pub trait Backend {
    async fn places(&self, parent: Option<i64>) -> BackendResult<Vec<Place>>;
    /// The place with this code (compared without case) at this depth
    /// (1 province ... 4 village).
    async fn place_by_code(&self, code: &str, level: usize) -> BackendResult<Option<Place>>;
    async fn recent_reports(
        &self,
        volunteer_id: i64,
        limit: u32,
    ) -> BackendResult<Vec<(CaseRef, String)>>;
    async fn case_exists(&self, reference: &CaseRef) -> BackendResult<bool>;
    async fn create_case(&self, case: NewCase) -> BackendResult<CaseRef>;
    async fn log_visit(&self, visit: NewVisit) -> BackendResult<()>;
    async fn save_locale(&self, volunteer_id: i64, locale: &Locale) -> BackendResult<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("storage: {0:#}")]
    Backend(#[from] anyhow::Error),
    #[error("flow data: {0}")]
    Flow(String),
}

/// A session variable. Values and message ids from the flows are borrowed:
/// the session is replayed on every hop, and copying them was a fifth of
/// the engine's work.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value<'e> {
    Text(Cow<'e, str>),
    /// A message id, rendered in the session's language when shown.
    Msg(&'e str),
}

/// What a one-message form came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormReply {
    /// Submitted: the closing text (e.g. the case number).
    Done(Screen),
    /// A field did not read: which, why, and the form's layout.
    Refused(String),
}

struct FormRefusal {
    field: StateIdx,
    reason: Refusal,
}

#[derive(Clone, Debug)]
struct Frame {
    state: StateIdx,
    page: usize,
    /// For a location state: the place whose children are listed.
    parent: Option<i64>,
}

/// Why an answer was refused: a message id and its arguments.
#[derive(Clone, Debug)]
struct Refusal {
    id: &'static str,
    args: Vec<(&'static str, String)>,
}

impl Refusal {
    fn new(id: &'static str) -> Self {
        Refusal { id, args: vec![] }
    }
    fn with(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.args.push((k, v.into()));
        self
    }
}

/// The session's variables: a score of them at most, each set again on
/// every replayed answer; a short list searched in order costs less than a
/// map's nodes.
#[derive(Debug, Default)]
struct Vars<'e>(Vec<(Cow<'e, str>, Value<'e>)>);

impl<'e> Vars<'e> {
    fn get(&self, name: &str) -> Option<&Value<'e>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn insert(&mut self, name: Cow<'e, str>, value: Value<'e>) {
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name, value)),
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&Cow<'e, str>, &Value<'e>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

struct Run<'e> {
    session: &'e Session,
    locale: Locale,
    stack: Vec<Frame>,
    vars: Vars<'e>,
    failures: u8,
    refusal: Option<Refusal>,
    /// The closing message, once the session is over.
    ended: Option<(String, Vec<(&'static str, String)>)>,
}

#[derive(Clone)]
pub struct Engine {
    flows: Arc<FlowSet>,
    texts: Arc<Texts>,
    budget: UssdBudget,
    screens: Arc<ScreenCache>,
}

/// Menu and input screens whose texts read no session variable are the same
/// for every session: each is rendered once per language, page and set of
/// visible options, and kept for the life of the engine (the flows and texts
/// it renders from never change under it). A screen with a refusal on top,
/// or whose texts read variables, is rendered every time.
#[derive(Default)]
struct ScreenCache {
    by_locale: RwLock<HashMap<Locale, HashMap<ScreenKey, Option<Layout>>>>,
}

/// The screen's state, page, whether "back" is offered, and which of its
/// options are visible (one bit each).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct ScreenKey {
    state: usize,
    sms: bool,
    page: usize,
    at_root: bool,
    visible: u64,
}

/// Most cached screens per language: far more than the shipped flows have;
/// a bound against a flow with many option combinations.
const SCREEN_CACHE_CAP: usize = 4096;

impl ScreenCache {
    /// `Some(None)`: known to read variables. `None`: not seen yet.
    fn get(&self, locale: &Locale, key: &ScreenKey) -> Option<Option<Layout>> {
        let map = self.by_locale.read().ok()?;
        map.get(locale)?.get(key).cloned()
    }

    fn put(&self, locale: &Locale, key: ScreenKey, layout: Option<Layout>) {
        let Ok(mut map) = self.by_locale.write() else {
            return;
        };
        let screens = map.entry(locale.clone()).or_default();
        if screens.len() < SCREEN_CACHE_CAP {
            screens.insert(key, layout);
        }
    }
}

impl Engine {
    pub fn new(flows: Arc<FlowSet>, texts: Arc<Texts>, budget: UssdBudget) -> Self {
        Engine {
            flows,
            texts,
            budget,
            screens: Arc::default(),
        }
    }

    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    pub fn flows(&self) -> &FlowSet {
        &self.flows
    }

    /// The screen after `inputs` (empty on the first hop), from the start
    /// of the session's entry flow.
    pub async fn run<'e, B: Backend>(
        &'e self,
        session: &'e Session,
        inputs: &[&str],
        backend: &B,
    ) -> Result<Screen, EngineError> {
        let start = self.flows.start(session.entry());
        self.run_from(session, start, inputs, backend).await
    }

    /// The screen after `inputs`, from the state `start` (an SMS keyword
    /// starts a conversation inside a flow).
    pub async fn run_from<'e, B: Backend>(
        &'e self,
        session: &'e Session,
        start: StateIdx,
        inputs: &[&str],
        backend: &B,
    ) -> Result<Screen, EngineError> {
        let mut run = self.new_run(session);
        self.enter(&mut run, start, false, backend).await?;
        for (i, input) in inputs.iter().enumerate() {
            if run.ended.is_some() {
                break;
            }
            let live = i + 1 == inputs.len();
            self.answer(&mut run, input.trim(), live, backend).await?;
        }
        self.render(&run, backend).await
    }

    fn new_run<'e>(&'e self, session: &'e Session) -> Run<'e> {
        let mut run = Run {
            session,
            locale: session.locale.clone(),
            stack: vec![],
            vars: Vars::default(),
            failures: 0,
            refusal: None,
            ended: None,
        };
        if let Some(v) = &session.volunteer {
            if let (Some(id), Some(name)) = (v.village_id, &v.village_name) {
                run.vars
                    .insert("own_village".into(), Value::Text(id.to_string().into()));
                run.vars
                    .insert("own_village_name".into(), Value::Text(name.into()));
            }
        }
        run
    }

    /// Moves to `target`, running actions on the way (their lasting effects
    /// only when `live`).
    async fn enter<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        mut target: StateIdx,
        live: bool,
        backend: &B,
    ) -> Result<(), EngineError> {
        loop {
            let state = self.flows.state(target);
            match &state.kind {
                Kind::Action { action, next } => {
                    self.act(run, *action, live, backend).await?;
                    // An action cannot be undone: "back" after it starts from its next screen.
                    run.stack.clear();
                    target = *next;
                }
                Kind::End => {
                    run.ended = Some((state.prompt.clone(), vec![]));
                    return Ok(());
                }
                _ => {
                    run.stack.push(Frame {
                        state: target,
                        page: 0,
                        parent: None,
                    });
                    return Ok(());
                }
            }
        }
    }

    async fn act<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        action: Action,
        live: bool,
        backend: &B,
    ) -> Result<(), EngineError> {
        let text = |run: &Run<'_>, k: &str| match run.vars.get(k) {
            Some(Value::Text(t)) if !t.is_empty() => Some(t.to_string()),
            _ => None,
        };
        let need = |run: &Run<'_>, k: &str| {
            text(run, k).ok_or_else(|| EngineError::Flow(format!("variable `{k}` is not set")))
        };
        match action {
            Action::SetLocale => {
                let locale = Locale::parse(&need(run, "locale")?)
                    .map_err(|e| EngineError::Flow(e.to_string()))?;
                if !self.texts.has_locale(&locale) {
                    return Err(EngineError::Flow(format!("no texts for locale `{locale}`")));
                }
                if live {
                    if let Some(v) = &run.session.volunteer {
                        backend.save_locale(v.id, &locale).await?;
                    }
                }
                run.locale = locale;
            }
            Action::CreateCase => {
                if !live {
                    return Err(EngineError::Flow("create_case must end its session".into()));
                }
                let s = run.session;
                let anonymous = text(run, "anonymous").as_deref() == Some("yes");
                let case = NewCase {
                    source_key: s.key.clone(),
                    channel: s.channel,
                    self_report: s.volunteer.is_none(),
                    anonymous,
                    reporter_phone: (!anonymous).then(|| s.phone.clone()),
                    volunteer_id: s.volunteer.as_ref().map(|v| v.id),
                    child_name: text(run, "child_name"),
                    child_age: text(run, "age").and_then(|a| a.parse().ok()),
                    child_sex: need(run, "sex")?,
                    disability: text(run, "disability"),
                    concern: need(run, "concern")?,
                    care: text(run, "care"),
                    danger: need(run, "danger")? == "yes",
                    location_id: need(run, "location")?
                        .parse()
                        .map_err(|_| EngineError::Flow("location is not a place id".into()))?,
                };
                let reference = backend.create_case(case).await?;
                run.vars.insert(
                    "reference".into(),
                    Value::Text(reference.to_string().into()),
                );
            }
            Action::LogVisit => {
                if !live {
                    return Err(EngineError::Flow("log_visit must end its session".into()));
                }
                let reference = CaseRef::parse(&need(run, "reference")?)
                    .map_err(|e| EngineError::Flow(e.to_string()))?;
                backend
                    .log_visit(NewVisit {
                        source_key: run.session.key.clone(),
                        reference,
                        outcome: need(run, "outcome")?,
                        note: text(run, "note"),
                        volunteer_id: run.session.volunteer.as_ref().map(|v| v.id),
                        phone: run.session.phone.clone(),
                        channel: run.session.channel,
                    })
                    .await?;
            }
        }
        Ok(())
    }

    async fn answer<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        input: &str,
        live: bool,
        backend: &B,
    ) -> Result<(), EngineError> {
        if input == KEY_HOME {
            run.stack.truncate(1);
            if let Some(f) = run.stack.first_mut() {
                f.page = 0;
            }
            run.failures = 0;
            run.refusal = None;
            return Ok(());
        }
        if input == KEY_BACK {
            if run.stack.len() > 1 {
                run.stack.pop();
            }
            run.failures = 0;
            run.refusal = None;
            return Ok(());
        }
        let outcome = if input.is_empty() {
            Err(Refusal::new("error-empty"))
        } else if input.chars().count() > MAX_INPUT {
            Err(Refusal::new("error-too-long").with("max", MAX_INPUT.to_string()))
        } else {
            self.accept(run, input, live, backend).await?
        };
        match outcome {
            Ok(()) => {
                run.failures = 0;
                run.refusal = None;
            }
            Err(refusal) => {
                run.failures += 1;
                if run.failures >= MAX_FAILURES {
                    run.ended = Some(("error-too-many".into(), vec![]));
                } else {
                    run.refusal = Some(refusal);
                }
            }
        }
        Ok(())
    }

    /// Applies one answer to the screen on top; `Err(refusal)` when it is not valid.
    async fn accept<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        input: &str,
        live: bool,
        backend: &B,
    ) -> Result<Result<(), Refusal>, EngineError> {
        let frame = run
            .stack
            .last()
            .cloned()
            .ok_or_else(|| EngineError::Flow("no screen".into()))?;
        let state = self.flows.state(frame.state);
        let choice = |n: usize| -> Result<usize, Refusal> {
            input
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=n).contains(k) && !input.starts_with('0'))
                .ok_or_else(|| Refusal::new("error-choice").with("max", n.to_string()))
        };
        match &state.kind {
            Kind::Menu { var, options, next } => {
                let visible: Vec<_> = options
                    .iter()
                    .filter(|o| self.option_visible(run, o))
                    .collect();
                if input == KEY_MORE {
                    return Ok(self.more(run, frame, visible.len(), backend).await);
                }
                let k = match choice(visible.len()) {
                    Ok(k) => k,
                    Err(r) => return Ok(Err(r)),
                };
                let option = visible[k - 1];
                self.choose(run, var.as_ref(), option);
                let target = option.next.or(*next).ok_or_else(|| {
                    EngineError::Flow(format!("{}: option without next", state.name))
                })?;
                self.enter(run, target, live, backend).await?;
            }
            Kind::Input {
                var,
                check,
                keys,
                next,
            } => {
                if let Err(r) = self.type_in(run, var, check, keys, input, backend).await? {
                    return Ok(Err(r));
                }
                self.enter(run, *next, live, backend).await?;
            }
            Kind::Location { var, titles, next } => {
                let places = backend.places(frame.parent).await?;
                if input == KEY_MORE {
                    return Ok(self.more(run, frame, places.len(), backend).await);
                }
                let k = match choice(places.len()) {
                    Ok(k) => k,
                    Err(r) => return Ok(Err(r)),
                };
                let place = &places[k - 1];
                let depth = location_depth(run, frame.state);
                if depth >= titles.len() {
                    run.vars.insert(
                        var.as_str().into(),
                        Value::Text(place.id.to_string().into()),
                    );
                    run.vars.insert(
                        var.place_name().into(),
                        Value::Text(place.name.clone().into()),
                    );
                    self.enter(run, *next, live, backend).await?;
                } else {
                    run.stack.push(Frame {
                        state: frame.state,
                        page: 0,
                        parent: Some(place.id),
                    });
                }
            }
            Kind::List { .. } => {
                if input == KEY_MORE {
                    let n = self.list_items(run, state, backend).await?.len();
                    return Ok(self.more(run, frame, n, backend).await);
                }
                return Ok(Err(Refusal::new("error-nav")));
            }
            Kind::Action { .. } | Kind::End => {
                return Err(EngineError::Flow(format!(
                    "{}: waiting on a state that takes no input",
                    state.name
                )))
            }
        }
        Ok(Ok(()))
    }

    /// `98`: the next page of the list on top, when there is one.
    /// Sets what choosing `option` of a menu sets.
    fn choose<'e>(&'e self, run: &mut Run<'e>, var: Option<&'e Var>, option: &'e MenuOption) {
        if let (Some(var), Some(value)) = (var, &option.value) {
            run.vars
                .insert(var.as_str().into(), Value::Text(value.into()));
            run.vars
                .insert(var.label().into(), Value::Msg(&option.label));
        }
        for (k, template) in &option.set {
            let v = self.fill(run, template);
            run.vars.insert(k.into(), Value::Text(v.into()));
        }
    }

    /// Sets an input's variable from a key or a checked answer.
    async fn type_in<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        var: &'e Var,
        check: &InputCheck,
        keys: &'e [crate::flows::Key],
        input: &str,
        backend: &B,
    ) -> Result<Result<(), Refusal>, EngineError> {
        if let Some(key) = keys.iter().find(|k| k.key == input) {
            run.vars
                .insert(var.as_str().into(), Value::Text((&key.value).into()));
            run.vars.insert(var.label().into(), Value::Msg(&key.label));
            return Ok(Ok(()));
        }
        let value = match self.check(check, input, backend).await? {
            Ok(v) => v,
            Err(r) => return Ok(Err(r)),
        };
        run.vars
            .insert(var.label().into(), Value::Text(value.clone().into()));
        run.vars
            .insert(var.as_str().into(), Value::Text(value.into()));
        Ok(Ok(()))
    }

    /// Answers every field of a one-message form from `text` (what follows
    /// the keyword), then continues at the form's `submit` state with its
    /// effects live. A field that does not read is refused with the
    /// field's name, the reason and the form's layout, in the session's
    /// language; nothing is saved then.
    pub async fn submit_form<'e, B: Backend>(
        &'e self,
        session: &'e Session,
        form: &'e Form,
        text: &str,
        backend: &B,
    ) -> Result<FormReply, EngineError> {
        let mut run = self.new_run(session);
        let words = crate::keywords::words(text);
        let mut next = 0;
        for field in &form.fields {
            let state = self.flows.state(field.state);
            let word = words.get(next);
            let refused = |reason: Refusal| FormRefusal {
                field: field.state,
                reason,
            };
            let outcome: Result<(), FormRefusal> = match &state.kind {
                Kind::Input {
                    var, check, keys, ..
                } if matches!(check, InputCheck::Name | InputCheck::Text { .. }) => {
                    // Free text takes the rest of the message, as typed.
                    next = words.len();
                    match word.map(|w| text[w.start..].trim()) {
                        None if field.optional => Ok(()),
                        None => Err(refused(Refusal::new("sms-form-missing"))),
                        Some(rest) => self
                            .type_in(&mut run, var, check, keys, rest, backend)
                            .await?
                            .map_err(refused),
                    }
                }
                _ if word.is_none() && field.optional => {
                    self.form_default(&mut run, state).map_err(refused)
                }
                _ if word.is_none() => Err(refused(Refusal::new("sms-form-missing"))),
                Kind::Input {
                    var, check, keys, ..
                } => {
                    next += 1;
                    let w = word.map_or("", |w| w.text);
                    self.type_in(&mut run, var, check, keys, w, backend)
                        .await?
                        .map_err(refused)
                }
                Kind::Menu {
                    var: Some(var),
                    options,
                    ..
                } => {
                    let w = word.map_or("", |w| w.text);
                    let folded = crate::keywords::fold(w);
                    let by_number = w
                        .parse::<usize>()
                        .ok()
                        .filter(|k| (1..=options.len()).contains(k) && !w.starts_with('0'))
                        .map(|k| &options[k - 1]);
                    let by_code = || {
                        options.iter().find(|o| {
                            o.value.as_deref().map(crate::keywords::fold).as_ref() == Some(&folded)
                                || o.codes.iter().any(|c| crate::keywords::fold(c) == folded)
                        })
                    };
                    match by_number.or_else(by_code) {
                        Some(option) => {
                            next += 1;
                            self.choose(&mut run, Some(var), option);
                            Ok(())
                        }
                        None => Err(refused(
                            Refusal::new("error-choice").with("max", options.len().to_string()),
                        )),
                    }
                }
                Kind::Location { var, titles, .. } => {
                    let w = word.map_or("", |w| w.text);
                    match backend.place_by_code(w, titles.len()).await? {
                        Some(place) => {
                            next += 1;
                            run.vars.insert(
                                var.as_str().into(),
                                Value::Text(place.id.to_string().into()),
                            );
                            run.vars
                                .insert(var.place_name().into(), Value::Text(place.name.into()));
                            Ok(())
                        }
                        // An optional place may be left out: a word that is
                        // no code (no digit, no dash) is the next field's.
                        None if field.optional
                            && !w.chars().any(|c| c.is_ascii_digit() || c == '-') =>
                        {
                            self.form_default(&mut run, state).map_err(refused)
                        }
                        None => Err(refused(Refusal::new("sms-form-place").with("code", w))),
                    }
                }
                _ => {
                    return Err(EngineError::Flow(format!(
                        "{}: a form field that takes no answer",
                        state.name
                    )))
                }
            };
            if let Err(FormRefusal { field, reason }) = outcome {
                return Ok(FormReply::Refused(
                    self.form_refusal(&run, form, field, &reason),
                ));
            }
        }
        if let Some(extra) = words.get(next) {
            let last = form.fields.last().map_or(form.submit, |f| f.state);
            let reason = Refusal::new("sms-form-extra").with("extra", text[extra.start..].trim());
            return Ok(FormReply::Refused(
                self.form_refusal(&run, form, last, &reason),
            ));
        }
        self.enter(&mut run, form.submit, true, backend).await?;
        if run.ended.is_none() {
            return Err(EngineError::Flow(format!(
                "form submitted at `{}` shows a screen instead of ending",
                self.flows.state(form.submit).name
            )));
        }
        Ok(FormReply::Done(self.render(&run, backend).await?))
    }

    /// What a form field left out stands for: a place, the volunteer's own
    /// village; anything else, nothing.
    fn form_default<'e>(
        &'e self,
        run: &mut Run<'e>,
        state: &'e crate::flows::State,
    ) -> Result<(), Refusal> {
        let Kind::Location { var, .. } = &state.kind else {
            return Ok(());
        };
        match (
            run.vars.get("own_village").cloned(),
            run.vars.get("own_village_name").cloned(),
        ) {
            (Some(id), Some(name)) => {
                run.vars.insert(var.as_str().into(), id);
                run.vars.insert(var.place_name().into(), name);
                Ok(())
            }
            _ => Err(Refusal::new("sms-form-place-needed")),
        }
    }

    fn form_refusal(
        &self,
        run: &Run<'_>,
        form: &Form,
        field: StateIdx,
        reason: &Refusal,
    ) -> String {
        let field = format!("sms-field-{}", self.flows.state(field).name);
        let args = [
            ("field", self.text(run, &field, &[])),
            ("reason", self.text(run, reason.id, &reason.args)),
            ("usage", self.text(run, &form.usage, &[])),
        ];
        self.text(run, "sms-form-refused", &args)
    }

    async fn more<B: Backend>(
        &self,
        run: &mut Run<'_>,
        frame: Frame,
        items: usize,
        backend: &B,
    ) -> Result<(), Refusal> {
        let pages = match self.layout(run, backend).await {
            Ok(l) => l.pages,
            Err(_) => 1,
        };
        if frame.page + 1 < pages {
            run.stack.push(Frame {
                page: frame.page + 1,
                ..frame
            });
            Ok(())
        } else {
            Err(Refusal::new("error-choice").with("max", items.to_string()))
        }
    }

    fn option_visible(&self, run: &Run<'_>, o: &MenuOption) -> bool {
        o.requires.as_ref().is_none_or(
            |r| matches!(run.vars.get(r.as_str()), Some(Value::Text(t)) if !t.is_empty()),
        )
    }

    /// `template` with each `{name}` replaced by the session's text
    /// variable `name`; anything else is kept as it is.
    fn fill(&self, run: &Run<'_>, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                rest = &rest[open..];
                break;
            };
            match run.vars.get(&after[..close]) {
                Some(Value::Text(t)) => out.push_str(t),
                _ => out.push_str(&rest[open..open + close + 2]),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }

    async fn check<B: Backend>(
        &self,
        check: &InputCheck,
        input: &str,
        backend: &B,
    ) -> Result<Result<String, Refusal>, EngineError> {
        Ok(match check {
            InputCheck::Name => {
                let ok = input.chars().count() <= 40
                    && input.chars().any(char::is_alphabetic)
                    && input
                        .chars()
                        .all(|c| c.is_alphabetic() || c == ' ' || c == '-' || c == '\'');
                if ok {
                    Ok(input.split_whitespace().collect::<Vec<_>>().join(" "))
                } else {
                    Err(Refusal::new("error-name"))
                }
            }
            InputCheck::Number { min, max } => match input.parse::<i64>() {
                Ok(n) if n >= *min && n <= *max => Ok(n.to_string()),
                _ => Err(Refusal::new("error-number")
                    .with("min", min.to_string())
                    .with("max", max.to_string())),
            },
            InputCheck::CaseReference => match CaseRef::parse(input) {
                Err(crate::domain::CaseRefError::CheckDigit) => {
                    Err(Refusal::new("error-reference-check").with("reference", input))
                }
                Err(_) => {
                    Err(Refusal::new("error-reference-format")
                        .with("digits", CaseRef::LEN.to_string()))
                }
                Ok(r) if backend.case_exists(&r).await? => Ok(r.to_string()),
                Ok(r) => {
                    Err(Refusal::new("error-reference-unknown").with("reference", r.to_string()))
                }
            },
            InputCheck::Text { max } => {
                if input.chars().count() > *max {
                    Err(Refusal::new("error-too-long").with("max", max.to_string()))
                } else if input.chars().any(char::is_control) {
                    Err(Refusal::new("error-text"))
                } else {
                    Ok(input.to_string())
                }
            }
        })
    }

    async fn list_items<B: Backend>(
        &self,
        run: &Run<'_>,
        state: &crate::flows::State,
        backend: &B,
    ) -> Result<Vec<String>, EngineError> {
        let Kind::List { source, item, .. } = &state.kind else {
            return Ok(vec![]);
        };
        match source {
            ListSource::MyReports => {
                let Some(v) = &run.session.volunteer else {
                    return Ok(vec![]);
                };
                let rows = backend.recent_reports(v.id, RECENT_REPORTS).await?;
                Ok(rows
                    .into_iter()
                    .map(|(r, stage)| {
                        let stage = self.texts.plain(&run.locale, &format!("stage-{stage}"));
                        let a =
                            crate::texts::args([("reference", r.to_string()), ("stage", stage)]);
                        self.texts.format(&run.locale, item, Some(&a))
                    })
                    .collect())
            }
        }
    }

    /// Message `id` in the session's language, with the session's variables
    /// it reads (labels rendered in that language) and `extra`. Only what
    /// the message reads is built: this runs for every line of every screen.
    fn text(&self, run: &Run<'_>, id: &str, extra: &[(&'static str, String)]) -> String {
        // A text may have an SMS wording of its own (`<id>-sms`): "dial
        // again" means nothing in a message.
        let sms_id;
        let id = match run.session.channel {
            Channel::Sms => {
                sms_id = [id, "-sms"].concat();
                match self.texts.message(&run.locale, &sms_id) {
                    Some(_) => sms_id.as_str(),
                    None => id,
                }
            }
            Channel::Ussd => id,
        };
        let mut args = FluentArgs::new();
        let value = |v: &Value| -> String {
            match v {
                Value::Text(t) => t.to_string(),
                Value::Msg(m) => self.texts.plain(&run.locale, m),
            }
        };
        let mut set = |k: &str, v: &Value| {
            args.set(k.to_string(), FluentValue::from(value(v)));
        };
        match self.texts.reads(&run.locale, id) {
            Some(names) => names
                .iter()
                .filter_map(|k| run.vars.get(k.as_str()).map(|v| (k.as_str(), v)))
                .for_each(|(k, v)| set(k, v)),
            None => run.vars.iter().for_each(|(k, v)| set(k, v)),
        }
        for (k, v) in extra {
            args.set(*k, FluentValue::from(v.as_str()));
        }
        self.texts.format(&run.locale, id, Some(&args))
    }

    async fn layout<B: Backend>(&self, run: &Run<'_>, backend: &B) -> Result<Layout, EngineError> {
        let frame = run
            .stack
            .last()
            .ok_or_else(|| EngineError::Flow("no screen".into()))?;
        let state = self.flows.state(frame.state);
        // Data first: Fluent arguments must not be held across an await.
        let dynamic = match &state.kind {
            Kind::Location { .. } => backend
                .places(frame.parent)
                .await?
                .into_iter()
                .map(|p| p.name)
                .collect(),
            Kind::List { .. } => self.list_items(run, state, backend).await?,
            _ => vec![],
        };
        self.compose(run, frame, dynamic)
    }

    fn compose(
        &self,
        run: &Run<'_>,
        frame: &Frame,
        dynamic: Vec<String>,
    ) -> Result<Layout, EngineError> {
        let Some((key, ids)) = self.static_screen(run, frame) else {
            return self.compose_now(run, frame, dynamic);
        };
        match self.screens.get(&run.locale, &key) {
            Some(Some(layout)) => return Ok(layout),
            Some(None) => return self.compose_now(run, frame, dynamic),
            None => {}
        }
        let reads_nothing = ids.iter().all(|id| {
            self.texts
                .reads(&run.locale, id)
                .is_some_and(|v| v.is_empty())
        });
        let layout = self.compose_now(run, frame, dynamic)?;
        self.screens
            .put(&run.locale, key, reads_nothing.then(|| layout.clone()));
        Ok(layout)
    }

    /// For a menu or input screen without a refusal: its cache key, and the
    /// message ids it shows (whether they read variables is asked once).
    fn static_screen<'f>(
        &'f self,
        run: &Run<'_>,
        frame: &Frame,
    ) -> Option<(ScreenKey, Vec<&'f str>)> {
        if run.refusal.is_some() {
            return None;
        }
        let state = self.flows.state(frame.state);
        let mut ids = vec![state.prompt.as_str()];
        let mut visible = 0u64;
        match &state.kind {
            Kind::Menu { options, .. } if options.len() <= 64 => {
                for (i, o) in options.iter().enumerate() {
                    if self.option_visible(run, o) {
                        visible |= 1 << i;
                        ids.push(&o.label);
                    }
                }
            }
            Kind::Input { keys, .. } => ids.extend(keys.iter().map(|k| k.label.as_str())),
            _ => return None,
        }
        let key = ScreenKey {
            state: frame.state.0,
            sms: run.session.channel == Channel::Sms,
            page: frame.page,
            at_root: run.stack.len() == 1,
            visible,
        };
        Some((key, ids))
    }

    fn compose_now(
        &self,
        run: &Run<'_>,
        frame: &Frame,
        dynamic: Vec<String>,
    ) -> Result<Layout, EngineError> {
        let state = self.flows.state(frame.state);
        let t = |id: &str| self.text(run, id, &[]);
        let mut header = Vec::new();
        if let Some(r) = &run.refusal {
            header.push(self.text(run, r.id, &r.args));
        }
        let mut items = Vec::new();
        let mut trailer = Vec::new();
        match &state.kind {
            Kind::Menu { options, .. } => {
                header.push(t(&state.prompt));
                items = numbered(
                    options
                        .iter()
                        .filter(|o| self.option_visible(run, o))
                        .map(|o| t(&o.label))
                        .collect(),
                );
            }
            Kind::Input { keys, .. } => {
                header.push(t(&state.prompt));
                trailer = keys.iter().map(|k| line(&k.key, &t(&k.label))).collect();
            }
            Kind::Location { titles, .. } => {
                let level = location_depth(run, frame.state)
                    .saturating_sub(1)
                    .min(titles.len() - 1);
                header.push(t(&titles[level]));
                items = numbered(dynamic);
            }
            Kind::List { empty, .. } => {
                header.push(if dynamic.is_empty() {
                    t(empty)
                } else {
                    t(&state.prompt)
                });
                items = dynamic;
            }
            Kind::Action { .. } | Kind::End => {
                return Err(EngineError::Flow(format!("{}: not a screen", state.name)))
            }
        }
        let at_root = run.stack.len() == 1;
        let footer = (!at_root).then(|| self.texts.plain(&run.locale, "nav-back"));
        let more = line(KEY_MORE, &self.texts.plain(&run.locale, "nav-more"));
        Ok(paginate(
            &self.budget,
            header,
            items,
            trailer,
            footer,
            more,
            frame.page,
        ))
    }

    async fn render<B: Backend>(&self, run: &Run<'_>, backend: &B) -> Result<Screen, EngineError> {
        if let Some((id, extra)) = &run.ended {
            let text = self.text(run, id, extra);
            return Ok(Screen {
                text: self.budget.truncate(&text),
                end: true,
            });
        }
        let layout = self.layout(run, backend).await?;
        Ok(Screen {
            text: layout.text,
            end: false,
        })
    }

    /// The polite end after too many refused answers.
    pub fn too_many_tries(&self, locale: &Locale) -> Screen {
        Screen {
            text: self
                .budget
                .truncate(&self.texts.plain(locale, "error-too-many")),
            end: true,
        }
    }

    /// The closing screen shown when something failed inside (a localized apology).
    pub fn apology(&self, locale: &Locale) -> Screen {
        Screen {
            text: self
                .budget
                .truncate(&self.texts.plain(locale, "error-internal")),
            end: true,
        }
    }
}

/// Menu lines as the phone shows them: `1. Label`, `2. Label`...
pub fn numbered(labels: Vec<String>) -> Vec<String> {
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| line(&(i + 1).to_string(), &l))
        .collect()
}

/// A menu line: `key. label`. (`concat`, not `format!`: the engine joins a
/// few dozen small strings a hop, and `format!` costs several times more.)
fn line(key: &str, label: &str) -> String {
    [key, ". ", label].concat()
}

/// How many levels deep a location drill-down is (paging frames are not levels).
fn location_depth(run: &Run<'_>, state: StateIdx) -> usize {
    run.stack
        .iter()
        .rev()
        .take_while(|f| f.state == state)
        .filter(|f| f.page == 0)
        .count()
}

fn join(a: Option<Units>, b: Units) -> Option<Units> {
    Some(a.map_or(b, |a| a.then(b)))
}

fn join_opt(a: Option<Units>, b: Option<Units>) -> Option<Units> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.then(b)),
        (a, b) => a.or(b),
    }
}

/// One screen of a possibly paged list.
#[derive(Clone, Debug)]
pub struct Layout {
    pub text: String,
    pub pages: usize,
    /// The page did not fit even alone and was cut (`kanda check` reports it).
    pub truncated: bool,
}

/// Packs `items` into pages that fit the budget with the header, trailer,
/// footer and (when more follow) the "more" line, and renders page `page`.
pub fn paginate(
    budget: &UssdBudget,
    header: Vec<String>,
    items: Vec<String>,
    trailer: Vec<String>,
    footer: Option<String>,
    more: String,
    page: usize,
) -> Layout {
    let compose = |chunk: &[String], with_more: bool| {
        let mut lines: Vec<&str> = header.iter().map(String::as_str).collect();
        lines.extend(chunk.iter().map(String::as_str));
        lines.extend(trailer.iter().map(String::as_str));
        if with_more {
            lines.push(&more);
        }
        if let Some(f) = &footer {
            lines.push(f);
        }
        lines.join("\n")
    };
    // Each line is measured once; a candidate page's length is then a sum.
    let total = |lines: &[String]| lines.iter().map(|l| Units::of(l)).fold(None, join);
    let fixed = [
        total(&header),
        total(&trailer),
        footer.as_deref().map(Units::of),
    ]
    .into_iter()
    .fold(None, join_opt);
    let item_units: Vec<Units> = items.iter().map(|i| Units::of(i)).collect();
    let more_units = Units::of(&more);
    let fits = |range: std::ops::Range<usize>, with_more: bool| {
        let chunk = item_units[range].iter().copied().fold(None, join);
        let all = join_opt(join_opt(fixed, chunk), with_more.then_some(more_units));
        all.is_none_or(|u| budget.fits_units(u))
    };
    let mut pages: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < items.len() || pages.is_empty() {
        if fits(start..items.len(), false) {
            pages.push((start, items.len()));
            break;
        }
        let mut end = start + 1;
        while end < items.len() && fits(start..end + 1, true) {
            end += 1;
        }
        pages.push((start, end));
        start = end;
    }
    let p = page.min(pages.len() - 1);
    let (s, e) = pages[p];
    let text = compose(&items[s..e], p + 1 < pages.len());
    let fits = fits(s..e, p + 1 < pages.len());
    Layout {
        truncated: !fits,
        text: if fits { text } else { budget.truncate(&text) },
        pages: pages.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_keeps_every_page_in_budget_and_loses_no_item() {
        let budget = UssdBudget::default();
        let items: Vec<String> = (1..=30)
            .map(|i| format!("{i}. Village number {i}"))
            .collect();
        let mut seen = Vec::new();
        let mut page = 0;
        loop {
            let l = paginate(
                &budget,
                vec!["Village?".into()],
                items.clone(),
                vec![],
                Some("0 Back 00 Menu".into()),
                "98. More".into(),
                page,
            );
            assert!(budget.fits(&l.text), "{}", l.text);
            assert!(!l.text.ends_with(".."), "page {page} was truncated");
            seen.extend(
                l.text
                    .lines()
                    .filter(|x| x.contains("Village number"))
                    .map(String::from),
            );
            page += 1;
            if page == l.pages {
                assert!(!l.text.contains("98."));
                break;
            }
            assert!(l.text.contains("98. More"));
        }
        assert_eq!(seen, items);
    }
}
