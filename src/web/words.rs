//! A page's words, in the reader's language: Fluent messages by id (the
//! `web-*` ids of `locales/<lang>/web.ftl`), the flows' labels for stages
//! and concerns, and times in the deployment's zone.

use std::sync::Arc;

use chrono::DateTime;

use crate::{casework::CaseWork, domain::Locale, text::Texts};

/// What a template calls to write its words.
pub struct Words {
    texts: Arc<Texts>,
    pub locale: Locale,
    work: CaseWork,
    timezone: chrono_tz::Tz,
}

impl Words {
    pub fn new(work: &CaseWork, locale: Locale, timezone: chrono_tz::Tz) -> Self {
        let texts = work.words.texts.clone();
        let work = work.clone();
        let locale = if texts.has_locale(&locale) {
            locale
        } else {
            texts.reference().clone()
        };
        Words {
            texts,
            locale,
            work,
            timezone,
        }
    }

    /// A message by id.
    pub fn t(&self, id: &str) -> String {
        self.texts.plain(&self.locale, id)
    }

    /// A message with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let args = crate::text::args([(name, value.to_string())]);
        self.texts.format(&self.locale, id, Some(&args))
    }

    /// The language tag, for `<html lang>`.
    pub fn lang(&self) -> &str {
        self.locale.as_str()
    }

    /// This language is a draft, not yet reviewed by a native speaker.
    pub fn draft(&self) -> bool {
        self.texts.is_draft(&self.locale)
    }

    pub fn stage(&self, stage: &str) -> String {
        self.t(&format!("stage-{stage}"))
    }

    pub fn concern(&self, value: &str) -> String {
        self.work.words.concern(&self.locale, value)
    }

    /// A case's answer to `var`, as the flows label it, or a web message
    /// `web-<var>-<value>`, or the value itself.
    pub fn answer(&self, var: &str, value: &str) -> String {
        self.work
            .words
            .option(&self.locale, var, value)
            .unwrap_or_else(|| self.named(var, value))
    }

    /// An event's outcome: a visit's (as the flows label it), a stage, a
    /// closing reason, a service or a referral's outcome.
    pub fn outcome(&self, value: &str) -> String {
        if let Some(l) = self.work.words.option(&self.locale, "outcome", value) {
            return l;
        }
        for prefix in ["reason", "service", "outcome"] {
            let id = format!("web-{prefix}-{}", value.replace('_', "-"));
            if self.texts.message(&self.locale, &id).is_some() {
                return self.t(&id);
            }
        }
        if crate::domain::Stage::parse(value).is_some() {
            return self.stage(value);
        }
        value.to_string()
    }

    /// A web message named `web-<prefix>-<value>` (an event kind, a
    /// deadline, a reason), or the value itself when there is none.
    pub fn named(&self, prefix: &str, value: &str) -> String {
        let id = format!("web-{prefix}-{}", value.replace('_', "-"));
        if self.texts.message(&self.locale, &id).is_some() {
            self.t(&id)
        } else {
            value.to_string()
        }
    }

    /// An RFC 3339 time as `2026-12-03 14:05`, local time.
    pub fn time(&self, rfc3339: &str) -> String {
        match DateTime::parse_from_rfc3339(rfc3339) {
            Ok(t) => t
                .with_timezone(&self.timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            Err(_) => rfc3339.to_string(),
        }
    }
}
