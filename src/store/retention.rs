//! Retention: the closed cases past the period, and the purge of what
//! identifies the child in one of them. The same SQL on both databases.

use sqlx::Row as _;

use super::{Durability, Result, Store, Write};

impl Store {
    /// Closed cases, not yet purged, whose last closure came before
    /// `cutoff_ms`: up to `limit` ids, oldest id first.
    pub async fn closed_before(&self, cutoff_ms: i64, limit: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT c.id FROM cases c
             WHERE c.stage = 'closed' AND c.purged_at IS NULL
               AND (SELECT MAX(e.at) FROM case_events e
                    WHERE e.case_id = c.id AND e.kind = 'closed') < $1
             ORDER BY c.id LIMIT $2",
        )
        .bind(cutoff_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>("id")?))
            .collect()
    }

    /// Purges a closed case's identifying fields: its notes, its transfers'
    /// reasons and notes, its referrals' notes, then the child's name, the
    /// case marked purged. The notes go first and each statement is
    /// harmless to repeat, so a purge cut short is finished by the next;
    /// a case reopened meanwhile keeps everything. `false` when the case
    /// was not (or no longer) closed and unpurged.
    pub async fn purge_identifying(&self, case_id: i64) -> Result<bool> {
        // Only while the case is still closed and not yet purged.
        macro_rules! while_closed {
            ($sql:literal) => {
                concat!(
                    $sql,
                    " AND EXISTS (SELECT 1 FROM cases c WHERE c.id = $1 AND c.stage = 'closed' AND c.purged_at IS NULL)"
                )
            };
        }
        let statements: [&'static str; 3] = [
            while_closed!(
                "UPDATE case_events SET note = NULL WHERE case_id = $1 AND note IS NOT NULL"
            ),
            while_closed!(
                "UPDATE referrals SET note = NULL, outcome_note = NULL
                 WHERE case_id = $1 AND (note IS NOT NULL OR outcome_note IS NOT NULL)"
            ),
            while_closed!(
                "UPDATE case_transfers SET reason = '', decision_note = NULL
                 WHERE case_id = $1 AND (reason <> '' OR decision_note IS NOT NULL)"
            ),
        ];
        for sql in statements {
            self.write(
                Durability::Disk,
                Write {
                    sql: Some(sql),
                    args: vec![case_id.into()],
                    decode: Box::new(|_| Ok(())),
                },
            )
            .await?;
        }
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "UPDATE cases SET child_name = NULL, purged_at = $2
                     WHERE id = $1 AND stage = 'closed' AND purged_at IS NULL",
                ),
                args: vec![case_id.into(), self.clock.now_ms().into()],
                decode: Box::new(|o| Ok(o.rows_affected == 1)),
            },
        )
        .await
    }
}
