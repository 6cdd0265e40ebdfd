//! USSD sessions: the start snapshot written on the first hop, what was
//! typed in each hop since, how the session ended, and the offer to
//! continue a dropped one; purged when abandoned. The same SQL on both
//! databases.

use super::{
    sealed::{self, Column},
    write::Row as Written,
    Durability, Keyring, Result, Store, StoreError, Write,
};
use crate::domain::Phone;

/// A USSD session: its start snapshot and how far it got.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub session_id: String,
    pub phone: String,
    pub locale: String,
    pub volunteer_id: Option<i64>,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub started_at: i64,
    /// What was typed so far, as the gateway counts inputs.
    pub inputs: Vec<String>,
    /// `inputs` as stored (sealed): what a save after this hop compares.
    pub stored_inputs: String,
    /// The last hop's retry key.
    pub last_key: Option<String>,
    pub updated_at: i64,
    /// `done`, `dropped`, `continued`, `discarded`, or no word yet.
    pub ended: Option<String>,
    /// The unfinished session offered on this one's dial.
    pub resume_of: Option<String>,
    /// Once the offer is answered: the answers taken over (empty when
    /// started again) and how many of this session's inputs the offer used.
    pub resumed: Option<(Vec<String>, usize)>,
}

const COLUMNS: &str = "session_id, phone, locale, volunteer_id, village_id, village_name, \
    started_at, inputs, last_key, updated_at, ended, resume_of, prefix, skip";

/// An empty list as stored: in clear (it says nothing), so that a query
/// can tell a session with answers from one without.
const NONE_TYPED: &str = "[]";

fn list(keys: &Keyring, raw: Option<String>, column: Column) -> Result<Vec<String>> {
    match raw.as_deref() {
        None | Some(NONE_TYPED) => Ok(Vec::new()),
        Some(raw) => serde_json::from_str(&keys.open(&column.label(), raw)?)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", column.label()))),
    }
}

/// A list of answers as stored: sealed, unless empty.
fn encode(keys: &Keyring, inputs: &[String], column: Column) -> String {
    match inputs.is_empty() {
        true => NONE_TYPED.into(),
        false => keys.seal(
            &column.label(),
            &serde_json::to_string(inputs).unwrap_or_else(|_| NONE_TYPED.into()),
        ),
    }
}

fn session_row(keys: &Keyring, r: &Written) -> Result<SessionRow> {
    let prefix = r.text("prefix")?;
    let skip = r.int("skip")?;
    let stored_inputs = r.text("inputs")?;
    Ok(SessionRow {
        session_id: r.text_required("session_id")?,
        phone: r.text_required("phone")?,
        locale: r.text_required("locale")?,
        volunteer_id: r.int("volunteer_id")?,
        village_id: r.int("village_id")?,
        village_name: r.text("village_name")?,
        started_at: r.int_required("started_at")?,
        inputs: list(keys, stored_inputs.clone(), sealed::USSD_INPUTS)?,
        stored_inputs: stored_inputs.unwrap_or_else(|| NONE_TYPED.into()),
        last_key: r.text("last_key")?,
        updated_at: r.int_required("updated_at")?,
        ended: r.text("ended")?,
        resume_of: r.text("resume_of")?,
        resumed: match skip {
            Some(skip) => Some((
                list(keys, prefix, sealed::USSD_PREFIX)?,
                skip.max(0) as usize,
            )),
            None => None,
        },
    })
}

impl Store {
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ussd_sessions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| session_row(&self.keys, &Written::from_any(&r)?))
        .transpose()
    }

    /// Starts a session: its snapshot is what the phone's volunteer profile
    /// (or its absence: `default_locale`, no volunteer) says now, looked up
    /// and saved in one statement. The first writer wins, so two servers
    /// racing on the same first hop agree on one snapshot.
    pub async fn start_session(
        &self,
        session_id: &str,
        phone: &Phone,
        default_locale: &str,
    ) -> Result<SessionRow> {
        let keys = self.keys.clone();
        let inserted = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(
                        "INSERT INTO ussd_sessions (session_id, phone, locale, volunteer_id, village_id, village_name, started_at, updated_at)
                         SELECT $1, $2, COALESCE(v.locale, $3), v.id, v.village_id, l.name, $4, $4
                         FROM (SELECT 1 AS one) AS start
                         LEFT JOIN volunteers v ON v.phone = $2 AND v.active = 1
                         LEFT JOIN locations l ON l.id = v.village_id
                         WHERE true
                         ON CONFLICT (session_id) DO NOTHING
                         RETURNING session_id, phone, locale, volunteer_id, village_id, village_name,
                                   started_at, inputs, last_key, updated_at, ended, resume_of, prefix, skip",
                    ),
                    args: vec![
                        session_id.into(),
                        phone.as_str().into(),
                        default_locale.into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(move |o| {
                        o.rows.first().map(|r| session_row(&keys, r)).transpose()
                    }),
                },
            )
            .await?;
        match inserted {
            Some(row) => Ok(row),
            None => self.session(session_id).await?.ok_or_else(|| {
                StoreError::Invalid(format!("session {session_id} vanished while starting"))
            }),
        }
    }

    /// Saves a hop: every input so far, its retry key, and `done` when its
    /// screen ended the session (a later word from the gateway does not
    /// change a `done`). A hop that does not end the session leaves every
    /// indexed column alone: its update rewrites the row and nothing else.
    pub async fn save_hop(
        &self,
        session_id: &str,
        inputs: &[String],
        key: Option<&str>,
        done: bool,
    ) -> Result<()> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(match done {
                    false => {
                        "UPDATE ussd_sessions SET inputs = $1, last_key = $2, updated_at = $3
                         WHERE session_id = $4"
                    }
                    true => {
                        "UPDATE ussd_sessions SET inputs = $1, last_key = $2, updated_at = $3,
                                ended = 'done'
                         WHERE session_id = $4"
                    }
                }),
                args: vec![
                    encode(&self.keys, inputs, sealed::USSD_INPUTS).into(),
                    key.map(str::to_string).into(),
                    self.clock.now_ms().into(),
                    session_id.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Saves a hop of a gateway that sends the latest input: every input so
    /// far and its retry key, only if what the session held is still
    /// `previous` (as stored: what this server read or saved last). The
    /// inputs as now stored, or `None` when another hop came in between:
    /// the caller reads again.
    pub async fn save_hop_after(
        &self,
        session_id: &str,
        inputs: &[String],
        key: Option<&str>,
        previous: &str,
    ) -> Result<Option<String>> {
        let stored = encode(&self.keys, inputs, sealed::USSD_INPUTS);
        let saved = stored.clone();
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE ussd_sessions SET inputs = $1, last_key = $2, updated_at = $3
                     WHERE session_id = $4 AND inputs = $5",
                ),
                args: vec![
                    stored.into(),
                    key.map(str::to_string).into(),
                    self.clock.now_ms().into(),
                    session_id.into(),
                    previous.into(),
                ],
                decode: Box::new(move |o| Ok((o.rows_affected > 0).then_some(saved))),
            },
        )
        .await
    }

    /// The gateway's word that a session is over: `done` when it says the
    /// session completed, else `dropped` (its line lost or timed out); a
    /// session already ended keeps its word. False when no such session.
    pub async fn end_session(&self, session_id: &str, done: bool) -> Result<bool> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE ussd_sessions SET ended = $1
                     WHERE session_id = $2 AND ended IS NULL",
                ),
                args: vec![
                    if done { "done" } else { "dropped" }.into(),
                    session_id.into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected > 0)),
            },
        )
        .await
    }

    /// The same phone's latest session that ended unfinished (dropped, or
    /// silent since `silent_before`) and whose last hop came after
    /// `window_from`, with something typed; not `except` itself.
    pub async fn unfinished_session(
        &self,
        phone: &Phone,
        except: &str,
        silent_before: i64,
        window_from: i64,
    ) -> Result<Option<SessionRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM ussd_sessions
             WHERE phone = $1 AND session_id <> $2 AND updated_at >= $3
               AND (ended IS NULL OR ended = 'dropped')
               AND (ended = 'dropped' OR updated_at <= $4)
               AND inputs <> '[]'
             ORDER BY updated_at DESC LIMIT 1"
        ))
        .bind(phone.as_str())
        .bind(except)
        .bind(window_from)
        .bind(silent_before)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| session_row(&self.keys, &Written::from_any(&r)?))
        .transpose()
    }

    /// Offers session `from`'s answers on session `session_id`'s dial.
    pub async fn offer_resume(&self, session_id: &str, from: &str) -> Result<()> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE ussd_sessions SET resume_of = $1
                     WHERE session_id = $2 AND skip IS NULL",
                ),
                args: vec![from.into(), session_id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// The offer answered: `prefix` (the offered session's answers, or
    /// none to start again) and the inputs it used are kept on this
    /// session, and the offered one gives its answers up (`continued` or
    /// `discarded`) so it is never offered again. Two statements, each
    /// harmless to repeat: a hop sent again finds the choice made.
    pub async fn answer_offer(
        &self,
        session_id: &str,
        from: &str,
        prefix: Option<&[String]>,
        skip: usize,
    ) -> Result<()> {
        let ended = if prefix.is_some() {
            "continued"
        } else {
            "discarded"
        };
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE ussd_sessions SET ended = $1, inputs = '[]'
                     WHERE session_id = $2",
                ),
                args: vec![ended.into(), from.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE ussd_sessions SET prefix = $1, skip = $2
                     WHERE session_id = $3 AND skip IS NULL",
                ),
                args: vec![
                    encode(&self.keys, prefix.unwrap_or_default(), sealed::USSD_PREFIX).into(),
                    (skip as i64).into(),
                    session_id.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Deletes sessions whose last hop came before `before_ms` (their
    /// answers with them); returns how many. Found by their start, which
    /// came before their last hop and is indexed (the last hop is not).
    pub async fn purge_sessions(&self, before_ms: i64) -> Result<u64> {
        self.write(
            Durability::Process,
            Write {
                sql: Some("DELETE FROM ussd_sessions WHERE started_at < $1 AND updated_at < $1"),
                args: vec![before_ms.into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }
}
