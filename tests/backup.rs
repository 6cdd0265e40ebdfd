//! `kanda backup` while reports come in, and `kanda restore`: every case
//! confirmed before the backup began comes back with its timeline, its
//! outbox rows and its timers; a restore refuses a database that holds
//! rows unless forced; a backup holds no child's name in clear.

mod common;

use std::sync::{Arc, Mutex};

use common::{config, holds, report_case, spawn_app, spawn_app_with, Db, TestDb};
use kanda::{
    cli::backup::{backup, restore},
    domain::{CaseRef, Scope, SystemClock},
};
use sqlx::{Connection, Row};

both!(a_backup_during_reports_restores_every_case_confirmed_before_it);

const NAMES: [&str; 8] = [
    "Amina", "Bella", "Cyiza", "Dusabe", "Eliane", "Fanny", "Gisele", "Hirwa",
];

/// Bytes of a backup as its rows would read: SQLite's file itself,
/// PostgreSQL's archive turned back into SQL (it is compressed).
fn backup_bytes(file: &std::path::Path) -> Vec<u8> {
    match kanda::cli::backup::Format::of(file).unwrap() {
        kanda::cli::backup::Format::Sqlite => std::fs::read(file).unwrap(),
        kanda::cli::backup::Format::PgDump => {
            let out = std::process::Command::new("pg_restore")
                .args(["--data-only", "--file", "-"])
                .arg(file)
                .output()
                .expect("pg_restore");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    }
}

async fn a_backup_during_reports_restores_every_case_confirmed_before_it(db: Db) {
    let source = TestDb::new(db).await;
    let app = spawn_app(&source).await;
    let confirmed: Arc<Mutex<Vec<(CaseRef, &str)>>> = Arc::default();
    let (count_tx, mut count_rx) = tokio::sync::watch::channel(0usize);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Reports, one after another, until told to stop.
    let load = {
        let (confirmed, app) = (confirmed.clone(), app.clone_client());
        tokio::spawn(async move {
            let mut i = 0;
            while !*stop_rx.borrow() {
                let name = NAMES[i % NAMES.len()];
                let reference = report_case(&app, &format!("load{i}"), name).await;
                let n = {
                    let mut c = confirmed.lock().unwrap();
                    c.push((reference, name));
                    c.len()
                };
                count_tx.send_replace(n);
                i += 1;
            }
        })
    };
    count_rx.wait_for(|n| *n >= 3).await.unwrap();
    let before: Vec<(CaseRef, &str)> = confirmed.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kanda.backup");
    let done = backup(&config(&source), &file).await.expect("backup");
    assert!(done.bytes > 0);
    // Reports went on during the backup; now stop them.
    let during = *count_rx.borrow();
    stop_tx.send_replace(true);
    load.await.unwrap();
    assert!(
        backup(&config(&source), &file).await.is_err(),
        "a backup never overwrites one"
    );

    // Restored into an empty database: every case confirmed before the
    // backup began, with its timeline, outbox rows and timers.
    let target = TestDb::new(db).await;
    let restored = restore(&config(&target), &file, false)
        .await
        .expect("restore");
    assert!(restored.cases.unwrap() as usize >= before.len());
    let copy = spawn_app_with(config(&target), Arc::new(SystemClock)).await;
    let mut conn = sqlx::AnyConnection::connect(&target.url).await.unwrap();
    for (reference, name) in &before {
        let case = copy
            .state
            .store
            .case_detail(Scope::National, reference)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("case {reference} confirmed before the backup is missing"));
        assert_eq!(case.child_name.as_deref(), Some(*name));
        let events = copy.state.store.case_events(reference).await.unwrap();
        assert!(!events.is_empty(), "{reference}: its timeline");
        for (table, sql) in [
            (
                "outbox",
                "SELECT COUNT(*) AS n FROM outbox WHERE case_id = $1",
            ),
            (
                "timers",
                "SELECT COUNT(*) AS n FROM timers WHERE case_id = $1",
            ),
        ] {
            let n: i64 = sqlx::query(sql)
                .bind(case.id)
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get("n");
            assert!(n > 0, "{reference}: its {table} rows");
        }
    }
    // The copy serves at once: a new report on it.
    report_case(&copy, "after-restore", "Ineza").await;
    copy.stop().await;
    eprintln!(
        "{} cases before the backup, {during} when it ended",
        before.len()
    );

    // A database that holds rows is refused, unless forced.
    let e = restore(&config(&source), &file, false).await.unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
    drop(conn);
    let forced = restore(&config(&target), &file, true)
        .await
        .expect("forced");
    assert_eq!(
        forced.cases, restored.cases,
        "the backup's cases, the later one gone"
    );

    // The backup holds ciphertext only.
    let bytes = backup_bytes(&file);
    assert!(
        holds(&bytes, before[0].0.as_str()),
        "the search reads the rows"
    );
    for name in NAMES {
        assert!(!holds(&bytes, name), "{name} is in the backup in clear");
    }
    app.stop().await;
}
