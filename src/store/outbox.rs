//! The SMS outbox's rows: queued durably before any network call, claimed
//! by a worker under a lease, and closed by the provider's answer or its
//! delivery reports. One SQL text per query for both databases; the one
//! difference, PostgreSQL's row lock on the claim, is the dialect's.

use std::time::Duration;

use super::{
    dialect::{claim, Claim},
    write::Row as Written,
    Durability, Result, Store, StoreError, Write,
};
use crate::domain::{from_ms, DeliveryStatus, NewSms, Phone};

/// A message a worker claimed: its to send, until its lease ends.
#[derive(Clone, Debug)]
pub struct ClaimedSms {
    pub id: i64,
    pub to: Phone,
    pub body: String,
    pub urgent: bool,
    /// Sends tried before this one.
    pub attempts: i64,
    pub next_attempt_at: i64,
}

/// A message as operators see it (`kanda outbox list`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub to: String,
    pub body: String,
    pub kind: String,
    pub urgent: bool,
    pub status: String,
    pub attempts: i64,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub provider_status: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
}

/// How a send ended, for [`Store::sms_attempted`].
#[derive(Clone, Debug)]
pub enum Attempt {
    /// The provider took it.
    Sent {
        provider_message_id: Option<String>,
        provider_status: Option<String>,
        note: Option<String>,
    },
    /// Try again at `at` (ms); `counts` whether this was an attempt (a 429
    /// is not). Past the attempt limit the message is `failed`.
    Later {
        at: i64,
        counts: bool,
        error: String,
    },
    /// Never: the provider refused it for good.
    Failed { error: String },
}

/// The claim: due queued rows, urgent first, then by due time, then in
/// order of queueing (the order of the `outbox_due` index, so it reads a
/// batch and stops); PostgreSQL's row lock is the dialect's.
const CLAIM: Claim = claim!(
    "UPDATE outbox SET status = 'sending', lease_until = $1, lease_owner = $2, updated_at = $3
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'queued' AND next_attempt_at <= $3
                 ORDER BY urgent DESC, next_attempt_at, id
                 LIMIT $4 ",
    ")
             RETURNING id, to_phone, body, urgent, attempts, next_attempt_at"
);

fn claimed(r: &Written) -> Result<ClaimedSms> {
    Ok(ClaimedSms {
        id: r.int_required("id")?,
        to: Phone::from_trusted(r.text_required("to_phone")?),
        body: r.text_required("body")?,
        urgent: r.int_required("urgent")? != 0,
        attempts: r.int_required("attempts")?,
        next_attempt_at: r.int_required("next_attempt_at")?,
    })
}

fn outbox_row(r: &Written) -> Result<OutboxRow> {
    let time = |ms: i64| from_ms(ms).to_rfc3339();
    Ok(OutboxRow {
        id: r.int_required("id")?,
        to: r.text_required("to_phone")?,
        body: r.text_required("body")?,
        kind: r.text_required("kind")?,
        urgent: r.int_required("urgent")? != 0,
        status: r.text_required("status")?,
        attempts: r.int_required("attempts")?,
        provider: r.text("provider")?,
        provider_message_id: r.text("provider_message_id")?,
        provider_status: r.text("provider_status")?,
        last_error: r.text("last_error")?,
        created_at: time(r.int_required("created_at")?),
        next_attempt_at: time(r.int_required("next_attempt_at")?),
        sent_at: r.int("sent_at")?.map(time),
    })
}

const OUTBOX_COLUMNS: &str = "id, to_phone, body, kind, urgent, status, attempts, provider, provider_message_id, provider_status, last_error, created_at, next_attempt_at, sent_at";

/// A delivery report's update: the raw word always, the status only when
/// its rank ([`DeliveryStatus::rank`]) is above the message's.
const DELIVERY_REPORT: &str = "UPDATE outbox SET provider_status = $3, updated_at = $4,
                         status = CASE WHEN $6 > (CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2
                                                  WHEN 'undelivered' THEN 2 WHEN 'failed' THEN 2 ELSE 0 END)
                                  THEN $5 ELSE status END
                     WHERE provider = $1 AND provider_message_id = $2";

impl Store {
    /// Queues `msg`, on disk before it returns, once per `source_key`: the
    /// same key again returns the first message's id. A notice to a phone
    /// that never gave us leave to write (not staff, not a volunteer, no
    /// case it reported without anonymity) is refused in the same
    /// statement: `Ok(None)`, nothing queued.
    pub async fn enqueue_sms(&self, msg: &NewSms) -> Result<Option<i64>> {
        let now = self.clock.now_ms();
        let inserted = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO outbox (to_phone, body, kind, urgent, status, attempts, next_attempt_at, source_key, created_at, updated_at, case_id)
                         SELECT $1, $2, $3, $4, 'queued', 0, $5, $6, $5, $5, $7
                         WHERE $3 = 'reply'
                            OR EXISTS (SELECT 1 FROM staff WHERE phone = $1)
                            OR EXISTS (SELECT 1 FROM volunteers WHERE phone = $1)
                            OR EXISTS (SELECT 1 FROM cases WHERE reporter_phone = $1 AND anonymous = 0)
                         ON CONFLICT (source_key) DO NOTHING
                         RETURNING id",
                    ),
                    args: vec![
                        msg.to.as_str().into(),
                        msg.body.as_str().into(),
                        msg.kind.as_str().into(),
                        i64::from(msg.urgent).into(),
                        now.into(),
                        msg.source_key.as_str().into(),
                        msg.case_id.into(),
                    ],
                    decode: Box::new(|o| o.rows.first().map(|r| r.int_required("id")).transpose()),
                },
            )
            .await?;
        if inserted.is_some() {
            return Ok(inserted);
        }
        // Either queued before under this key (a retried webhook), or refused.
        Ok(sqlx::query("SELECT id FROM outbox WHERE source_key = $1")
            .bind(&msg.source_key)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| sqlx::Row::try_get::<i64, _>(&r, "id"))
            .transpose()?)
    }

    /// Claims up to `limit` messages for the worker `owner`, leased for
    /// `lease`: no other worker takes them meanwhile.
    pub async fn claim_sms(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedSms>> {
        let now = self.clock.now_ms();
        let sql = self.dialect.claim(&CLAIM);
        let mut rows = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(sql),
                    args: vec![
                        (now + lease.as_millis() as i64).into(),
                        owner.into(),
                        now.into(),
                        (limit as i64).into(),
                    ],
                    decode: Box::new(|o| o.rows.iter().map(claimed).collect::<Result<Vec<_>>>()),
                },
            )
            .await?;
        // RETURNING keeps no order.
        rows.sort_by_key(|m| (!m.urgent, m.next_attempt_at, m.id));
        Ok(rows)
    }

    /// Puts back in the queue the messages whose lease ended (their worker
    /// died, or lost its database): they are sent again, by whichever worker
    /// claims them next. Returns how many.
    pub async fn release_expired_leases(&self) -> Result<u64> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE outbox SET status = 'queued', lease_until = NULL, lease_owner = NULL, updated_at = $1
                     WHERE status = 'sending' AND lease_until <= $1",
                ),
                args: vec![self.clock.now_ms().into()],
                decode: Box::new(|o| Ok(o.rows_affected)),
            },
        )
        .await
    }

    /// Records how a claimed message's send ended. `false` when the worker
    /// no longer held its lease (another one took the message over).
    pub async fn sms_attempted(
        &self,
        id: i64,
        owner: &str,
        provider: &str,
        max_attempts: u32,
        attempt: Attempt,
    ) -> Result<bool> {
        let now = self.clock.now_ms();
        let decode: super::write::Decode<bool> = Box::new(|o| Ok(o.rows_affected == 1));
        let write = match attempt {
            Attempt::Sent {
                provider_message_id,
                provider_status,
                note,
            } => Write {
                sql: Some(
                    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider = $3,
                         provider_message_id = $4, provider_status = $5, last_error = $6,
                         lease_until = NULL, lease_owner = NULL, sent_at = $7, updated_at = $7
                     WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                ),
                args: vec![
                    id.into(),
                    owner.into(),
                    provider.into(),
                    provider_message_id.into(),
                    provider_status.into(),
                    note.into(),
                    now.into(),
                ],
                decode,
            },
            Attempt::Later { at, counts, error } => Write {
                sql: Some(
                    "UPDATE outbox SET attempts = attempts + $4,
                         status = CASE WHEN $4 = 1 AND attempts + 1 >= $5 THEN 'failed' ELSE 'queued' END,
                         next_attempt_at = $6, provider = $3, last_error = $7,
                         lease_until = NULL, lease_owner = NULL, updated_at = $8
                     WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                ),
                args: vec![
                    id.into(),
                    owner.into(),
                    provider.into(),
                    i64::from(counts).into(),
                    i64::from(max_attempts).into(),
                    at.into(),
                    error.into(),
                    now.into(),
                ],
                decode,
            },
            Attempt::Failed { error } => Write {
                sql: Some(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, provider = $3,
                         last_error = $4, lease_until = NULL, lease_owner = NULL, updated_at = $5
                     WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                ),
                args: vec![
                    id.into(),
                    owner.into(),
                    provider.into(),
                    error.into(),
                    now.into(),
                ],
                decode,
            },
        };
        self.write(Durability::Disk, write).await
    }

    /// When the next message becomes claimable (ms): the earliest due
    /// queued message or ending lease. `None`: nothing waits.
    pub async fn next_sms_due(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN status = 'queued' THEN next_attempt_at ELSE lease_until END) AS due
             FROM outbox WHERE status IN ('queued', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(sqlx::Row::try_get::<Option<i64>, _>(&row, "due")?)
    }

    /// A delivery report: records `raw_status` (the provider's own word)
    /// verbatim and moves the message to `status`, what that word means
    /// (never down: a late `sent` leaves a `delivered` as it is). `None`
    /// (a word the gateway does not know) is recorded, nothing more.
    /// `false` when no message of that provider has that id (also a report
    /// that overtakes the worker's own record of the send, which a provider
    /// retrying its callback then matches).
    pub async fn delivery_report(
        &self,
        provider: &str,
        provider_message_id: &str,
        raw_status: &str,
        status: Option<DeliveryStatus>,
    ) -> Result<bool> {
        let (status, rank) = status.map_or(("", -1), |s| (s.as_str(), s.rank()));
        self.write(
            Durability::Disk,
            Write {
                sql: Some(DELIVERY_REPORT),
                args: vec![
                    provider.into(),
                    provider_message_id.into(),
                    raw_status.into(),
                    self.clock.now_ms().into(),
                    status.into(),
                    rank.into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected > 0)),
            },
        )
        .await
    }

    /// How many messages are in each status.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    sqlx::Row::try_get(r, "status")?,
                    sqlx::Row::try_get(r, "n")?,
                ))
            })
            .collect()
    }

    /// Every message, oldest first.
    pub async fn list_outbox(&self) -> Result<Vec<OutboxRow>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY created_at, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| outbox_row(&Written::from_any(r)?))
            .collect()
    }

    pub async fn outbox_message(&self, id: i64) -> Result<Option<OutboxRow>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| outbox_row(&Written::from_any(&r)?))
            .transpose()
    }

    /// Puts a `failed` or `undelivered` message back in the queue, due now,
    /// its attempts reset. Any other is an error that says why.
    pub async fn retry_sms(&self, id: i64) -> Result<()> {
        let now = self.clock.now_ms();
        let retried = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $2,
                             provider_message_id = NULL, provider_status = NULL,
                             lease_until = NULL, lease_owner = NULL, updated_at = $2
                         WHERE id = $1 AND status IN ('failed', 'undelivered')",
                    ),
                    args: vec![id.into(), now.into()],
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        if retried {
            return Ok(());
        }
        match self.outbox_message(id).await? {
            None => Err(StoreError::NoMessage(id)),
            Some(m) => Err(StoreError::NotRetryable {
                id,
                status: m.status,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_differs_only_by_postgresql_s_lock() {
        assert_eq!(
            CLAIM.postgres.replace("FOR UPDATE SKIP LOCKED", ""),
            CLAIM.sqlite
        );
    }

    #[test]
    fn a_report_s_rank_matches_the_statuses_the_update_ranks() {
        for s in [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Undelivered,
            DeliveryStatus::Failed,
        ] {
            let ranked = format!("WHEN '{}' THEN {}", s.as_str(), s.rank());
            assert!(DELIVERY_REPORT.contains(&ranked), "{ranked}");
        }
    }
}
