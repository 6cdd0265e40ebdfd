//! Resealing under the current data key, in batches, while the service
//! runs: each sealed column is walked in key order from a cursor, and each
//! value not under the current key (an older key's, or clear text written
//! before encryption) is opened and sealed again. A value is replaced only
//! if it is still the one read (`WHERE column = old`): a row the service
//! rewrote meanwhile was written under the current key already, and a row
//! deleted meanwhile is simply gone. The same SQL on both databases.

use std::sync::OnceLock;

use super::{
    sealed::{Column, COLUMNS},
    write::{Arg, Row as Written, Value},
    Durability, Result, Store, StoreError, Write,
};

/// How far a column's walk got: its last row's key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor(Vec<Arg>);

/// One batch's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resealed {
    /// Values sealed again under the current key.
    pub resealed: usize,
    /// Values the service changed between the read and the write (now
    /// under the current key): left as they are.
    pub moved: usize,
    /// Where the next batch starts; `None` once the column is done.
    pub next: Option<Cursor>,
}

/// A list of what a rotation walks (`table.column`), in order.
pub fn sealed_columns() -> Vec<String> {
    COLUMNS.iter().map(Column::label).collect()
}

/// Column `column`'s compare-and-set update: written once per column for
/// the life of the process (writes take static statements; ten of them).
fn update_sql(column: usize) -> &'static str {
    static SQL: OnceLock<Vec<&'static str>> = OnceLock::new();
    SQL.get_or_init(|| {
        COLUMNS
            .iter()
            .map(|col| {
                let matches: Vec<String> = col
                    .key
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("{k} = ${}", i + 3))
                    .collect();
                let sql = format!(
                    "UPDATE {table} SET {name} = $1 WHERE {name} = $2 AND {matches}",
                    table = col.table,
                    name = col.name,
                    matches = matches.join(" AND "),
                );
                &*Box::leak(sql.into_boxed_str())
            })
            .collect()
    })[column]
}

impl Store {
    /// Reseals up to `limit` values of sealed column number `column` (in
    /// [`sealed_columns`]' order) after `from`.
    pub async fn reseal_batch(
        &self,
        column: usize,
        from: Option<&Cursor>,
        limit: usize,
    ) -> Result<Resealed> {
        let col = *COLUMNS
            .get(column)
            .ok_or_else(|| StoreError::Invalid(format!("no sealed column {column}")))?;
        let keys = col.key.join(", ");
        let mut args: Vec<Arg> = vec![self.keys.current_pattern().into()];
        let after = match from {
            None => String::new(),
            Some(Cursor(values)) => {
                let marks: Vec<String> = (0..values.len())
                    .map(|i| format!("${}", args.len() + 1 + i))
                    .collect();
                args.extend(values.iter().cloned());
                format!(" AND ({keys}) > ({})", marks.join(", "))
            }
        };
        // An empty answer list is kept in clear (it says nothing).
        let sql = format!(
            "SELECT {keys}, {name} AS sealed FROM {table}
             WHERE {name} IS NOT NULL AND {name} NOT LIKE $1 AND {name} <> '[]'{after}
             ORDER BY {keys} LIMIT {limit}",
            name = col.name,
            table = col.table,
        );
        let mut query = sqlx::query(&sql);
        for a in &args {
            query = match a {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.clone()),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let rows: Vec<Written> = rows.iter().map(Written::from_any).collect::<Result<_>>()?;
        let label = col.label();
        let mut writes = Vec::with_capacity(rows.len());
        let mut last = None;
        for r in &rows {
            let old = r.text_required("sealed")?;
            let clear = self.keys.open(&label, &old)?;
            let key: Vec<Arg> = col
                .key
                .iter()
                .map(|k| match r.value(k)? {
                    Value::Int(i) => Ok(Arg::Int(Some(*i))),
                    Value::Text(t) => Ok(Arg::Text(Some(t.clone()))),
                    Value::Null => Err(StoreError::Invalid(format!(
                        "{label}: a row without its key {k}"
                    ))),
                })
                .collect::<Result<_>>()?;
            let mut args = vec![self.keys.seal(&label, &clear).into(), old.into()];
            args.extend(key.iter().cloned());
            writes.push(self.write(
                Durability::Disk,
                Write {
                    sql: Some(update_sql(column)),
                    args,
                    decode: Box::new(|o| Ok(o.rows_affected == 1)),
                },
            ));
            last = Some(Cursor(key));
        }
        // Sent together: on SQLite they share the group commit's batches.
        let done = futures_util::future::join_all(writes).await;
        let mut resealed = 0;
        for d in done {
            if d? {
                resealed += 1;
            }
        }
        Ok(Resealed {
            resealed,
            moved: rows.len() - resealed,
            next: match rows.len() < limit {
                true => None,
                false => last,
            },
        })
    }
}
