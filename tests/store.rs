//! The store under concurrent writes (group commit on SQLite, autocommit on
//! PostgreSQL): each caller gets its own answer, failures stay with their
//! caller, and every answered write is committed.

mod common;

use common::{new_case, spawn_app, Db, TestDb};
use kanda::{
    domain::{CaseRef, Locale, Phone},
    domain::{Channel, NewCase, NewVisit},
    store::{StoreError, Table, VolunteerRow},
};

/// A volunteer's case (the demo's first volunteer).
fn case(key: &str, location_id: i64) -> NewCase {
    NewCase {
        volunteer_id: Some(1),
        ..new_case(key, location_id)
    }
}

both!(a_burst_of_writes_keeps_each_answer_to_its_caller);

async fn a_burst_of_writes_keeps_each_answer_to_its_caller(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let store = app.state.store.clone();
    let village = store.children(None).await.unwrap()[0].id; // a province: it has a centre
    let unknown_place = 999_999;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            match i % 6 {
                // The same session confirmed twice at once: one case.
                0 | 1 => store
                    .create_case(&case(&format!("dup:{}", i / 6), village))
                    .await
                    .map(|r| format!("case {r}")),
                2 => store
                    .create_case(&case(&format!("nocentre:{i}"), unknown_place))
                    .await
                    .map(|r| format!("case {r}")),
                3 => {
                    let visit = NewVisit {
                        source_key: format!("visit:{i}"),
                        reference: CaseRef::from_body(1_000_000 + i),
                        outcome: "safe".into(),
                        note: None,
                        volunteer_id: Some(1),
                        phone: Phone::from_trusted("+250788000001".into()),
                        channel: Channel::Ussd,
                    };
                    store.log_visit(&visit).await.map(|()| "visit".to_string())
                }
                _ => store
                    .create_case(&case(&format!("ok:{i}"), village))
                    .await
                    .map(|r| format!("case {r}")),
            }
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let mut dup_refs = std::collections::HashMap::new();
    for (i, r) in results.iter().enumerate() {
        match (i % 6, r) {
            (0 | 1, Ok(r)) => {
                let prev = dup_refs.insert(i / 6, r.clone());
                assert!(
                    prev.as_ref().is_none_or(|p| p == r),
                    "both confirmations of one session get the same case: {prev:?} {r}"
                );
            }
            (2, Err(StoreError::NoCentre(id))) => assert_eq!(*id, unknown_place),
            (3, Err(StoreError::NoCase(_))) => {}
            (4 | 5, Ok(r)) => assert!(r.starts_with("case ")),
            (k, other) => panic!("write {i} (kind {k}) got {other:?}"),
        }
    }
    assert_eq!(
        store.count(Table::Cases).await.unwrap(),
        10 + 20,
        "one case per duplicated session, one per plain write"
    );
    assert_eq!(
        store.count(Table::CaseEvents).await.unwrap(),
        0,
        "no visit on an unknown case"
    );
    app.stop().await;
}

both!(an_import_beside_the_service_writes_commits_and_loses_nothing);

/// An import reads reference data, then writes, in one transaction; the
/// service's writes commit meanwhile. On SQLite a transaction that read
/// before another connection's commit can no longer write, and fails at
/// once (`SQLITE_BUSY_SNAPSHOT`) unless it took the write lock first.
async fn an_import_beside_the_service_writes_commits_and_loses_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let store = app.state.store.clone();
    let village = store.children(None).await.unwrap()[0].id;
    let volunteers = store.count(Table::Volunteers).await.unwrap();
    let cases = (0..200).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .create_case(&case(&format!("busy:{i}"), village))
                .await
        })
    });
    let cases: Vec<_> = cases.collect();
    let imports = (0..10).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let row = VolunteerRow {
                phone: Phone::from_trusted(format!("+2507881234{i:02}")),
                name: format!("Volunteer {i}"),
                locale: Locale::parse("en").unwrap(),
                village_code: Some("S-HUY-TUM-01".into()),
            };
            store.import_volunteers(&[row]).await
        })
    });
    let imports: Vec<_> = imports.collect();
    for i in imports {
        assert_eq!(i.await.unwrap().unwrap(), 1, "an import failed");
    }
    for c in cases {
        c.await.unwrap().unwrap();
    }
    assert_eq!(
        store.count(Table::Volunteers).await.unwrap(),
        volunteers + 10
    );
    assert_eq!(store.count(Table::Cases).await.unwrap(), 200);
    app.stop().await;
}

both!(a_session_starts_from_the_profile_and_keeps_its_first_snapshot);

async fn a_session_starts_from_the_profile_and_keeps_its_first_snapshot(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let store = app.state.store.clone();
    let french = app.state.channels.phones.read("+250788000002").unwrap();
    let first = store.start_session("s1", &french, "en").await.unwrap();
    assert_eq!(first.locale, "fr");
    assert_eq!(first.phone, "+250788000002");
    let volunteer = first.volunteer_id.expect("a demo volunteer");
    assert!(first.village_id.is_some() && first.village_name.is_some());

    // The profile changes mid-session; a retried first hop (or another
    // server) still gets the snapshot the session started with.
    store
        .set_volunteer_locale(volunteer, &kanda::domain::Locale::parse("rw").unwrap())
        .await
        .unwrap();
    let again = store.start_session("s1", &french, "en").await.unwrap();
    assert_eq!(
        (again.locale.as_str(), again.started_at, again.volunteer_id),
        ("fr", first.started_at, Some(volunteer))
    );

    let stranger = app.state.channels.phones.read("+250788999999").unwrap();
    let public = store.start_session("s2", &stranger, "en").await.unwrap();
    assert_eq!(
        (
            public.locale.as_str(),
            public.volunteer_id,
            public.village_id,
            public.village_name
        ),
        ("en", None, None, None)
    );
    app.stop().await;
}
