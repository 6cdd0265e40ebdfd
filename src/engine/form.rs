//! A one-message SMS form: every field of a flow's states read from the
//! words after the keyword, checked as the flow checks them, then the flow
//! goes on at the form's `submit` state with its effects live.

use super::{
    flows::{Form, InputCheck, Kind, State, StateIdx},
    keywords,
    replay::{Refusal, Run, Value},
    Backend, Engine, EngineError, Screen, Session,
};

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

impl Engine {
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
        let words = keywords::words(text);
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
                    let folded = keywords::fold(w);
                    let by_number = w
                        .parse::<usize>()
                        .ok()
                        .filter(|k| (1..=options.len()).contains(k) && !w.starts_with('0'))
                        .map(|k| &options[k - 1]);
                    let by_code = || {
                        options.iter().find(|o| {
                            o.value.as_deref().map(keywords::fold).as_ref() == Some(&folded)
                                || o.codes.iter().any(|c| keywords::fold(c) == folded)
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
    pub(super) fn form_default<'e>(
        &'e self,
        run: &mut Run<'e>,
        state: &'e State,
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

    pub(super) fn form_refusal(
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
}
