//! The channels: how people reach Kanda, gateway-neutral. A USSD hop or an
//! inbound SMS comes in as plain data (who, which session, what was typed)
//! and goes out as the text to show; the gateways above turn wire formats
//! into these and back. Reference data arrives through the CSV importer.
//!
//! - `ussd.rs`: a hop, its session's snapshot, the engine's screen;
//! - `sms/`: keywords, one-message forms, guided conversations, ACK;
//! - `import.rs`: `kanda import`, row-numbered, all or nothing per file.
//!
//! A channel never fails its caller: an internal error is logged with its
//! cause and the person gets a localized apology. Imports `engine`,
//! `casework`, `store`, `text` and `domain`.

pub mod import;
pub mod sms;
pub mod ussd;

use std::{ops::Deref, sync::Arc, time::Duration};

use crate::{
    casework::CaseWork,
    domain::{Locale, PhoneReader},
    engine::Engine,
    store::Store,
};

/// What the channels need, shared by every request; cheap to clone.
#[derive(Clone, Debug)]
pub struct Channels(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub store: Store,
    pub engine: Engine,
    /// The case work: the engine's port is implemented over it (`app/port.rs`).
    pub work: CaseWork,
    pub settings: Settings,
    /// Reads phone numbers in the deployment's country.
    pub phones: PhoneReader,
    sessions: ussd::SnapshotCache,
    grammar: sms::Grammar,
}

/// The channels' settings (from `app::Config`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Language for phones with no profile.
    pub default_locale: Locale,
    /// Abandoned USSD sessions are purged after this.
    pub ussd_session_ttl: Duration,
    /// A USSD session with no hop for this long has ended unfinished.
    pub ussd_session_timeout: Duration,
    /// A session that ended unfinished is offered on the same phone's next
    /// dial for this long after its last hop; then its answers are purged.
    pub resume_window: Duration,
    /// SMS conversations end after this long without a message.
    pub sms_session_ttl: Duration,
}

impl Channels {
    pub fn new(
        store: Store,
        engine: Engine,
        work: CaseWork,
        settings: Settings,
        phones: PhoneReader,
    ) -> Self {
        let grammar = sms::Grammar::new(engine.flows());
        Channels(Arc::new(Inner {
            store,
            engine,
            work,
            settings,
            phones,
            sessions: Default::default(),
            grammar,
        }))
    }
}

impl Deref for Channels {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
