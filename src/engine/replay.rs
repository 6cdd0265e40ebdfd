//! Replaying a session: its inputs, one after another, from its start
//! state. Each answer is checked against the screen on top; menus and
//! inputs set variables, locations drill down, actions (a case, a visit, a
//! language) run their effect only for the newest input.

use std::borrow::Cow;

use super::{
    flows::{
        Action, InputCheck, Key, Kind, ListSource, MenuOption, State, StateIdx, Var, KEY_BACK,
        KEY_HOME, KEY_MORE,
    },
    Backend, Engine, EngineError, Session, MAX_FAILURES, MAX_INPUT, RECENT_REPORTS,
};
use crate::domain::{CaseRef, CaseRefError, Locale, NewCase, NewVisit};

/// A session variable. Values and message ids from the flows are borrowed:
/// the session is replayed on every hop, and copying them was a fifth of
/// the engine's work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Value<'e> {
    Text(Cow<'e, str>),
    /// A message id, rendered in the session's language when shown.
    Msg(&'e str),
}

#[derive(Clone, Debug)]
pub(super) struct Frame {
    pub(super) state: StateIdx,
    pub(super) page: usize,
    /// For a location state: the place whose children are listed.
    pub(super) parent: Option<i64>,
}

/// Why an answer was refused: a message id and its arguments.
#[derive(Clone, Debug)]
pub(super) struct Refusal {
    pub(super) id: &'static str,
    pub(super) args: Vec<(&'static str, String)>,
}

impl Refusal {
    pub(super) fn new(id: &'static str) -> Self {
        Refusal { id, args: vec![] }
    }
    pub(super) fn with(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.args.push((k, v.into()));
        self
    }
}

/// The session's variables: a score of them at most, each set again on
/// every replayed answer; a short list searched in order costs less than a
/// map's nodes.
#[derive(Debug, Default)]
pub(super) struct Vars<'e>(Vec<(Cow<'e, str>, Value<'e>)>);

impl<'e> Vars<'e> {
    pub(super) fn get(&self, name: &str) -> Option<&Value<'e>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub(super) fn insert(&mut self, name: Cow<'e, str>, value: Value<'e>) {
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name, value)),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Cow<'e, str>, &Value<'e>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// A session being replayed.
pub(super) struct Run<'e> {
    pub(super) session: &'e Session,
    pub(super) locale: Locale,
    pub(super) stack: Vec<Frame>,
    pub(super) vars: Vars<'e>,
    pub(super) failures: u8,
    pub(super) refusal: Option<Refusal>,
    /// The closing message, once the session is over.
    pub(super) ended: Option<(String, Vec<(&'static str, String)>)>,
}

impl Engine {
    pub(super) fn new_run<'e>(&'e self, session: &'e Session) -> Run<'e> {
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
    pub(super) async fn enter<'e, B: Backend>(
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

    pub(super) async fn act<'e, B: Backend>(
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

    pub(super) async fn answer<'e, B: Backend>(
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
    pub(super) async fn accept<'e, B: Backend>(
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

    /// Sets what choosing `option` of a menu sets.
    pub(super) fn choose<'e>(
        &'e self,
        run: &mut Run<'e>,
        var: Option<&'e Var>,
        option: &'e MenuOption,
    ) {
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
    pub(super) async fn type_in<'e, B: Backend>(
        &'e self,
        run: &mut Run<'e>,
        var: &'e Var,
        check: &InputCheck,
        keys: &'e [Key],
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

    /// `98`: the next page of the list on top, when there is one.
    pub(super) async fn more<B: Backend>(
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

    pub(super) fn option_visible(&self, run: &Run<'_>, o: &MenuOption) -> bool {
        o.requires.as_ref().is_none_or(
            |r| matches!(run.vars.get(r.as_str()), Some(Value::Text(t)) if !t.is_empty()),
        )
    }

    /// `template` with each `{name}` replaced by the session's text
    /// variable `name`; anything else is kept as it is.
    pub(super) fn fill(&self, run: &Run<'_>, template: &str) -> String {
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

    pub(super) async fn check<B: Backend>(
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
                Err(CaseRefError::CheckDigit) => {
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

    pub(super) async fn list_items<B: Backend>(
        &self,
        run: &Run<'_>,
        state: &State,
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
                        let a = crate::text::args([("reference", r.to_string()), ("stage", stage)]);
                        self.texts.format(&run.locale, item, Some(&a))
                    })
                    .collect())
            }
        }
    }
}

/// How many levels deep a location drill-down is (paging frames are not levels).
pub(super) fn location_depth(run: &Run<'_>, state: StateIdx) -> usize {
    run.stack
        .iter()
        .rev()
        .take_while(|f| f.state == state)
        .filter(|f| f.page == 0)
        .count()
}
