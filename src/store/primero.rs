//! The Primero push queue's rows (migration 0012): one per case, kept by
//! the database's triggers as the case is registered and changes stage or
//! centre; claimed by a worker under a lease, and closed by Primero's
//! answer. One SQL text per query for both databases; PostgreSQL's row
//! lock on the claim is the dialect's.

use std::time::Duration;

use sqlx::Row as _;

use super::{
    dialect::{claim, Claim},
    sealed,
    write::Decode,
    Durability, Result, Store, Write,
};

/// A claimed case, as it stands now: what its push may carry, and where
/// its push stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimeroCase {
    pub case_id: i64,
    /// The id Kanda gave the case in Primero (`None` before its first push).
    pub client_id: Option<String>,
    /// Primero has the case: later pushes update it.
    pub created: bool,
    /// The changes counted when claimed: pushed once this push lands.
    pub changes: i64,
    /// Failed tries since the last push.
    pub attempts: i64,
    pub reference: String,
    pub stage: String,
    pub urgent: bool,
    pub concern: String,
    pub care: Option<String>,
    pub child_name: Option<String>,
    pub child_age: Option<i64>,
    pub child_sex: String,
    pub disability: Option<String>,
    pub channel: String,
    pub self_report: bool,
    /// ms.
    pub created_at: i64,
    /// Codes: the centre holding the case, the child's place, its district
    /// and province.
    pub centre: String,
    pub location: String,
    pub district: Option<String>,
    pub province: Option<String>,
}

/// Where a case's push stands, for its page.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrimeroState {
    /// The id Primero holds the case under.
    pub id: Option<String>,
    /// A change not yet in Primero.
    pub waiting: bool,
    /// Primero refused the last push for good.
    pub refused: bool,
    pub last_error: Option<String>,
}

/// How a push ended, for [`Store::primero_pushed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushRecord {
    /// Primero has the case as it stood when claimed, under `client_id`.
    Pushed { client_id: String, changes: i64 },
    /// Try again at `at` (ms).
    Later { at: i64, error: String },
    /// Refused for good; tried again at the case's next change.
    Refused { error: String },
}

/// The claim: due rows not leased (or whose lease ended: their worker
/// died), oldest first; PostgreSQL's row lock is the dialect's.
const CLAIM: Claim = claim!(
    "UPDATE primero_push SET lease_until = $1, lease_owner = $2, updated_at = $3
     WHERE case_id IN (
         SELECT case_id FROM primero_push
         WHERE pushed < changes AND refused = 0 AND next_attempt_at <= $3
           AND (lease_until IS NULL OR lease_until <= $3)
         ORDER BY next_attempt_at, case_id
         LIMIT $4 ",
    ")
     RETURNING case_id"
);

impl Store {
    /// Claims up to `limit` due cases for the worker `owner`, leased for
    /// `lease`, and reads them as they stand, oldest due first.
    pub async fn claim_primero(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<PrimeroCase>> {
        let now = self.clock.now_ms();
        let until = now + lease.as_millis() as i64;
        let claimed = self
            .write(
                Durability::Process,
                Write {
                    sql: Some(self.dialect.claim(&CLAIM)),
                    args: vec![
                        until.into(),
                        owner.into(),
                        now.into(),
                        (limit as i64).into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows.len())),
                },
            )
            .await?;
        if claimed == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT p.case_id, p.client_id, p.created, p.changes, p.attempts,
                    c.reference, c.stage, c.urgent, c.concern, c.care, c.child_name, c.child_age,
                    c.child_sex, c.disability, c.channel, c.self_report, c.created_at,
                    ce.code AS centre, l.code AS location, d.code AS district, pr.code AS province
             FROM primero_push p JOIN cases c ON c.id = p.case_id
             JOIN centres ce ON ce.id = c.centre_id
             JOIN locations l ON l.id = c.location_id
             LEFT JOIN locations d ON d.id = l.district_id
             LEFT JOIN locations pr ON pr.id = l.province_id
             WHERE p.lease_owner = $1 AND p.lease_until = $2
             ORDER BY p.next_attempt_at, p.case_id",
        )
        .bind(owner)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PrimeroCase {
                    case_id: r.try_get("case_id")?,
                    client_id: r.try_get("client_id")?,
                    created: r.try_get::<i64, _>("created")? != 0,
                    changes: r.try_get("changes")?,
                    attempts: r.try_get("attempts")?,
                    reference: r.try_get("reference")?,
                    stage: r.try_get("stage")?,
                    urgent: r.try_get::<i64, _>("urgent")? != 0,
                    concern: r.try_get("concern")?,
                    care: r.try_get("care")?,
                    child_name: self.open_opt(sealed::CHILD_NAME, r.try_get("child_name")?)?,
                    child_age: r.try_get("child_age")?,
                    child_sex: r.try_get("child_sex")?,
                    disability: r.try_get("disability")?,
                    channel: r.try_get("channel")?,
                    self_report: r.try_get::<i64, _>("self_report")? != 0,
                    created_at: r.try_get("created_at")?,
                    centre: r.try_get("centre")?,
                    location: r.try_get("location")?,
                    district: r.try_get("district")?,
                    province: r.try_get("province")?,
                })
            })
            .collect()
    }

    /// Keeps `candidate` as the case's id in Primero unless it has one,
    /// before any request names it (so a retry, by this worker or another,
    /// sends the same id); returns the id kept. `None`: `owner` no longer
    /// holds the lease.
    pub async fn primero_client_id(
        &self,
        case_id: i64,
        owner: &str,
        candidate: &str,
    ) -> Result<Option<String>> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE primero_push SET client_id = COALESCE(client_id, $3)
                     WHERE case_id = $1 AND lease_owner = $2
                     RETURNING client_id",
                ),
                args: vec![case_id.into(), owner.into(), candidate.into()],
                decode: Box::new(|o| {
                    o.rows
                        .first()
                        .map(|r| r.text_required("client_id"))
                        .transpose()
                }),
            },
        )
        .await
    }

    /// Records how a claimed case's push ended. `false` when `owner` no
    /// longer held its lease (another worker took it over).
    pub async fn primero_pushed(
        &self,
        case_id: i64,
        owner: &str,
        record: PushRecord,
    ) -> Result<bool> {
        let now = self.clock.now_ms();
        let decode = || -> Decode<bool> { Box::new(|o| Ok(o.rows_affected == 1)) };
        let write = match record {
            PushRecord::Pushed { client_id, changes } => {
                // The case keeps Primero's id first: should the queue's
                // record then fail, the next push's POST meets a 409 and
                // is done.
                self.write(
                    Durability::Disk,
                    Write {
                        sql: Some("UPDATE cases SET primero_id = $2 WHERE id = $1"),
                        args: vec![case_id.into(), client_id.into()],
                        decode: decode(),
                    },
                )
                .await?;
                Write {
                    sql: Some(
                        "UPDATE primero_push SET created = 1, pushed = $3, attempts = 0, last_error = NULL,
                             lease_until = NULL, lease_owner = NULL, pushed_at = $4, next_attempt_at = $4, updated_at = $4
                         WHERE case_id = $1 AND lease_owner = $2",
                    ),
                    args: vec![case_id.into(), owner.into(), changes.into(), now.into()],
                    decode: decode(),
                }
            }
            PushRecord::Later { at, error } => Write {
                sql: Some(
                    "UPDATE primero_push SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4,
                         lease_until = NULL, lease_owner = NULL, updated_at = $5
                     WHERE case_id = $1 AND lease_owner = $2",
                ),
                args: vec![
                    case_id.into(),
                    owner.into(),
                    error.into(),
                    at.into(),
                    now.into(),
                ],
                decode: decode(),
            },
            PushRecord::Refused { error } => Write {
                sql: Some(
                    "UPDATE primero_push SET refused = 1, attempts = attempts + 1, last_error = $3,
                         lease_until = NULL, lease_owner = NULL, updated_at = $4
                     WHERE case_id = $1 AND lease_owner = $2",
                ),
                args: vec![case_id.into(), owner.into(), error.into(), now.into()],
                decode: decode(),
            },
        };
        self.write(Durability::Disk, write).await
    }

    /// Hands back a claimed case not tried (its worker pauses): due again
    /// as it was.
    pub async fn primero_release(&self, case_id: i64, owner: &str) -> Result<bool> {
        self.write(
            Durability::Process,
            Write {
                sql: Some(
                    "UPDATE primero_push SET lease_until = NULL, lease_owner = NULL
                     WHERE case_id = $1 AND lease_owner = $2",
                ),
                args: vec![case_id.into(), owner.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// When the next push falls due (ms): a due row's time, or a lease's
    /// end; `None` when nothing waits.
    pub async fn next_primero_due(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END) AS due
             FROM primero_push WHERE pushed < changes AND refused = 0",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("due")?)
    }
}
