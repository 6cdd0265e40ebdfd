//! A write, the same on both databases: one statement written once (`$1`
//! to `$n` placeholders), its arguments, and how to read its outcome. On
//! SQLite it runs on the group commit's writer thread (see
//! `group_commit.rs`); on PostgreSQL through sqlx on a pooled connection
//! ([`run_alone`]). Its outcome ([`Outcome`], [`Row`]) is the same plain
//! data from either, so a decoder is written once.

use sqlx::{
    any::{AnyArguments, AnyRow},
    query::Query,
    Any, AnyConnection, Column, Row as _,
};

use super::{Result, StoreError};

/// A value for a statement's placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// A value a statement returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// A returned row: its columns by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    columns: Vec<(String, Value)>,
}

impl Row {
    pub fn new(columns: Vec<(String, Value)>) -> Self {
        Row { columns }
    }

    /// The row sqlx read: each column as an integer, else as text.
    pub fn from_any(row: &AnyRow) -> Result<Self> {
        let mut columns = Vec::with_capacity(row.columns().len());
        for (i, column) in row.columns().iter().enumerate() {
            let value = match row.try_get::<Option<i64>, _>(i) {
                Ok(v) => v.map_or(Value::Null, Value::Int),
                Err(_) => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
            };
            columns.push((column.name().to_string(), value));
        }
        Ok(Row { columns })
    }

    pub(super) fn value(&self, name: &str) -> Result<&Value> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| StoreError::Invalid(format!("no column `{name}` in the row")))
    }

    /// An integer column, or `None` for NULL.
    pub fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Text(_) => Err(StoreError::Invalid(format!(
                "column `{name}` is text, not an integer"
            ))),
        }
    }

    /// A text column, or `None` for NULL.
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            Value::Int(_) => Err(StoreError::Invalid(format!(
                "column `{name}` is an integer, not text"
            ))),
        }
    }

    /// An integer column that may not be NULL.
    pub fn int_required(&self, name: &str) -> Result<i64> {
        self.int(name)?
            .ok_or_else(|| StoreError::Invalid(format!("column `{name}` is NULL")))
    }

    /// A text column that may not be NULL.
    pub fn text_required(&self, name: &str) -> Result<String> {
        self.text(name)?
            .ok_or_else(|| StoreError::Invalid(format!("column `{name}` is NULL")))
    }
}

/// What a statement did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub rows_affected: u64,
}

/// Reads a statement's outcome into the caller's answer.
pub type Decode<T> = Box<dyn FnOnce(Outcome) -> Result<T> + Send>;

/// One write: a single statement whose placeholders are `$1` to `$n` for its
/// `n` arguments (`sql: None` runs nothing and only waits for the
/// durability asked), and what to make of its outcome.
pub struct Write<T> {
    pub sql: Option<&'static str>,
    pub args: Vec<Arg>,
    pub decode: Decode<T>,
}

fn bind<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    args: &'q [Arg],
) -> Query<'q, Any, AnyArguments<'q>> {
    for a in args {
        query = match a {
            Arg::Int(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.as_deref()),
        };
    }
    query
}

/// Runs one write's statement on `conn` through sqlx (autocommit) and reads
/// its outcome.
pub async fn run_alone<T>(conn: &mut AnyConnection, write: Write<T>) -> Result<T> {
    let outcome = match write.sql {
        None => Outcome::default(),
        Some(sql) => {
            use futures_util::TryStreamExt;
            use sqlx::{Either, Executor};
            let mut outcome = Outcome::default();
            let mut results = conn.fetch_many(bind(sqlx::query(sql), &write.args));
            while let Some(item) = results.try_next().await? {
                match item {
                    Either::Left(done) => outcome.rows_affected += done.rows_affected(),
                    Either::Right(row) => outcome.rows.push(Row::from_any(&row)?),
                }
            }
            outcome
        }
    };
    (write.decode)(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_its_columns_by_name_and_type() {
        let row = Row::new(vec![
            ("id".into(), Value::Int(7)),
            ("name".into(), Value::Text("Ana".into())),
            ("gone".into(), Value::Null),
        ]);
        assert_eq!(row.int("id").unwrap(), Some(7));
        assert_eq!(row.text_required("name").unwrap(), "Ana");
        assert_eq!(row.int("gone").unwrap(), None);
        assert_eq!(row.text("gone").unwrap(), None);
        assert!(row.int_required("gone").is_err());
        assert!(row.text("id").is_err());
        assert!(row.int("name").is_err());
        assert!(row.int("missing").is_err());
    }
}
