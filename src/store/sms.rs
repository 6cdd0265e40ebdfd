//! SMS conversations and the replies already given, the same SQL on both
//! databases.

use sqlx::Row as _;

use super::{sealed, write::Row as Written, Durability, Result, Store, Write};
use crate::domain::{random_token, Phone};

/// A registered volunteer as an SMS sees them now.
#[derive(Clone, Debug)]
pub struct Sender {
    pub volunteer_id: i64,
    pub locale: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
}

/// A guided SMS conversation's start snapshot.
#[derive(Clone, Debug)]
pub struct ConversationRow {
    pub id: String,
    pub phone: String,
    /// `flow.state` where it started.
    pub start_state: String,
    pub locale: String,
    pub volunteer_id: Option<i64>,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    /// Timed out, and offered to be continued or started again.
    pub offered: bool,
}

fn conversation(r: &Written) -> Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.text_required("id")?,
        phone: r.text_required("phone")?,
        start_state: r.text_required("start_state")?,
        locale: r.text_required("locale")?,
        volunteer_id: r.int("volunteer_id")?,
        village_id: r.int("village_id")?,
        village_name: r.text("village_name")?,
        started_at: r.int_required("started_at")?,
        updated_at: r.int_required("updated_at")?,
        offered: r.int("offered")?.unwrap_or(0) != 0,
    })
}

const CONVERSATION_COLUMNS: &str =
    "id, phone, start_state, locale, volunteer_id, village_id, village_name, started_at, updated_at, offered";

impl Store {
    /// The reply already given to this message, if any.
    pub async fn sms_reply(&self, provider: &str, message_id: &str) -> Result<Option<String>> {
        sqlx::query("SELECT reply FROM sms_inbound WHERE provider = $1 AND message_id = $2")
            .bind(provider)
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| self.open(sealed::SMS_REPLY, &r.try_get::<String, _>("reply")?))
            .transpose()
    }

    /// Records the reply to a message; the first reply recorded wins, and
    /// is the one returned (two deliveries of one message racing agree).
    pub async fn save_sms_reply(
        &self,
        provider: &str,
        message_id: &str,
        reply: &str,
    ) -> Result<String> {
        let inserted = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(
                        "INSERT INTO sms_inbound (provider, message_id, reply, received_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (provider, message_id) DO NOTHING",
                    ),
                    args: vec![
                        provider.into(),
                        message_id.into(),
                        self.seal(sealed::SMS_REPLY, reply).into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        if inserted {
            return Ok(reply.to_string());
        }
        Ok(self
            .sms_reply(provider, message_id)
            .await?
            .unwrap_or_else(|| reply.to_string()))
    }

    /// The volunteer registered on this phone, as they are now.
    pub async fn sms_sender(&self, phone: &Phone) -> Result<Option<Sender>> {
        let row = sqlx::query(
            "SELECT v.id, v.locale, v.village_id, l.name AS village_name
             FROM volunteers v LEFT JOIN locations l ON l.id = v.village_id WHERE v.phone = $1 AND v.active = 1",
        )
        .bind(phone.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Sender {
                volunteer_id: r.try_get("id")?,
                locale: r.try_get("locale")?,
                village_id: r.try_get("village_id")?,
                village_name: r.try_get("village_name")?,
            })
        })
        .transpose()
    }

    /// The phone's conversation, open or timed out.
    pub async fn sms_conversation(&self, phone: &Phone) -> Result<Option<ConversationRow>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM sms_conversations WHERE phone = $1");
        sqlx::query(&sql)
            .bind(phone.as_str())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| conversation(&Written::from_any(&r)?))
            .transpose()
    }

    /// Starts a conversation for the phone, replacing any it had (whose
    /// answers are deleted first).
    pub async fn start_sms_conversation(
        &self,
        phone: &Phone,
        start_state: &str,
        locale: &str,
        sender: Option<&Sender>,
    ) -> Result<ConversationRow> {
        self.end_sms_conversation(phone).await?;
        let now = self.clock.now_ms();
        let id = random_token();
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO sms_conversations (id, phone, start_state, locale, volunteer_id, village_id, village_name, started_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                     ON CONFLICT (phone) DO UPDATE SET id = excluded.id, start_state = excluded.start_state,
                         locale = excluded.locale, volunteer_id = excluded.volunteer_id, village_id = excluded.village_id,
                         village_name = excluded.village_name, started_at = excluded.started_at, updated_at = excluded.updated_at
                     RETURNING id, phone, start_state, locale, volunteer_id, village_id, village_name, started_at, updated_at, offered",
                ),
                args: vec![
                    id.into(),
                    phone.as_str().into(),
                    start_state.into(),
                    locale.into(),
                    sender.map(|s| s.volunteer_id).into(),
                    sender.and_then(|s| s.village_id).into(),
                    sender.and_then(|s| s.village_name.clone()).into(),
                    now.into(),
                ],
                decode: Box::new(|o| match o.rows.first() {
                    Some(r) => conversation(r),
                    None => Err(super::StoreError::Invalid(
                        "a conversation upsert returned no row".into(),
                    )),
                }),
            },
        )
        .await
    }

    /// Ends the phone's conversation, deleting its answers.
    pub async fn end_sms_conversation(&self, phone: &Phone) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "DELETE FROM sms_inputs WHERE conversation_id IN (SELECT id FROM sms_conversations WHERE phone = $1)",
                ),
                args: vec![phone.as_str().into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.write(
            Durability::Disk,
            Write {
                sql: Some("DELETE FROM sms_conversations WHERE phone = $1"),
                args: vec![phone.as_str().into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Adds a message's answer to a conversation, once per `message_key`
    /// (a message delivered twice is one answer).
    pub async fn add_sms_input(
        &self,
        conversation_id: &str,
        message_key: &str,
        input: &str,
    ) -> Result<()> {
        let now = self.clock.now_ms();
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO sms_inputs (conversation_id, message_key, input, at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (message_key) DO NOTHING",
                ),
                args: vec![
                    conversation_id.into(),
                    message_key.into(),
                    self.seal(sealed::SMS_INPUT, input).into(),
                    now.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.write(
            Durability::Process,
            Write {
                sql: Some("UPDATE sms_conversations SET updated_at = $1 WHERE id = $2"),
                args: vec![now.into(), conversation_id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// A conversation's answers, oldest first: all of them, or those up to
    /// and including the one of `message_key` (a message delivered again
    /// replays to the same point).
    pub async fn sms_inputs(
        &self,
        conversation_id: &str,
        up_to: Option<&str>,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT input FROM sms_inputs WHERE conversation_id = $1
               AND ($2 IS NULL OR id <= (SELECT id FROM sms_inputs WHERE message_key = $2))
             ORDER BY id",
        )
        .bind(conversation_id)
        .bind(up_to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| self.open(sealed::SMS_INPUT, &r.try_get::<String, _>("input")?))
            .collect()
    }

    /// A timed-out conversation offered to be continued or started again.
    pub async fn offer_sms_resume(&self, id: &str) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE sms_conversations SET offered = 1 WHERE id = $1"),
                args: vec![id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// The offer answered: the conversation is open again from now, with
    /// its answers kept, or with none when `restart`.
    pub async fn resume_sms_conversation(&self, id: &str, restart: bool) -> Result<()> {
        if restart {
            self.write(
                Durability::Disk,
                Write {
                    sql: Some("DELETE FROM sms_inputs WHERE conversation_id = $1"),
                    args: vec![id.into()],
                    decode: Box::new(|_| Ok(())),
                },
            )
            .await?;
        }
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE sms_conversations SET offered = 0, updated_at = $1 WHERE id = $2",
                ),
                args: vec![self.clock.now_ms().into(), id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Sets the language of a conversation (the `LANG` keyword during it).
    pub async fn set_sms_conversation_locale(&self, id: &str, locale: &str) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some("UPDATE sms_conversations SET locale = $1 WHERE id = $2"),
                args: vec![locale.into(), id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Deletes the answers of conversations idle since before `idle_before`
    /// (they timed out: their row stays, so the next message hears so),
    /// the conversations idle since before `forget_before`, and replies
    /// recorded before `replies_before`. Returns how many rows went.
    pub async fn purge_sms(
        &self,
        idle_before: i64,
        forget_before: i64,
        replies_before: i64,
    ) -> Result<u64> {
        let mut n = 0;
        let steps: [(&'static str, i64); 3] = [
            (
                "DELETE FROM sms_inputs WHERE conversation_id IN (SELECT id FROM sms_conversations WHERE updated_at < $1)",
                idle_before,
            ),
            (
                "DELETE FROM sms_conversations WHERE updated_at < $1",
                forget_before,
            ),
            (
                "DELETE FROM sms_inbound WHERE received_at < $1",
                replies_before,
            ),
        ];
        for (sql, before) in steps {
            n += self
                .write(
                    Durability::Process,
                    Write {
                        sql: Some(sql),
                        args: vec![before.into()],
                        decode: Box::new(|o| Ok(o.rows_affected)),
                    },
                )
                .await?;
        }
        Ok(n)
    }
}
