//! One schema, two dialects: `migrations/sqlite` and `migrations/postgres`
//! are migrated into fresh databases and read back from each database's own
//! catalogue (not from the SQL files), then compared: tables, columns (name,
//! position, nullability, a type class), primary keys, unique keys, foreign
//! keys and indexes (columns, order, uniqueness, partial predicate). Any
//! drift fails with the table and what differs.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use common::{skip_postgres, Db, TestDb};
use kanda::{domain::SystemClock, store::Store};
use sqlx::{Connection, Row};

/// A column as both databases can say it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    name: String,
    not_null: bool,
    class: &'static str,
}

/// An index made by `CREATE INDEX` (keys are compared apart).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
    predicate: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    unique_keys: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
}

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    indexes: BTreeMap<String, Index>,
}

/// The type class of a declared SQLite type or a PostgreSQL `data_type`:
/// what a query may rely on, whatever each database calls it.
fn class(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" | "int" | "int2" | "int4" | "int8" => "integer",
        "text" | "character varying" | "varchar" => "text",
        "real" | "double precision" | "float8" | "float4" => "real",
        "blob" | "bytea" => "blob",
        "boolean" | "bool" => "boolean",
        _ => "unknown",
    }
}

/// A partial index's predicate, in words both databases share (PostgreSQL
/// adds parentheses and `::text` casts to what it was given).
fn predicate(p: &str) -> String {
    let no_casts = regex::Regex::new(r"::[a-z ]+").expect("regex");
    no_casts
        .replace_all(p, "")
        .replace(['(', ')', ';'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn is_ours(table: &str) -> bool {
    !table.starts_with("sqlite_") && !table.starts_with("_sqlx")
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut c = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
    let mut s = Schema::default();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut c)
            .await
            .expect("tables");
    for name in names.into_iter().filter(|n| is_ours(n)) {
        let mut t = Table::default();
        let cols = sqlx::query(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .expect("columns");
        let mut pk = Vec::new();
        for r in cols {
            let pk_at: i64 = r.get("pk");
            let column: String = r.get("name");
            let declared: String = r.get("type");
            // SQLite lets a primary key be NULL unless it is the rowid; both
            // dialects' keys are never NULL in practice, as PostgreSQL says.
            let not_null = r.get::<i64, _>("notnull") == 1 || pk_at > 0;
            if pk_at > 0 {
                pk.push((pk_at, column.clone()));
            }
            t.columns.push(Column {
                name: column,
                not_null,
                class: class(&declared),
            });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();

        let indexes = sqlx::query(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .expect("indexes");
        for r in indexes {
            let index: String = r.get("name");
            let origin: String = r.get("origin");
            let unique = r.get::<i64, _>("unique") == 1;
            let cols = sqlx::query(
                "SELECT name, \"desc\" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
            )
            .bind(&index)
            .fetch_all(&mut c)
            .await
            .expect("index columns");
            let columns: Vec<String> = cols
                .iter()
                .map(|r| {
                    let n: String = r.get("name");
                    if r.get::<i64, _>("desc") == 1 {
                        format!("{n} desc")
                    } else {
                        n
                    }
                })
                .collect();
            match origin.as_str() {
                "pk" => t.primary_key = columns,
                "u" => {
                    t.unique_keys.insert(columns);
                }
                _ => {
                    let sql: Option<String> =
                        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
                            .bind(&index)
                            .fetch_one(&mut c)
                            .await
                            .expect("index sql");
                    let predicate = (r.get::<i64, _>("partial") == 1).then(|| {
                        let sql = sql.unwrap_or_default();
                        let at = sql.to_uppercase().rfind(" WHERE ").expect("a WHERE");
                        predicate(&sql[at + " WHERE ".len()..])
                    });
                    s.indexes.insert(
                        index,
                        Index {
                            table: name.clone(),
                            columns,
                            unique,
                            predicate,
                        },
                    );
                }
            }
        }

        let fks = sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .expect("foreign keys");
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
        for r in fks {
            let e = by_id
                .entry(r.get("id"))
                .or_insert_with(|| (Vec::new(), r.get("table"), Vec::new()));
            e.0.push(r.get("from"));
            // `REFERENCES t` without columns means t's primary key.
            e.2.push(
                r.get::<Option<String>, _>("to")
                    .unwrap_or_else(|| "id".into()),
            );
        }
        t.foreign_keys = by_id.into_values().collect();
        s.tables.insert(name, t);
    }
    s
}

async fn postgres_schema(url: &str) -> Schema {
    let mut c = sqlx::PgConnection::connect(url).await.expect("postgres");
    let mut s = Schema::default();
    let cols = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS name, is_nullable::text AS nullable,
                data_type::text AS type
         FROM information_schema.columns
         WHERE table_schema = 'public'
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut c)
    .await
    .expect("columns");
    for r in cols {
        let table: String = r.get("t");
        if !is_ours(&table) {
            continue;
        }
        let declared: String = r.get("type");
        s.tables.entry(table).or_default().columns.push(Column {
            name: r.get("name"),
            not_null: r.get::<String, _>("nullable") == "NO",
            class: class(&declared),
        });
    }

    // Every index with its columns in order (DESC from indoption's first
    // bit), whether it backs a constraint, and its predicate.
    let indexes = sqlx::query(
        "SELECT ic.relname::text AS index, t.relname::text AS t, i.indisunique AS unique,
                i.indisprimary AS primary,
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                        AND k.contype IN ('p', 'u')) AS constraint,
                pg_get_expr(i.indpred, i.indrelid) AS predicate,
                array_to_string(array(
                    SELECT a.attname || CASE WHEN (i.indoption[k.ord - 1] & 1) = 1
                                             THEN ' desc' ELSE '' END
                    FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                    ORDER BY k.ord), ',') AS columns
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public'
         ORDER BY ic.relname",
    )
    .fetch_all(&mut c)
    .await
    .expect("indexes");
    for r in indexes {
        let table: String = r.get("t");
        if !is_ours(&table) {
            continue;
        }
        let columns: Vec<String> = r
            .get::<String, _>("columns")
            .split(',')
            .map(str::to_string)
            .collect();
        let t = s.tables.entry(table.clone()).or_default();
        if r.get("primary") {
            t.primary_key = columns;
        } else if r.get("constraint") {
            t.unique_keys.insert(columns);
        } else {
            s.indexes.insert(
                r.get("index"),
                Index {
                    table,
                    columns,
                    unique: r.get("unique"),
                    predicate: r
                        .get::<Option<String>, _>("predicate")
                        .map(|p| predicate(&p)),
                },
            );
        }
    }

    let fks = sqlx::query(
        "SELECT t.relname::text AS t, k.conname::text AS name, rt.relname::text AS target,
                array_to_string(array(
                    SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS c(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = c.attnum
                    ORDER BY c.ord), ',') AS columns,
                array_to_string(array(
                    SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS c(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = c.attnum
                    ORDER BY c.ord), ',') AS target_columns
         FROM pg_constraint k
         JOIN pg_class t ON t.oid = k.conrelid
         JOIN pg_class rt ON rt.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE k.contype = 'f' AND n.nspname = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .expect("foreign keys");
    let split = |s: String| s.split(',').map(str::to_string).collect::<Vec<_>>();
    for r in fks {
        let table: String = r.get("t");
        s.tables.entry(table).or_default().foreign_keys.insert((
            split(r.get("columns")),
            r.get("target"),
            split(r.get("target_columns")),
        ));
    }
    s
}

/// What differs between the two, one line each (empty when they agree).
fn drift(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for name in names {
        let (Some(a), Some(b)) = (sqlite.tables.get(name), postgres.tables.get(name)) else {
            let only = if sqlite.tables.contains_key(name) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            out.push(format!("table {name}: only on {only}"));
            continue;
        };
        if a.columns != b.columns {
            let len = a.columns.len().max(b.columns.len());
            for i in 0..len {
                let (x, y) = (a.columns.get(i), b.columns.get(i));
                if x != y {
                    out.push(format!(
                        "table {name}, column {}: SQLite {x:?}, PostgreSQL {y:?}",
                        i + 1
                    ));
                }
            }
        }
        for c in &a.columns {
            if c.class == "unknown" {
                out.push(format!(
                    "table {name}, column {}: a type with no class",
                    c.name
                ));
            }
        }
        if a.primary_key != b.primary_key {
            out.push(format!(
                "table {name}: primary key SQLite {:?}, PostgreSQL {:?}",
                a.primary_key, b.primary_key
            ));
        }
        if a.unique_keys != b.unique_keys {
            out.push(format!(
                "table {name}: unique keys SQLite {:?}, PostgreSQL {:?}",
                a.unique_keys, b.unique_keys
            ));
        }
        if a.foreign_keys != b.foreign_keys {
            out.push(format!(
                "table {name}: foreign keys SQLite {:?}, PostgreSQL {:?}",
                a.foreign_keys, b.foreign_keys
            ));
        }
    }
    let names: BTreeSet<&String> = sqlite
        .indexes
        .keys()
        .chain(postgres.indexes.keys())
        .collect();
    for name in names {
        let (a, b) = (sqlite.indexes.get(name), postgres.indexes.get(name));
        if a != b {
            out.push(format!("index {name}: SQLite {a:?}, PostgreSQL {b:?}"));
        }
    }
    out
}

/// Both databases, freshly migrated (None when PostgreSQL is knowingly skipped).
async fn migrated() -> Option<(TestDb, TestDb)> {
    if skip_postgres() {
        eprintln!("KANDA_TEST_POSTGRES=skip: the schema comparison needs PostgreSQL; skipped");
        return None;
    }
    let lite = TestDb::new(Db::Sqlite).await;
    let pg = TestDb::new(Db::Postgres).await;
    for db in [&lite, &pg] {
        let keys = Arc::new(kanda::store::Keyring::parse(common::TEST_DATA_KEY).expect("key"));
        let store = Store::connect(&db.url, Arc::new(SystemClock), keys)
            .await
            .expect("migrate");
        store.close().await;
    }
    Some((lite, pg))
}

#[tokio::test]
async fn sqlite_and_postgres_migrate_to_the_same_schema() {
    let Some((lite, pg)) = migrated().await else {
        return;
    };
    let (a, b) = (
        sqlite_schema(&lite.url).await,
        postgres_schema(&pg.url).await,
    );
    // The reading found the schema at all: every table, keys and indexes.
    for t in ["cases", "case_events", "outbox", "timers", "staff", "rota"] {
        assert!(
            a.tables.contains_key(t),
            "SQLite has no {t}: {:?}",
            a.tables.keys()
        );
    }
    assert!(
        a.indexes.len() >= 10,
        "few indexes read: {:?}",
        a.indexes.keys()
    );
    assert!(a.indexes.values().any(|i| i.predicate.is_some()));
    assert!(a.tables["cases"]
        .unique_keys
        .contains(&vec!["reference".to_string()]));
    assert_eq!(a.tables["cases"].primary_key, ["id"]);
    assert!(!a.tables["cases"].foreign_keys.is_empty());
    let differs = drift(&a, &b);
    assert!(
        differs.is_empty(),
        "migrations/sqlite and migrations/postgres have drifted:\n{}",
        differs.join("\n")
    );
}

/// The comparison sees each kind of drift a migration could bring.
#[tokio::test]
async fn each_kind_of_drift_is_found() {
    let Some((lite, pg)) = migrated().await else {
        return;
    };
    let mut c = sqlx::SqliteConnection::connect(&lite.url)
        .await
        .expect("sqlite");
    for sql in [
        "ALTER TABLE cases ADD COLUMN drift TEXT",
        "CREATE INDEX cases_drift ON cases (drift)",
        "CREATE TABLE drifted (id INTEGER PRIMARY KEY)",
    ] {
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
    let mut c = sqlx::PgConnection::connect(&pg.url)
        .await
        .expect("postgres");
    for sql in [
        "ALTER TABLE staff ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE volunteers ADD CONSTRAINT volunteers_name_key UNIQUE (name)",
        "DROP INDEX timers_due",
        "CREATE INDEX timers_due ON timers (due_at, id) WHERE state = 'held'",
        "DROP INDEX outbox_due",
        "CREATE INDEX outbox_due ON outbox (urgent, next_attempt_at, id) WHERE status = 'queued'",
        "ALTER TABLE ussd_sessions ALTER COLUMN started_at TYPE TEXT",
    ] {
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
    let found = drift(
        &sqlite_schema(&lite.url).await,
        &postgres_schema(&pg.url).await,
    )
    .join("\n");
    for expected in [
        "table cases, column",
        "index cases_drift",
        "table drifted: only on SQLite",
        "table staff, column 3",
        "table volunteers: unique keys",
        "index timers_due",
        "index outbox_due",
        "table ussd_sessions, column 7",
    ] {
        assert!(found.contains(expected), "{expected:?} not in:\n{found}");
    }
}

#[test]
fn predicates_and_type_classes_read_alike() {
    assert_eq!(
        predicate("((state = 'pending'::text) AND (lease_until IS NOT NULL))"),
        predicate("state = 'pending' AND lease_until IS NOT NULL;")
    );
    assert_ne!(
        predicate("(state = 'pending'::text)"),
        predicate("state = 'held'")
    );
    assert_eq!(class("BIGINT"), class("integer"));
    assert_eq!(class("TEXT"), "text");
    assert_eq!(class("jsonb"), "unknown");
}
