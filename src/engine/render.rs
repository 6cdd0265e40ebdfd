//! The screen on top, in the session's language: texts with the
//! session's variables, a refusal above the question, options numbered,
//! paged to the budget; menus and inputs that read no variable come from
//! the screen cache.

use fluent_bundle::{FluentArgs, FluentValue};

use super::{
    flows::{Kind, KEY_MORE},
    paging::{line, numbered, paginate, Layout},
    replay::{location_depth, Frame, Run, Value},
    screens::ScreenKey,
    Backend, Engine, EngineError, Screen,
};
use crate::domain::Channel;

impl Engine {
    /// Message `id` in the session's language, with the session's variables
    /// it reads (labels rendered in that language) and `extra`. Only what
    /// the message reads is built: this runs for every line of every screen.
    pub(super) fn text(&self, run: &Run<'_>, id: &str, extra: &[(&'static str, String)]) -> String {
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

    pub(super) async fn layout<B: Backend>(
        &self,
        run: &Run<'_>,
        backend: &B,
    ) -> Result<Layout, EngineError> {
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

    pub(super) fn compose(
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
    pub(super) fn static_screen<'f>(
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

    pub(super) fn compose_now(
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

    pub(super) async fn render<B: Backend>(
        &self,
        run: &Run<'_>,
        backend: &B,
    ) -> Result<Screen, EngineError> {
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
}
