//! The audit log: who did or read what, which case, when, from which
//! address. Rows are only ever appended (the database refuses an UPDATE or
//! a DELETE of one); read back filtered, oldest first. The same SQL on both
//! databases.

use sqlx::Row as _;

use super::{conditions::Conditions, Durability, Result, Store, Write};
use crate::domain::{from_ms, CaseRef};

/// A row to append.
#[derive(Clone, Debug)]
pub struct NewAudit {
    /// The staff member's phone (E.164), `token:NAME`, or for a failed
    /// sign-in the phone given.
    pub actor: String,
    pub action: &'static str,
    /// The case's row id, when the action is about one.
    pub case_id: Option<i64>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

/// A row as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub case: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

/// Which rows to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub case: Option<CaseRef>,
    pub actor: Option<String>,
    /// ms, included.
    pub from: Option<i64>,
    /// ms, excluded.
    pub to: Option<i64>,
    /// Rows after this id (paging).
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

impl Store {
    /// Appends a row.
    pub async fn audit(&self, e: NewAudit) -> Result<()> {
        self.write(
            Durability::Disk,
            Write {
                sql: Some(
                    "INSERT INTO audit_log (at, actor, action, case_id, address, detail)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ),
                args: vec![
                    self.clock.now_ms().into(),
                    e.actor.into(),
                    e.action.into(),
                    e.case_id.into(),
                    e.address.into(),
                    e.detail.into(),
                ],
                decode: Box::new(|_| Ok(())),
            },
        )
        .await
    }

    /// The rows the filter selects, oldest first.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut c = Conditions::default();
        if let Some(case) = &f.case {
            c.with(case.as_str(), |p| format!("c.reference = {p}"));
        }
        if let Some(actor) = &f.actor {
            c.with(actor.as_str(), |p| format!("a.actor = {p}"));
        }
        if let Some(from) = f.from {
            c.with(from, |p| format!("a.at >= {p}"));
        }
        if let Some(to) = f.to {
            c.with(to, |p| format!("a.at < {p}"));
        }
        if let Some(after) = f.after {
            c.with(after, |p| format!("a.id > {p}"));
        }
        let limit = match f.limit {
            Some(l) => format!(" LIMIT {}", c.arg(l as i64)),
            None => String::new(),
        };
        let sql = format!(
            "SELECT a.id, a.at, a.actor, a.action, c.reference, a.address, a.detail
             FROM audit_log a LEFT JOIN cases c ON c.id = a.case_id{} ORDER BY a.id{limit}",
            c.clause()
        );
        let q = c.bind(&sql);
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: from_ms(r.try_get("at")?).to_rfc3339(),
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    case: r.try_get("reference")?,
                    address: r.try_get("address")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
