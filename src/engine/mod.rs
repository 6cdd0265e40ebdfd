//! The flow engine: from a session and the inputs typed so far, the next
//! screen. Pure: it knows no gateway, no wire format and no SQL, and does
//! no I/O of its own; data and effects go through its port, [`Backend`],
//! which the app implements once (`app/port.rs`).
//!
//! A session is a pure function of its start snapshot and its inputs, so the
//! engine replays the inputs on every hop. Nothing a hop needs lives in
//! process memory, a retried hop gets the same screen, and two servers can
//! serve alternating hops. Effects run only for the newest input, and the
//! backend makes each of them idempotent by the session's key.
//!
//! - `flows/`: the flows as data, loaded and checked;
//! - `replay.rs`: one answer after another, from a session's start;
//! - `form.rs`: a one-message SMS form, every field at once;
//! - `render.rs`, `paging.rs`, `screens.rs`: the screen, in the session's
//!   language, paged to the budget, cached when it reads no variable;
//! - `keywords.rs`: words as people type them (case, accents, typos);
//! - `check.rs`: `kanda check`, every flow and text against each other.
//!
//! Imports `domain` and `text` only.

use std::sync::Arc;

use crate::{
    domain::Locale,
    text::{gsm::UssdBudget, Texts},
};
use flows::{FlowSet, StateIdx};

pub mod check;
pub mod flows;
mod form;
pub mod keywords;
mod paging;
mod port;
mod progress;
mod render;
mod replay;
mod screens;
mod session;

pub use form::FormReply;
pub use paging::{numbered, paginate, Layout};
pub use port::{Backend, BackendResult};
pub use progress::Progress;
pub use session::{Screen, Session, VolunteerSnapshot};

/// Failed answers on one screen before the session ends politely.
pub const MAX_FAILURES: u8 = 3;
/// Longest input any screen accepts; anything longer is refused unread.
pub const MAX_INPUT: usize = 160;
/// How many reports "my recent reports" shows.
pub const RECENT_REPORTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("storage: {0:#}")]
    Backend(#[from] anyhow::Error),
    #[error("flow data: {0}")]
    Flow(String),
}

#[derive(Clone)]
pub struct Engine {
    flows: Arc<FlowSet>,
    texts: Arc<Texts>,
    budget: UssdBudget,
    screens: Arc<screens::ScreenCache>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
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

    /// The screen after `inputs`, of which the first `settled` were
    /// answered in an earlier session and are replayed with no effect (a
    /// report continued after a dropped session).
    pub async fn run_continued<'e, B: Backend>(
        &'e self,
        session: &'e Session,
        inputs: &[&str],
        settled: usize,
        backend: &B,
    ) -> Result<Screen, EngineError> {
        let start = self.flows.start(session.entry());
        self.run_from_continued(session, start, inputs, settled, backend)
            .await
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
        self.run_from_continued(session, start, inputs, 0, backend)
            .await
    }

    /// Replays `inputs` from `start`: only the newest one's effects run,
    /// and none of the first `settled` (answered before: an SMS
    /// conversation continued after it timed out).
    pub async fn run_from_continued<'e, B: Backend>(
        &'e self,
        session: &'e Session,
        start: StateIdx,
        inputs: &[&str],
        settled: usize,
        backend: &B,
    ) -> Result<Screen, EngineError> {
        let mut run = self.new_run(session);
        self.enter(&mut run, start, false, backend).await?;
        for (i, input) in inputs.iter().enumerate() {
            if run.ended.is_some() {
                break;
            }
            let live = i + 1 == inputs.len() && i >= settled;
            self.answer(&mut run, input.trim(), live, backend).await?;
        }
        self.render(&run, backend).await
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

    /// `text` cut to one screen, as every screen is.
    pub fn fit(&self, text: &str) -> String {
        self.budget.truncate(text)
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
