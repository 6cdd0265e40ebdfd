//! The case work: what happens to a report once it is a case. A new case
//! is alerted to its centre's staff on duty and chased up the centre's
//! escalation chain until someone acknowledges; staff move it through its
//! stages, each with its case-management deadline (first response,
//! assessment, plan, review, the check after closure); a missed one
//! reminds its owner and shows in the managers' daily digest; volunteers
//! are reminded of follow-up visits. Every outgoing SMS goes through the
//! durable outbox, which refuses any the public did not ask for.
//!
//! - `cases.rs`: stage changes and a case read back whole; `staff_work.rs`:
//!   the rest of staff's case work (assign, notes, transfers, referrals,
//!   follow-up); `access.rs`: sign-in, sessions, API tokens, the audit log;
//! - `admin.rs`: a centre's staff, volunteers, rota and chain as managers
//!   and administrators keep them (lists, additions, deactivation, CSV
//!   imports through the [`admin::CsvImport`] port the app implements);
//! - `alerts.rs`, `deadlines.rs`, `digest.rs`, `sweep.rs`: what each timer
//!   does, and what schedules it (`timers.rs` names them, `handler.rs`
//!   dispatches, `notify.rs` writes the SMS);
//! - `rota.rs`: who is on duty; `quiet.rs`: when reminders wait;
//! - `scheduler.rs`: the durable timers' runner; `outbox/`: the SMS outbox
//!   and its worker, sending through the port the gateways implement;
//!   `primero/`: cases pushed to Primero, through the port the gateway
//!   layer implements; `worker.rs`: both workers' handle; `backoff.rs`:
//!   the retry delays they and the scheduler use.
//!
//! Imports `store`, `text` and `domain`; never the engine, a channel or a
//! gateway.

pub mod access;
pub mod admin;
mod alerts;
pub mod backoff;
mod cases;
mod deadlines;
mod digest;
mod handler;
pub mod indicators;
mod notify;
pub mod outbox;
pub mod primero;
mod quiet;
pub mod retention;
pub mod rota;
pub mod scheduler;
mod staff_work;
mod sweep;
pub mod timers;
pub mod worker;

use std::{collections::BTreeMap, ops::Deref, sync::Arc};

pub use alerts::short_duration;
pub use cases::{staff_actor, CaseError, CaseView, Changed, Deadline};
pub use deadlines::Deadlines;
pub use handler::CaseTimers;
pub use quiet::QuietHours;
pub use staff_work::{CaseFile, Work, MAX_TEXT};

use crate::{
    domain::{meter, CaseRef, Locale, Meter, NewCase, NewSms, NewVisit},
    store::{Store, StoreError},
    text::Texts,
};

/// The case work, over a store and an outbox; cheap to clone.
#[derive(Clone, Debug)]
pub struct CaseWork(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub store: Store,
    /// Every SMS the case work sends is queued here.
    pub outbox: outbox::Outbox,
    pub settings: Settings,
    pub words: Words,
    /// Where cases created are counted (the app's metrics).
    pub meter: Meter,
}

/// The case work's settings (from `app::Config`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long each step may take.
    pub deadlines: Deadlines,
    /// The deployment's time zone: rotas, quiet hours and digests are in
    /// its local time.
    pub timezone: chrono_tz::Tz,
    /// Local hours when reminders and digests wait; `None`: never.
    pub quiet_hours: Option<QuietHours>,
    /// A web session ends after this long without a request (`KANDA_WEB_SESSION_TTL`).
    pub session_ttl: std::time::Duration,
    /// Closed cases lose their identifying fields after this long
    /// (`KANDA_RETENTION`); `None`: kept.
    pub retention: Option<std::time::Duration>,
}

/// The words alerts and reminders are written in.
#[derive(Debug)]
pub struct Words {
    pub texts: Arc<Texts>,
    /// Each concern's value (`neglect`) and the message id of its label,
    /// as the flows show it (`concern-neglect`).
    pub concern_labels: BTreeMap<String, String>,
    /// The message ids of other answers' labels (sex, care, disability,
    /// a visit's outcome), by variable and value, as the flows show them.
    pub option_labels: BTreeMap<String, BTreeMap<String, String>>,
}

impl Words {
    /// An answer (`care` = `relatives`) as the flows label it, in `locale`.
    pub fn option(&self, locale: &Locale, var: &str, value: &str) -> Option<String> {
        let id = self.option_labels.get(var)?.get(value)?;
        Some(self.texts.plain(locale, id))
    }

    /// A concern as an alert names it, in `locale` (its stored value when
    /// the flows have no label for it).
    pub fn concern(&self, locale: &Locale, value: &str) -> String {
        match self.concern_labels.get(value) {
            Some(id) => self.texts.plain(locale, id),
            None => value.to_string(),
        }
    }
}

impl Deref for CaseWork {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl CaseWork {
    pub fn new(
        store: Store,
        outbox: outbox::Outbox,
        settings: Settings,
        words: Words,
        meter: Meter,
    ) -> Self {
        CaseWork(Arc::new(Inner {
            store,
            outbox,
            settings,
            words,
            meter,
        }))
    }

    /// Saves a confirmed report as a case, once per its source key, and
    /// schedules its alert (a case saved without it, in a crash, is found
    /// by the sweep within a minute). Counted by channel when this call
    /// made it, not when a retried hop found it made.
    pub async fn register_case(&self, case: &NewCase) -> Result<CaseRef, StoreError> {
        let (reference, made) = self.store.create_case_once(case).await?;
        if made {
            self.meter
                .count(meter::CASES_CREATED, &[("channel", case.channel.as_str())]);
        }
        if let Err(e) = deadlines::case_registered(self, &reference).await {
            tracing::error!(error = %format!("{e:#}"), "alert not scheduled at once");
        }
        Ok(reference)
    }

    /// Records a visit on its case's timeline, once per its source key,
    /// and moves the case's timers with it (a worse visit alerts at once).
    pub async fn log_visit(&self, visit: &NewVisit) -> Result<(), StoreError> {
        self.store.log_visit(visit).await?;
        if let Err(e) =
            deadlines::visit_logged(self, &visit.reference, &visit.outcome, &visit.source_key).await
        {
            tracing::error!(error = %format!("{e:#}"), "visit's timers not moved");
        }
        if let Some(id) = self.store.case_id(&visit.reference).await? {
            self.store.refresh_overdue(id).await?;
        }
        Ok(())
    }

    /// Queues an SMS durably and wakes the outbox's worker (see
    /// [`outbox::Outbox::enqueue`]).
    pub async fn send_sms(&self, msg: NewSms) -> Result<i64, outbox::OutboxError> {
        self.outbox.enqueue(&self.store, msg).await
    }

    /// Schedules what a crash may have left unscheduled since `since_ms`
    /// (see `sweep.rs`).
    pub async fn sweep(&self, since_ms: i64) -> anyhow::Result<()> {
        sweep::sweep(self, since_ms).await
    }

    /// The sweep over every case now, then over the last hour every
    /// minute, for the life of the server.
    pub async fn sweep_loop(self) {
        sweep::sweep_loop(self).await
    }

    /// The scheduler's handler for the case timers.
    pub fn timers(&self) -> CaseTimers {
        CaseTimers(self.clone())
    }
}
