//! The USSD service: finds or starts a session's snapshot, runs the engine,
//! and turns every failure into a polite closing screen.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::Channels;
use crate::{
    domain::{Channel, Locale, Phone},
    engine::{Screen, Session, VolunteerSnapshot},
    store::SessionRow,
};

/// Inputs a session may carry before it is refused unread.
pub const MAX_INPUTS: usize = 80;

/// A channel-neutral USSD hop: who, which session, and everything typed so
/// far, each input separated by `*` as USSD strings themselves are (empty on
/// the dial).
#[derive(Clone, Debug)]
pub struct UssdHop {
    pub session_id: String,
    pub phone: Phone,
    pub typed: String,
}

impl UssdHop {
    /// The inputs, oldest first.
    pub fn inputs(&self) -> Vec<&str> {
        match self.typed.is_empty() {
            true => vec![],
            false => self.typed.split('*').collect(),
        }
    }
}

/// Session snapshots never change once written, so every server may keep
/// copies: a miss reads the database, which stays the one source of truth.
/// Kept as the engine's [`Session`], built once per session and shared by
/// its hops.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    map: Mutex<HashMap<String, (Arc<Session>, Instant)>>,
}

const CACHE_CAP: usize = 50_000;

impl SnapshotCache {
    fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map.lock().ok()?.get(id).map(|(s, _)| s.clone())
    }

    fn put(&self, id: &str, session: Arc<Session>, ttl: Duration) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() >= CACHE_CAP {
            map.retain(|_, (_, at)| at.elapsed() < ttl);
            if map.len() >= CACHE_CAP {
                map.clear();
            }
        }
        map.insert(id.to_string(), (session, Instant::now()));
    }

    pub fn forget_older_than(&self, ttl: Duration) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, (_, at)| at.elapsed() < ttl);
        }
    }
}

/// Answers one hop. Never fails: an internal error is logged with its cause
/// and the person gets a localized apology.
pub async fn answer(state: &Channels, hop: UssdHop) -> Screen {
    match try_answer(state, &hop).await {
        Ok(screen) => screen,
        Err((locale, e)) => {
            tracing::error!(session = %hop.session_id, phone = %hop.phone.redacted(), error = %e, "USSD hop failed");
            state.engine.apology(&locale)
        }
    }
}

async fn try_answer(state: &Channels, hop: &UssdHop) -> Result<Screen, (Locale, anyhow::Error)> {
    let session = snapshot(state, hop)
        .await
        .map_err(|e| (state.settings.default_locale.clone(), e))?;
    let session = &*session;
    // Counted before splitting: a text of a million `*` costs no list.
    if hop.typed.matches('*').count() >= MAX_INPUTS {
        return Ok(state.engine.too_many_tries(&session.locale));
    }
    let inputs = hop.inputs();
    state
        .engine
        .run(session, &inputs, &state.work)
        .await
        .map_err(|e| (session.locale.clone(), e.into()))
}

async fn snapshot(state: &Channels, hop: &UssdHop) -> anyhow::Result<Arc<Session>> {
    let session = match state.sessions.get(&hop.session_id) {
        Some(session) => session,
        None => {
            // On the dial the session is new: skip the look-up.
            let stored = match hop.typed.is_empty() {
                true => None,
                false => state.store.session(&hop.session_id).await?,
            };
            let row = match stored {
                Some(row) => row,
                None => {
                    state
                        .store
                        .start_session(
                            &hop.session_id,
                            &hop.phone,
                            state.settings.default_locale.as_str(),
                        )
                        .await?
                }
            };
            let session = Arc::new(session_of(state, row));
            state.sessions.put(
                &hop.session_id,
                session.clone(),
                state.settings.ussd_session_ttl,
            );
            session
        }
    };
    if session.phone != hop.phone {
        anyhow::bail!("session {} belongs to another phone", hop.session_id);
    }
    Ok(session)
}

/// The engine's view of a stored snapshot.
fn session_of(state: &Channels, row: SessionRow) -> Session {
    let locale = Locale::parse(&row.locale)
        .ok()
        .filter(|l| state.engine.texts().has_locale(l))
        .unwrap_or_else(|| state.settings.default_locale.clone());
    Session {
        key: ["ussd:", &row.session_id].concat(),
        phone: Phone::from_trusted(row.phone),
        locale,
        channel: Channel::Ussd,
        volunteer: row.volunteer_id.map(|id| VolunteerSnapshot {
            id,
            village_id: row.village_id,
            village_name: row.village_name,
        }),
    }
}

/// Purges abandoned sessions now and then, for the life of the server.
pub async fn purge_loop(state: Channels) {
    let ttl = state.settings.ussd_session_ttl;
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let before = state.store.clock().now_ms() - ttl.as_millis() as i64;
        match state.store.purge_sessions(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "abandoned USSD sessions purged"),
            Err(e) => tracing::warn!(error = %e, "could not purge USSD sessions"),
        }
        state.sessions.forget_older_than(ttl);
    }
}
