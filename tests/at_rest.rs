//! Child data at rest: a child's name, a note, and the answers of an
//! unfinished session are sealed in the database (its bytes are searched),
//! read back in clear through the service, and resealed under a new key
//! while reports keep coming, with nothing lost. `serve` refuses to start
//! without a key; `--demo` makes one beside its database.

mod common;

use std::{process::Command, sync::Arc};

use common::{
    config, database_bytes, holds, report_case, spawn_app, spawn_app_with, Db, TestDb, GRACE,
};
use kanda::{
    domain::{Scope, SystemClock},
    store::{Keyring, NewEvent},
};
use sqlx::{Connection, Row};

both!(
    a_name_a_note_and_unfinished_answers_are_sealed_in_the_database,
    a_rotation_while_reports_come_in_loses_nothing,
);

async fn a_name_a_note_and_unfinished_answers_are_sealed_in_the_database(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let reference = report_case(&app, "s1", "Uwamahoro").await;
    // An unfinished session: a name typed, then the line dropped.
    app.session("s2", GRACE, &["1", "Kanezeza"]).await;
    let case = app
        .state
        .store
        .case_detail(Scope::National, &reference)
        .await
        .unwrap()
        .expect("the case");
    assert_eq!(
        case.child_name.as_deref(),
        Some("Uwamahoro"),
        "read back in clear"
    );
    let note = "Seen at the market with bruises on both arms";
    app.state
        .store
        .record_event(&NewEvent {
            case_id: case.id,
            kind: "note",
            actor: Some("+250788100001".into()),
            channel: Some("web".into()),
            outcome: None,
            note: Some(note.into()),
            source_key: "at-rest-note".into(),
        })
        .await
        .unwrap();
    let timeline = app.state.store.case_events(&reference).await.unwrap();
    assert!(timeline.iter().any(|e| e.note.as_deref() == Some(note)));

    let bytes = database_bytes(&db.url);
    // The search finds what is stored in clear (the case's reference)...
    assert!(
        holds(&bytes, reference.as_str()),
        "the search reads the rows"
    );
    // ...and none of what identifies the child.
    for secret in ["Uwamahoro", "Kanezeza", note] {
        assert!(
            !holds(&bytes, secret),
            "{secret:?} is in the database in clear"
        );
    }
    app.stop().await;
}

async fn a_rotation_while_reports_come_in_loses_nothing(db: Db) {
    const NAMES: [&str; 12] = [
        "Amina", "Bella", "Cyiza", "Dusabe", "Eliane", "Fanny", "Gisele", "Hirwa", "Ineza",
        "Josiane", "Keza", "Lina",
    ];
    let db = TestDb::new(db).await;
    let (old, new) = (Keyring::new_key(), Keyring::new_key());
    let keyed = |keys: &str| {
        let mut c = config(&db);
        c.data_keys = Some(Arc::new(Keyring::parse(keys).unwrap()));
        c
    };
    // Cases sealed under the old key, and one name written in clear before
    // encryption existed.
    let first = spawn_app_with(keyed(&old), Arc::new(SystemClock)).await;
    let mut cases = Vec::new();
    for (i, name) in NAMES[..6].iter().enumerate() {
        cases.push((report_case(&first, &format!("a{i}"), name).await, *name));
    }
    let legacy = report_case(&first, "legacy", "Mugisha").await;
    first.stop().await;
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE cases SET child_name = 'Mugisha' WHERE reference = $1")
        .bind(legacy.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    cases.push((legacy, "Mugisha"));

    // The new key first, the old one still read: reports keep coming while
    // the rotation runs.
    let app = spawn_app_with(keyed(&format!("{new},{old}")), Arc::new(SystemClock)).await;
    let rotation = {
        let state = app.state.clone();
        tokio::spawn(async move { kanda::cli::keys::rotate(&state, 2, |_, _| {}).await })
    };
    for (i, name) in NAMES[6..].iter().enumerate() {
        cases.push((report_case(&app, &format!("b{i}"), name).await, *name));
    }
    let resealed = rotation.await.unwrap().unwrap();
    assert!(
        resealed >= 7,
        "the old key's cases and the clear one: {resealed}"
    );
    // Run again: nothing is left under the old key.
    let again = kanda::cli::keys::rotate(&app.state, 2, |_, _| {})
        .await
        .unwrap();
    assert_eq!(again, 0);
    app.stop().await;

    // The new key alone reads every case, each with its own name.
    let only_new = spawn_app_with(keyed(&new), Arc::new(SystemClock)).await;
    for (reference, name) in &cases {
        let case = only_new
            .state
            .store
            .case_detail(Scope::National, reference)
            .await
            .unwrap()
            .expect("the case");
        assert_eq!(case.child_name.as_deref(), Some(*name), "{reference}");
    }
    let id = only_new.state.store.keys().current_id().to_string();
    let rows = sqlx::query("SELECT child_name FROM cases")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), cases.len());
    for r in rows {
        let stored: String = r.get("child_name");
        assert!(stored.starts_with(&format!("enc1:{id}:")), "{stored}");
    }
    only_new.stop().await;
}

#[test]
fn serve_refuses_to_start_without_a_key_and_the_demo_makes_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kanda.db");
    let kanda = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kanda"))
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env_remove("KANDA_DATA_KEY")
            .env_remove("KANDA_DATA_KEY_FILE")
            .env("KANDA_BIND", "127.0.0.1:0")
            .output()
            .unwrap()
    };
    let out = kanda(&["serve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("KANDA_DATA_KEY") && err.contains("kanda keys new"),
        "{err}"
    );

    let out = kanda(&["keys", "new"]);
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(Keyring::parse(&key).is_ok(), "{key}");
    assert_ne!(
        key,
        String::from_utf8_lossy(&kanda(&["keys", "new"]).stdout).trim()
    );

    // `serve --demo` with no key: one is made beside the database, only
    // its owner may read it, and the next start reads the same.
    let url = format!("sqlite://{}", db.display());
    let (keys, file, made) = kanda::app::demo::demo_keys(&url).unwrap();
    assert!(made);
    assert_eq!(file, dir.path().join("kanda.db.key"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let (again, _, made) = kanda::app::demo::demo_keys(&url).unwrap();
    assert!(!made);
    assert_eq!(again.current_id(), keys.current_id());
}
