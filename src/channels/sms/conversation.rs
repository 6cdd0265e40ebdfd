//! One inbound message in its context: who sent it (a volunteer, staff,
//! anyone else), their conversation under way, their language; and the
//! reply it comes to, through a keyword, a one-message form, or the next
//! answer of a guided conversation.

use super::{grammar::Senders, InboundSms};
use crate::{
    casework::CaseError,
    channels::{
        ussd::{offer_text, MAX_INPUTS},
        Channels,
    },
    domain::{CaseRef, CaseRefError, Channel, Locale, StageChange},
    engine::{
        flows::{Audience, FlowSet, SmsTarget, StateIdx},
        keywords, FormReply, Session, VolunteerSnapshot, RECENT_REPORTS,
    },
    store::{ConversationRow, Sender, StaffMember},
    text::args,
};

/// One message's context: who sent it, their conversation, their language.
pub(super) struct Conversation<'a> {
    state: &'a Channels,
    msg: &'a InboundSms,
    sender: Option<Sender>,
    staff: Option<StaffMember>,
    /// The open conversation (`None` when there is none or it timed out).
    open: Option<ConversationRow>,
    /// The conversation that timed out, if any: it may be continued.
    expired: Option<ConversationRow>,
    timed_out: bool,
}

impl<'a> Conversation<'a> {
    pub(super) async fn load(state: &'a Channels, msg: &'a InboundSms) -> anyhow::Result<Self> {
        let sender = state.store.sms_sender(&msg.from).await?;
        let staff = state.store.staff_by_phone(&msg.from).await?;
        let row = state.store.sms_conversation(&msg.from).await?;
        let ttl = state.settings.sms_session_ttl.as_millis() as i64;
        let now = state.store.clock().now_ms();
        let (open, expired, timed_out) = match row {
            Some(r) if now - r.updated_at <= ttl && !r.offered => (Some(r), None, false),
            Some(r) => (None, Some(r), true),
            None => (None, None, false),
        };
        Ok(Conversation {
            state,
            msg,
            sender,
            staff,
            open,
            expired,
            timed_out,
        })
    }

    fn audience(&self) -> Senders {
        Senders {
            volunteer: self.sender.is_some(),
            staff: self.staff.is_some(),
        }
    }

    fn flows(&self) -> &FlowSet {
        self.state.engine.flows()
    }

    fn known(&self, raw: &str) -> Option<Locale> {
        Locale::parse(raw)
            .ok()
            .filter(|l| self.state.engine.texts().has_locale(l))
    }

    /// The sender's language: a volunteer's profile, the conversation's, the
    /// keyword's (a member of the public writing SIGNALER reads French), or
    /// the deployment's default.
    fn locale(&self, keyword_lang: Option<&str>) -> Locale {
        let profile = self
            .sender
            .as_ref()
            .map(|s| s.locale.as_str())
            .or(self.staff.as_ref().map(|s| s.locale.as_str()))
            .and_then(|l| self.known(l));
        let open = self.open.as_ref().and_then(|c| self.known(&c.locale));
        profile
            .or(open)
            .or_else(|| keyword_lang.and_then(|l| self.known(l)))
            .unwrap_or_else(|| self.state.settings.default_locale.clone())
    }

    fn text(&self, locale: &Locale, id: &str) -> String {
        self.state.engine.texts().plain(locale, id)
    }

    fn help(&self, locale: &Locale) -> String {
        match (&self.sender, &self.staff) {
            (Some(_), _) => self.text(locale, "sms-help-volunteer"),
            (None, Some(_)) => self.text(locale, "sms-help-staff"),
            (None, None) => self.text(locale, "sms-help-public"),
        }
    }

    /// The engine's session for an effect keyed `key`.
    fn session(&self, key: String, locale: Locale, row: Option<&ConversationRow>) -> Session {
        let volunteer = match row {
            Some(r) => r.volunteer_id.map(|id| VolunteerSnapshot {
                id,
                village_id: r.village_id,
                village_name: r.village_name.clone(),
            }),
            None => self.sender.as_ref().map(|s| VolunteerSnapshot {
                id: s.volunteer_id,
                village_id: s.village_id,
                village_name: s.village_name.clone(),
            }),
        };
        Session {
            key,
            phone: self.msg.from.clone(),
            locale,
            channel: Channel::Sms,
            volunteer,
        }
    }

    pub(super) async fn reply(&self) -> anyhow::Result<String> {
        let body = self.msg.body.as_str();
        let words = keywords::words(body);
        // In a conversation an answer may look like a keyword (a child named
        // Sura): there only exact keywords count.
        let typos = self.open.is_none();
        let found = words.first().map(|w| {
            self.state
                .grammar
                .find(self.flows(), w.text, typos, self.audience())
        });
        match found {
            Some(Ok((i, lang))) => {
                let after = words.get(1).map_or("", |w| &body[w.start..]);
                self.keyword(i, lang, after).await
            }
            Some(Err(Some(audience))) if self.open.is_none() => {
                let locale = self.locale(None);
                Ok(match audience {
                    Audience::Staff => self.text(&locale, "sms-staff-only"),
                    _ => self.text(&locale, "sms-volunteers-only"),
                })
            }
            _ => self.continue_or_help().await,
        }
    }

    async fn keyword(&self, i: usize, lang: &str, after: &str) -> anyhow::Result<String> {
        let locale = self.locale(Some(lang));
        let entry = &self.flows().sms[i];
        match &entry.target {
            SmsTarget::Help => {
                if let Some(layout) = self.form_help(&locale, after) {
                    return Ok(layout);
                }
                let mut reply = self.help(&locale);
                if self.open.is_some() {
                    reply.push('\n');
                    reply.push_str(&self.text(&locale, "sms-continue"));
                }
                Ok(reply)
            }
            SmsTarget::Language => self.language(&locale, after).await,
            SmsTarget::Status => self.status(&locale).await,
            SmsTarget::Ack => self.ack(&locale, after).await,
            SmsTarget::Conversation { start, form } => {
                match form {
                    Some(form) if !after.trim().is_empty() => {
                        let key = format!("sms:{}:{}", self.msg.provider, self.msg.message_id);
                        let session = self.session(key, locale, None);
                        let reply = self
                            .state
                            .engine
                            .submit_form(&session, form, after, &self.state.work)
                            .await?;
                        Ok(match reply {
                            FormReply::Done(screen) => screen.text,
                            FormReply::Refused(text) => text,
                        })
                    }
                    // A keyword alone (or any words after it, where no form
                    // reads them: they are not kept) starts the questions.
                    _ => self.start(*start, locale).await,
                }
            }
        }
    }

    async fn start(&self, start: StateIdx, locale: Locale) -> anyhow::Result<String> {
        let row = self
            .state
            .store
            .start_sms_conversation(
                &self.msg.from,
                &self.flows().state_key(start),
                locale.as_str(),
                self.sender.as_ref(),
            )
            .await?;
        self.replay(&row, start, &[]).await
    }

    /// The screen after `inputs`; a conversation that ended is closed.
    async fn replay(
        &self,
        row: &ConversationRow,
        start: StateIdx,
        inputs: &[String],
    ) -> anyhow::Result<String> {
        let locale = self
            .known(&row.locale)
            .unwrap_or_else(|| self.state.settings.default_locale.clone());
        let session = self.session(format!("sms:{}", row.id), locale, Some(row));
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let screen = self
            .state
            .engine
            .run_from(&session, start, &inputs, &self.state.work)
            .await?;
        if screen.end {
            self.state
                .store
                .end_sms_conversation(&self.msg.from)
                .await?;
        }
        Ok(screen.text)
    }

    async fn continue_or_help(&self) -> anyhow::Result<String> {
        let Some(row) = &self.open else {
            if self.timed_out {
                return self.timed_out_reply().await;
            }
            return Ok(self.help(&self.locale(None)));
        };
        let Some(start) = self.flows().state_by_key(&row.start_state) else {
            // The flows changed under a conversation: start again kindly.
            self.state
                .store
                .end_sms_conversation(&self.msg.from)
                .await?;
            return Ok(self.text(&self.locale(None), "sms-expired"));
        };
        let key = format!("{}:{}", self.msg.provider, self.msg.message_id);
        let answer = keywords::trim(&self.msg.body);
        self.state
            .store
            .add_sms_input(&row.id, &key, answer)
            .await?;
        let inputs = self.state.store.sms_inputs(&row.id, Some(&key)).await?;
        if inputs.len() > MAX_INPUTS {
            // Back and forth without end: every message replays them all.
            self.state
                .store
                .end_sms_conversation(&self.msg.from)
                .await?;
            let locale = self.locale(None);
            return Ok(self.text(&locale, "error-too-many-sms"));
        }
        self.replay(row, start, &inputs).await
    }

    /// A message after the conversation timed out. Within the resume
    /// window, with answers of a report, it is offered to be continued or
    /// started again (counts only, no answer shown: a shared phone), and
    /// the next message chooses; otherwise the conversation ends.
    async fn timed_out_reply(&self) -> anyhow::Result<String> {
        let expire = || async {
            self.state
                .store
                .end_sms_conversation(&self.msg.from)
                .await?;
            anyhow::Ok(self.text(&self.locale(None), "sms-expired"))
        };
        let Some(row) = &self.expired else {
            return expire().await;
        };
        let settings = &self.state.settings;
        let idle = self.state.store.clock().now_ms() - row.updated_at;
        let kept = (settings.sms_session_ttl + settings.resume_window).as_millis() as i64;
        let Some(start) = self
            .flows()
            .state_by_key(&row.start_state)
            .filter(|_| idle <= kept)
        else {
            return expire().await;
        };
        let locale = self
            .known(&row.locale)
            .unwrap_or_else(|| settings.default_locale.clone());
        let inputs = self.state.store.sms_inputs(&row.id, None).await?;
        let answers: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let session = self.session(format!("sms:{}", row.id), locale.clone(), Some(row));
        let progress = match self
            .state
            .engine
            .progress_from(&session, start, &answers, &self.state.work)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "a timed-out conversation's answers could not be replayed");
                None
            }
        };
        let Some(progress) = progress else {
            return expire().await;
        };
        if !row.offered {
            self.state.store.offer_sms_resume(&row.id).await?;
            return Ok(offer_text(self.state, &locale, progress, false));
        }
        let restart = match keywords::trim(&self.msg.body) {
            "1" => false,
            "2" => true,
            _ => return Ok(offer_text(self.state, &locale, progress, true)),
        };
        self.state
            .store
            .resume_sms_conversation(&row.id, restart)
            .await?;
        let kept: &[&str] = if restart { &[] } else { &answers };
        let screen = self
            .state
            .engine
            .run_from_continued(&session, start, kept, kept.len(), &self.state.work)
            .await?;
        Ok(screen.text)
    }

    /// `HELP REPORT`: the layout of the form the keyword names, with its
    /// codes (`<usage>-help`) where the texts have them.
    fn form_help(&self, locale: &Locale, after: &str) -> Option<String> {
        let word = keywords::words(after).into_iter().next()?;
        let (i, _) = self
            .state
            .grammar
            .find(self.flows(), word.text, true, self.audience())
            .ok()?;
        let SmsTarget::Conversation {
            form: Some(form), ..
        } = &self.flows().sms[i].target
        else {
            return None;
        };
        let detailed = [form.usage.as_str(), "-help"].concat();
        let texts = self.state.engine.texts();
        let id = match texts.message(locale, &detailed) {
            Some(_) => detailed.as_str(),
            None => form.usage.as_str(),
        };
        Some(texts.plain(locale, id))
    }

    /// `LANG` alone lists the choices; `LANG FR` (a code or a language's
    /// name) sets it: in a volunteer's profile, and for the conversation
    /// under way, whose question is asked again in the new language.
    async fn language(&self, locale: &Locale, after: &str) -> anyhow::Result<String> {
        let texts = self.state.engine.texts();
        let wanted = keywords::words(after)
            .first()
            .map(|w| keywords::fold(w.text));
        let chosen = wanted.and_then(|w| {
            texts
                .locales()
                .find(|l| {
                    keywords::fold(l.as_str()) == w
                        || keywords::fold(&texts.plain(l, &format!("language-{l}"))) == w
                })
                .cloned()
        });
        let Some(chosen) = chosen else {
            return Ok(self.text(locale, "sms-language-usage"));
        };
        if let Some(s) = &self.sender {
            self.state
                .store
                .set_volunteer_locale(s.volunteer_id, &chosen)
                .await?;
        }
        let mut reply = self.text(&chosen, "sms-language-set");
        if let Some(row) = &self.open {
            self.state
                .store
                .set_sms_conversation_locale(&row.id, chosen.as_str())
                .await?;
            if let Some(start) = self.flows().state_by_key(&row.start_state) {
                let mut row = row.clone();
                row.locale = chosen.to_string();
                let inputs = self.state.store.sms_inputs(&row.id, None).await?;
                reply.push('\n');
                reply.push_str(&self.replay(&row, start, &inputs).await?);
            }
        }
        Ok(reply)
    }

    /// `ACK <reference>` from a staff phone: the case's first response.
    async fn ack(&self, locale: &Locale, after: &str) -> anyhow::Result<String> {
        let texts = self.state.engine.texts();
        let with_ref = |id: &str, r: &str| {
            texts.format(locale, id, Some(&args([("reference", r.to_string())])))
        };
        let Some(word) = keywords::words(after).into_iter().next() else {
            return Ok(self.text(locale, "sms-ack-usage"));
        };
        let reference = match CaseRef::parse(word.text) {
            Ok(r) => r,
            Err(CaseRefError::CheckDigit) => {
                return Ok(with_ref("error-reference-check", word.text))
            }
            Err(_) => return Ok(self.text(locale, "sms-ack-usage")),
        };
        let changed = self
            .state
            .work
            .record_stage(
                &reference,
                StageChange::Acknowledge,
                &self.msg.from,
                None,
                "sms",
                format!("sms:{}:{}", self.msg.provider, self.msg.message_id),
            )
            .await;
        Ok(match changed {
            Ok(_) => with_ref("sms-ack-done", reference.as_str()),
            Err(CaseError::NoCase(_)) => with_ref("error-reference-unknown", reference.as_str()),
            Err(CaseError::OtherCentre { .. }) => {
                with_ref("sms-ack-other-centre", reference.as_str())
            }
            Err(CaseError::NotAllowed { .. }) => with_ref("sms-ack-already", reference.as_str()),
            Err(CaseError::NotStaff(_)) => self.text(locale, "sms-staff-only"),
            Err(CaseError::Forbidden(_)) => self.text(locale, "sms-ack-not-your-role"),
            Err(CaseError::Invalid(e)) => return Err(anyhow::anyhow!(e)),
            Err(CaseError::Store(e)) => return Err(e.into()),
        })
    }

    /// A volunteer's recent reports and their stages.
    async fn status(&self, locale: &Locale) -> anyhow::Result<String> {
        let Some(s) = &self.sender else {
            return Ok(self.text(locale, "sms-volunteers-only"));
        };
        let texts = self.state.engine.texts();
        let rows = self
            .state
            .store
            .recent_reports(s.volunteer_id, RECENT_REPORTS)
            .await?;
        if rows.is_empty() {
            return Ok(self.text(locale, "my-reports-none"));
        }
        let mut lines = vec![self.text(locale, "my-reports")];
        for (reference, stage) in rows {
            let stage = texts.plain(locale, &format!("stage-{stage}"));
            let args = args([("reference", reference.to_string()), ("stage", stage)]);
            lines.push(texts.format(locale, "my-reports-item", Some(&args)));
        }
        Ok(lines.join("\n"))
    }
}
