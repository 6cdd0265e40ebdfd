//! The USSD service: finds or starts a session, works out everything typed
//! in it (Africa's Talking sends it all on each hop; most aggregators only
//! the latest input, added here to what the session kept), offers to
//! continue a report a dropped line cut short, runs the engine, and turns
//! every failure into a polite closing screen.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::Channels;
use crate::{
    domain::{Channel, Locale, Phone},
    engine::{numbered, Progress, Screen, Session, VolunteerSnapshot, MAX_FAILURES},
    store::SessionRow,
    text::args,
};

/// Inputs a session may carry before it is refused unread.
pub const MAX_INPUTS: usize = 80;

/// A gateway that sends no sequence number: the same input again within
/// this long of the last hop is its retry, not a new answer (a person reads
/// a screen and presses a key in more time than that).
pub const RETRY_WINDOW: Duration = Duration::from_secs(2);

/// What a hop brings of what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Typed {
    /// Every input so far, each separated by `*` as USSD strings are
    /// (Africa's Talking's `text`; empty on the dial).
    All(String),
    /// The dial of a gateway that sends inputs one at a time.
    Dial,
    /// The latest input only, with the hop's sequence number when the
    /// protocol has one.
    Latest { input: String, seq: Option<String> },
}

/// A channel-neutral USSD hop: who, which session, what was typed.
#[derive(Clone, Debug)]
pub struct UssdHop {
    pub session_id: String,
    pub phone: Phone,
    pub typed: Typed,
}

impl UssdHop {
    /// A hop of a gateway that sends every input so far.
    pub fn all(session_id: String, phone: Phone, text: String) -> Self {
        UssdHop {
            session_id,
            phone,
            typed: Typed::All(text),
        }
    }

    fn is_dial(&self) -> bool {
        matches!(&self.typed, Typed::All(t) if t.is_empty()) || self.typed == Typed::Dial
    }
}

/// Session snapshots never change once written, nor does a session's
/// answer to the offer to continue once given, so every server may keep
/// copies: a miss reads the database, which stays the one source of truth.
/// Kept as the engine's [`Session`], built once per session and shared by
/// its hops.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    map: Mutex<HashMap<String, (Cached, Instant)>>,
}

#[derive(Clone, Debug)]
struct Cached {
    session: Arc<Session>,
    resumed: Resumed,
    /// For a gateway that sends the latest input only: what this server
    /// last saw typed (a hop served elsewhere since is caught by the save,
    /// which names the retry key it follows).
    known: Option<Known>,
}

/// What was typed in a session so far, and its last hop's retry key and
/// time.
#[derive(Clone, Debug)]
struct Known {
    inputs: Vec<String>,
    /// `inputs` as the database holds them (sealed): what the next save
    /// compares.
    stored: String,
    last_key: Option<String>,
    updated_at: i64,
}

impl Known {
    fn of(row: &SessionRow) -> Self {
        Known {
            inputs: row.inputs.clone(),
            stored: row.stored_inputs.clone(),
            last_key: row.last_key.clone(),
            updated_at: row.updated_at,
        }
    }
}

const CACHE_CAP: usize = 50_000;

impl SnapshotCache {
    fn get(&self, id: &str) -> Option<Cached> {
        self.map.lock().ok()?.get(id).map(|(s, _)| s.clone())
    }

    fn forget(&self, id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(id);
        }
    }

    fn put(&self, id: &str, session: Cached, ttl: Duration) {
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

/// The gateway's word that a session is over (Africa's Talking's session
/// notification, an aggregator's release or time-out): `completed` when it
/// ended on its last screen. A dropped session may be continued on the
/// next dial.
pub async fn ended(state: &Channels, session_id: &str, completed: bool) -> anyhow::Result<bool> {
    Ok(state.store.end_session(session_id, completed).await?)
}

/// A session's offer to continue, once answered: the answers taken over
/// and how many of the session's own inputs the offer used.
#[derive(Clone, Debug, Default)]
struct Resumed {
    prefix: Arc<Vec<String>>,
    skip: usize,
}

async fn try_answer(state: &Channels, hop: &UssdHop) -> Result<Screen, (Locale, anyhow::Error)> {
    for fresh in [false, true, true] {
        if let Some(screen) = attempt(state, hop, fresh).await? {
            return Ok(screen);
        }
        // Another server took a hop of this session meanwhile: read it.
        state.sessions.forget(&hop.session_id);
    }
    Err((
        state.settings.default_locale.clone(),
        anyhow::anyhow!("session {} kept moving under this hop", hop.session_id),
    ))
}

/// One try at a hop; `None` when what this server knew of the session was
/// stale (`fresh`: read it from the database, not the cache).
async fn attempt(
    state: &Channels,
    hop: &UssdHop,
    fresh: bool,
) -> Result<Option<Screen>, (Locale, anyhow::Error)> {
    let fail = |locale: &Locale| {
        let locale = locale.clone();
        move |e: anyhow::Error| (locale, e)
    };
    let default = &state.settings.default_locale;
    let (session, row, known) = load(state, hop, fresh).await.map_err(fail(default))?;
    let locale = &session.locale;
    if session.phone != hop.phone {
        return Err((
            locale.clone(),
            anyhow::anyhow!("session {} belongs to another phone", hop.session_id),
        ));
    }
    // Everything typed in this session, as the gateway counts inputs; for
    // a gateway that sends the latest input, the save that must come first.
    let (typed, key, changed, follows) = match &hop.typed {
        Typed::All(text) => {
            // Counted before splitting: a text of a million `*` costs no list.
            if text.matches('*').count() >= MAX_INPUTS {
                return Ok(Some(state.engine.too_many_tries(locale)));
            }
            let typed: Vec<String> = match text.is_empty() {
                true => vec![],
                false => text.split('*').map(str::to_string).collect(),
            };
            (typed, None, !text.is_empty(), None)
        }
        Typed::Dial => (
            known.map(|k| k.inputs).unwrap_or_default(),
            None,
            false,
            None,
        ),
        Typed::Latest { input, seq } => {
            let known = known.ok_or_else(|| {
                (
                    locale.clone(),
                    anyhow::anyhow!("session {} not loaded", hop.session_id),
                )
            })?;
            let key = seq.clone().unwrap_or_else(|| input.clone());
            let now = state.store.clock().now_ms();
            let retry = known.last_key.as_deref() == Some(key.as_str())
                && (seq.is_some() || now - known.updated_at <= RETRY_WINDOW.as_millis() as i64);
            if retry && row.is_none() {
                // A retry seen through this server's copy: make sure with
                // the database's (no other hop came in between).
                return Ok(None);
            }
            let mut typed = known.inputs.clone();
            if !retry {
                typed.push(input.clone());
            }
            (typed, Some(key), !retry, Some(known.stored))
        }
    };
    if typed.len() > MAX_INPUTS {
        return Ok(Some(state.engine.too_many_tries(locale)));
    }
    // A new input of a one-input gateway is saved before anything runs,
    // after the hop this server knew of: an effect never runs on a stale
    // list (a hop another server took since fails the save: read again).
    if let (true, Some(previous)) = (changed, &follows) {
        let saved = state
            .store
            .save_hop_after(&hop.session_id, &typed, key.as_deref(), previous)
            .await
            .map_err(|e| (locale.clone(), e.into()))?;
        let Some(stored) = saved else {
            return Ok(None);
        };
        // Kept for the next hop unless an offer is still to be answered
        // (the next hop must read it).
        let settled = row
            .as_ref()
            .is_none_or(|r| r.resume_of.is_none() || r.resumed.is_some());
        let row_resumed = state.sessions.get(&hop.session_id).map(|c| c.resumed);
        if settled {
            state.sessions.put(
                &hop.session_id,
                Cached {
                    session: session.clone(),
                    resumed: row
                        .as_ref()
                        .map(resumed_of)
                        .or(row_resumed)
                        .unwrap_or_default(),
                    known: Some(Known {
                        inputs: typed.clone(),
                        stored,
                        last_key: key.clone(),
                        updated_at: state.store.clock().now_ms(),
                    }),
                },
                state.settings.ussd_session_ttl,
            );
        }
    }
    let resumed = match resumed(state, hop, &session, row.as_ref(), &typed)
        .await
        .map_err(fail(locale))?
    {
        Ok(r) => r,
        Err(offer) => {
            if changed && follows.is_none() {
                save(state, hop, &typed, key.as_deref(), false)
                    .await
                    .map_err(fail(locale))?;
            }
            return Ok(Some(offer));
        }
    };
    let mut inputs: Vec<&str> = resumed.prefix.iter().map(String::as_str).collect();
    inputs.extend(typed.iter().skip(resumed.skip).map(String::as_str));
    let screen = state
        .engine
        .run_continued(&session, &inputs, resumed.prefix.len(), &state.work)
        .await
        .map_err(|e| (locale.clone(), e.into()))?;
    if (changed && follows.is_none()) || screen.end {
        save(state, hop, &typed, key.as_deref(), screen.end)
            .await
            .map_err(fail(locale))?;
    }
    Ok(Some(screen))
}

async fn save(
    state: &Channels,
    hop: &UssdHop,
    typed: &[String],
    key: Option<&str>,
    done: bool,
) -> anyhow::Result<()> {
    Ok(state
        .store
        .save_hop(&hop.session_id, typed, key, done)
        .await?)
}

/// The session's start snapshot, its stored row when the hop needs it (a
/// dial, an offer not yet answered, a session this server has not seen or
/// holds stale), and what was typed so far. A settled session is served
/// from the cache without a read: a gateway that sends everything needs
/// nothing more, and one that sends the latest input finds what this
/// server saw last (checked by the save).
async fn load(
    state: &Channels,
    hop: &UssdHop,
    fresh: bool,
) -> anyhow::Result<(Arc<Session>, Option<SessionRow>, Option<Known>)> {
    if !fresh && !hop.is_dial() {
        if let Some(cached) = state.sessions.get(&hop.session_id) {
            match (&hop.typed, cached.known) {
                (Typed::All(_), _) => return Ok((cached.session, None, None)),
                (Typed::Latest { .. }, Some(known)) => {
                    return Ok((cached.session, None, Some(known)))
                }
                _ => {}
            }
        }
    }
    let stored = match hop.is_dial() {
        // On the dial the session is usually new: skip the look-up.
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
    let session = Arc::new(session_of(state, &row));
    let known = Known::of(&row);
    // Cached once settled: not on the dial, which may yet make an offer.
    if !hop.is_dial() && (row.resume_of.is_none() || row.resumed.is_some()) {
        state.sessions.put(
            &hop.session_id,
            Cached {
                session: session.clone(),
                resumed: resumed_of(&row),
                known: Some(known.clone()),
            },
            state.settings.ussd_session_ttl,
        );
    }
    Ok((session, Some(row), Some(known)))
}

fn resumed_of(row: &SessionRow) -> Resumed {
    match &row.resumed {
        Some((prefix, skip)) => Resumed {
            prefix: Arc::new(prefix.clone()),
            skip: *skip,
        },
        None => Resumed::default(),
    }
}

/// The answers an unfinished session holds, as the engine reads them.
fn answers_of(row: &SessionRow) -> Vec<String> {
    let (prefix, skip) = row.resumed.clone().unwrap_or_default();
    prefix
        .into_iter()
        .chain(row.inputs.iter().skip(skip).cloned())
        .collect()
}

/// What the session continues from: `Ok` with the answers taken over (none
/// for most sessions), or `Err` with the offer's screen while the person
/// has not chosen yet.
async fn resumed(
    state: &Channels,
    hop: &UssdHop,
    session: &Session,
    row: Option<&SessionRow>,
    typed: &[String],
) -> anyhow::Result<Result<Resumed, Screen>> {
    let Some(row) = row else {
        // Served from the cache: settled.
        return Ok(Ok(state
            .sessions
            .get(&hop.session_id)
            .map(|c| c.resumed)
            .unwrap_or_default()));
    };
    if row.resumed.is_some() {
        return Ok(Ok(resumed_of(row)));
    }
    let (from, progress) = match &row.resume_of {
        Some(from) => {
            let Some(old) = state.store.session(from).await? else {
                // Purged meanwhile: nothing to continue.
                state
                    .store
                    .answer_offer(&hop.session_id, from, None, typed.len())
                    .await?;
                return Ok(Ok(Resumed {
                    prefix: Arc::default(),
                    skip: typed.len(),
                }));
            };
            let progress = progress_of(state, session, &old).await;
            (old, progress)
        }
        None if typed.is_empty() => {
            let now = state.store.clock().now_ms();
            let silent = state.settings.ussd_session_timeout.as_millis() as i64;
            let window = state.settings.resume_window.as_millis() as i64;
            let Some(old) = state
                .store
                .unfinished_session(&hop.phone, &hop.session_id, now - silent, now - window)
                .await?
            else {
                settle(state, hop, session, row);
                return Ok(Ok(Resumed::default()));
            };
            let Some(progress) = progress_of(state, session, &old).await else {
                settle(state, hop, session, row);
                return Ok(Ok(Resumed::default()));
            };
            state
                .store
                .offer_resume(&hop.session_id, &old.session_id)
                .await?;
            (old, Some(progress))
        }
        None => return Ok(Ok(Resumed::default())),
    };
    let Some(progress) = progress else {
        // The old answers no longer lead anywhere (the flows changed):
        // start again.
        state
            .store
            .answer_offer(&hop.session_id, &from.session_id, None, typed.len())
            .await?;
        return Ok(Ok(Resumed {
            prefix: Arc::default(),
            skip: typed.len(),
        }));
    };
    // The first "1" or "2" answers the offer; anything before it was a
    // wrong key.
    let choice = typed.iter().position(|t| matches!(t.trim(), "1" | "2"));
    let Some(at) = choice else {
        if typed.len() >= MAX_FAILURES as usize {
            return Ok(Err(state.engine.too_many_tries(&session.locale)));
        }
        return Ok(Err(offer(
            state,
            &session.locale,
            progress,
            !typed.is_empty(),
        )));
    };
    let prefix = (typed[at].trim() == "1").then(|| answers_of(&from));
    state
        .store
        .answer_offer(&hop.session_id, &from.session_id, prefix.as_deref(), at + 1)
        .await?;
    let resumed = Resumed {
        prefix: Arc::new(prefix.unwrap_or_default()),
        skip: at + 1,
    };
    state.sessions.put(
        &hop.session_id,
        Cached {
            session: Arc::new(session.clone()),
            resumed: resumed.clone(),
            known: None,
        },
        state.settings.ussd_session_ttl,
    );
    Ok(Ok(resumed))
}

/// A dial with nothing to offer: the session is settled from its first
/// hop, and the next hop is served from the cache without a read.
fn settle(state: &Channels, hop: &UssdHop, session: &Session, row: &SessionRow) {
    state.sessions.put(
        &hop.session_id,
        Cached {
            session: Arc::new(session.clone()),
            resumed: Resumed::default(),
            known: Some(Known::of(row)),
        },
        state.settings.ussd_session_ttl,
    );
}

/// How far an unfinished session got; none when its answers lead nowhere
/// now (the flows changed) or cannot be replayed: then nothing is offered,
/// and the person gets the menu rather than an apology on every dial.
async fn progress_of(state: &Channels, session: &Session, old: &SessionRow) -> Option<Progress> {
    let answers = answers_of(old);
    let answers: Vec<&str> = answers.iter().map(String::as_str).collect();
    match state.engine.progress(session, &answers, &state.work).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(session = %old.session_id, error = %e, "an unfinished session's answers could not be replayed");
            None
        }
    }
}

/// "Continue your unfinished report (3 of 9 answered)" or "Start again":
/// counts only, no answer and no child named (a shared phone).
fn offer(state: &Channels, locale: &Locale, p: Progress, refused: bool) -> Screen {
    Screen {
        text: state.engine.fit(&offer_text(state, locale, p, refused)),
        end: false,
    }
}

/// The offer's words, by USSD or SMS (`refused`: after a wrong key).
pub(super) fn offer_text(state: &Channels, locale: &Locale, p: Progress, refused: bool) -> String {
    let texts = state.engine.texts();
    let counts = args([
        ("answered", p.answered.to_string()),
        ("total", p.total.to_string()),
    ]);
    let mut lines = Vec::new();
    if refused {
        lines.push(texts.format(
            locale,
            "error-choice",
            Some(&args([("max", "2".to_string())])),
        ));
    }
    lines.push(texts.plain(locale, "resume-offer"));
    lines.extend(numbered(vec![
        texts.format(locale, "resume-continue", Some(&counts)),
        texts.plain(locale, "resume-restart"),
    ]));
    lines.join("\n")
}

/// The engine's view of a stored snapshot.
fn session_of(state: &Channels, row: &SessionRow) -> Session {
    let locale = Locale::parse(&row.locale)
        .ok()
        .filter(|l| state.engine.texts().has_locale(l))
        .unwrap_or_else(|| state.settings.default_locale.clone());
    Session {
        key: ["ussd:", &row.session_id].concat(),
        phone: Phone::from_trusted(row.phone.clone()),
        locale,
        channel: Channel::Ussd,
        volunteer: row.volunteer_id.map(|id| VolunteerSnapshot {
            id,
            village_id: row.village_id,
            village_name: row.village_name.clone(),
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
        // Unfinished answers are kept for the resume window, then go.
        let keep = ttl.max(state.settings.resume_window);
        let before = state.store.clock().now_ms() - keep.as_millis() as i64;
        match state.store.purge_sessions(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "abandoned USSD sessions purged"),
            Err(e) => tracing::warn!(error = %e, "could not purge USSD sessions"),
        }
        state.sessions.forget_older_than(ttl);
    }
}
