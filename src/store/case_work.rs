//! The case work staff record beyond stages: who a case is assigned to, who
//! visits it and how often, transfers to another centre (accepted or
//! rejected by the receiving centre) and referrals to services with their
//! outcome. Each a single statement; the same SQL on both databases. The
//! timeline rows that go with them are the case work's (`record_event`).

use sqlx::Row as _;

use super::{sealed, Durability, Result, Store, Write};
use crate::domain::from_ms;

/// A transfer as a case page shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Transfer {
    pub id: i64,
    pub reference: String,
    pub from_centre: String,
    pub to_centre: String,
    #[serde(skip)]
    pub to_centre_id: i64,
    pub reason: String,
    pub state: String,
    pub requested_at: String,
}

/// A referral to a service, and its outcome once known.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Referral {
    pub id: i64,
    pub service: String,
    pub note: Option<String>,
    pub referred_at: String,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
}

const TRANSFER_COLUMNS: &str =
    "t.id, c.reference, f.code AS from_centre, tc.code AS to_centre, t.to_centre_id, t.reason, t.state, t.requested_at
     FROM case_transfers t JOIN cases c ON c.id = t.case_id
     JOIN centres f ON f.id = t.from_centre_id JOIN centres tc ON tc.id = t.to_centre_id";

fn transfer(store: &Store, r: &sqlx::any::AnyRow) -> Result<Transfer> {
    Ok(Transfer {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        from_centre: r.try_get("from_centre")?,
        to_centre: r.try_get("to_centre")?,
        to_centre_id: r.try_get("to_centre_id")?,
        reason: store.open(sealed::TRANSFER_REASON, &r.try_get::<String, _>("reason")?)?,
        state: r.try_get("state")?,
        requested_at: from_ms(r.try_get("requested_at")?).to_rfc3339(),
    })
}

impl Store {
    /// Assigns the case to a staff member of its own centre; `false` when
    /// the staff member is not an active caseworker or manager there.
    pub async fn assign_case(&self, case_id: i64, staff_id: i64) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE cases SET assigned_to = $2 WHERE id = $1 AND EXISTS (
                       SELECT 1 FROM staff s WHERE s.id = $2 AND s.centre_id = cases.centre_id
                       AND s.active = 1 AND s.role IN ('caseworker', 'manager'))",
                ),
                args: vec![case_id.into(), staff_id.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Sets who visits the case and how often (days); `false` when the
    /// volunteer is unknown.
    pub async fn set_follow_up(
        &self,
        case_id: i64,
        volunteer_phone: &str,
        interval_days: i64,
    ) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE cases SET follow_volunteer_id = (SELECT v.id FROM volunteers v WHERE v.phone = $2 AND v.active = 1),
                         visit_interval_days = $3
                     WHERE id = $1 AND EXISTS (SELECT 1 FROM volunteers v WHERE v.phone = $2 AND v.active = 1)",
                ),
                args: vec![case_id.into(), volunteer_phone.into(), interval_days.into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Asks another centre to take the case; `false` when a transfer is
    /// already pending or the centre is the case's own.
    pub async fn request_transfer(
        &self,
        case_id: i64,
        to_centre_id: i64,
        reason: &str,
        staff_id: i64,
    ) -> Result<bool> {
        let done = self
            .write(
                Durability::Disk,
                Write {
                    sql: Some(
                        "INSERT INTO case_transfers (case_id, from_centre_id, to_centre_id, reason, requested_by, requested_at, state)
                         SELECT c.id, c.centre_id, $2, $3, $4, $5, 'pending' FROM cases c
                         WHERE c.id = $1 AND c.centre_id <> $2
                         ON CONFLICT DO NOTHING",
                    ),
                    args: vec![
                        case_id.into(),
                        to_centre_id.into(),
                        self.seal(sealed::TRANSFER_REASON, reason).into(),
                        staff_id.into(),
                        self.clock.now_ms().into(),
                    ],
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            )
            .await?;
        Ok(done)
    }

    /// The pending transfer of a case, if any.
    pub async fn pending_transfer(&self, case_id: i64) -> Result<Option<Transfer>> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} WHERE t.case_id = $1 AND t.state = 'pending'");
        sqlx::query(&sql)
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| transfer(self, &r))
            .transpose()
    }

    /// Transfers waiting for a centre's decision, oldest first.
    pub async fn transfers_to(&self, centre_id: i64) -> Result<Vec<Transfer>> {
        let sql = format!(
            "SELECT {TRANSFER_COLUMNS} WHERE t.to_centre_id = $1 AND t.state = 'pending' ORDER BY t.requested_at, t.id"
        );
        let rows = sqlx::query(&sql)
            .bind(centre_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| transfer(self, r)).collect()
    }

    /// Accepts a pending transfer into `centre_id`: the case moves to that
    /// centre (and its assignment ends), then the transfer is marked
    /// accepted. Both steps are conditional, so a retry after a crash
    /// between them finishes the job. `false` when no such transfer is
    /// pending.
    pub async fn accept_transfer(
        &self,
        transfer_id: i64,
        centre_id: i64,
        staff_id: i64,
        note: Option<String>,
    ) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE cases SET centre_id = $2, assigned_to = NULL WHERE id = (
                       SELECT t.case_id FROM case_transfers t
                       WHERE t.id = $1 AND t.to_centre_id = $2 AND t.state = 'pending')",
                ),
                args: vec![transfer_id.into(), centre_id.into()],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await?;
        self.decide_transfer(transfer_id, centre_id, staff_id, "accepted", note)
            .await
    }

    /// Rejects a pending transfer into `centre_id`; the case stays where it
    /// was.
    pub async fn reject_transfer(
        &self,
        transfer_id: i64,
        centre_id: i64,
        staff_id: i64,
        note: Option<String>,
    ) -> Result<bool> {
        self.decide_transfer(transfer_id, centre_id, staff_id, "rejected", note)
            .await
    }

    async fn decide_transfer(
        &self,
        transfer_id: i64,
        centre_id: i64,
        staff_id: i64,
        state: &'static str,
        note: Option<String>,
    ) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE case_transfers SET state = $3, decided_by = $4, decided_at = $5, decision_note = $6
                     WHERE id = $1 AND to_centre_id = $2 AND state = 'pending'",
                ),
                args: vec![
                    transfer_id.into(),
                    centre_id.into(),
                    state.into(),
                    staff_id.into(),
                    self.clock.now_ms().into(),
                    self.seal_opt(sealed::TRANSFER_NOTE, note.as_deref()).into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// Records a referral; its id.
    pub async fn add_referral(
        &self,
        case_id: i64,
        service: &str,
        note: Option<String>,
        staff_id: i64,
    ) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO referrals (case_id, service, note, referred_by, referred_at)
                     VALUES ($1, $2, $3, $4, $5)",
                ),
                args: vec![
                    case_id.into(),
                    service.into(),
                    self.seal_opt(sealed::REFERRAL_NOTE, note.as_deref()).into(),
                    staff_id.into(),
                    self.clock.now_ms().into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// Records a referral's outcome; `false` when the case has no such
    /// referral.
    pub async fn referral_outcome(
        &self,
        case_id: i64,
        referral_id: i64,
        outcome: &str,
        note: Option<String>,
    ) -> Result<bool> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE referrals SET outcome = $3, outcome_note = $4, outcome_at = $5
                     WHERE id = $2 AND case_id = $1",
                ),
                args: vec![
                    case_id.into(),
                    referral_id.into(),
                    outcome.into(),
                    self.seal_opt(sealed::REFERRAL_OUTCOME_NOTE, note.as_deref())
                        .into(),
                    self.clock.now_ms().into(),
                ],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }

    /// A case's referrals, oldest first.
    pub async fn referrals(&self, case_id: i64) -> Result<Vec<Referral>> {
        let rows = sqlx::query(
            "SELECT id, service, note, referred_at, outcome, outcome_note FROM referrals
             WHERE case_id = $1 ORDER BY referred_at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Referral {
                    id: r.try_get("id")?,
                    service: r.try_get("service")?,
                    note: self.open_opt(sealed::REFERRAL_NOTE, r.try_get("note")?)?,
                    referred_at: from_ms(r.try_get("referred_at")?).to_rfc3339(),
                    outcome: r.try_get("outcome")?,
                    outcome_note: self
                        .open_opt(sealed::REFERRAL_OUTCOME_NOTE, r.try_get("outcome_note")?)?,
                })
            })
            .collect()
    }

    /// A centre's active staff who can work cases, by name (for assigning).
    pub async fn case_workers(&self, centre_id: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, name FROM staff WHERE centre_id = $1 AND active = 1
             AND role IN ('caseworker', 'manager') ORDER BY name, id",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect()
    }

    /// The districts a centre covers (its province's), or every district:
    /// (code, name), by name.
    pub async fn districts(&self, centre_id: Option<i64>) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT d.code, d.name FROM locations d
             WHERE d.level = 2 AND ($1 IS NULL OR d.province_id = (SELECT province_id FROM centres WHERE id = $1))
             ORDER BY d.name, d.code",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }

    /// Every centre: (id, code, name), by code.
    pub async fn centres(&self) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query("SELECT id, code, name FROM centres ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }
}
