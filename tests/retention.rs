//! Retention (`KANDA_RETENTION`): on its durable daily timer, a case closed
//! for longer than the period loses the child's name and its notes, and
//! nothing else; a case closed more recently, an open case and a reopened
//! one keep everything; each purge is in the audit log.

mod common;

use std::{sync::Arc, time::Duration};

use sqlx::{Connection, Row};

use common::{eventually, report_case, sms_config, spawn_app_with, tuesday_morning, Db, TestDb};
use kanda::{
    domain::{CaseRef, Phone, Scope, StageChange},
    store::{AuditFilter, Table},
};

both!(a_case_closed_past_the_period_loses_its_name_and_notes_only);

const YEAR: Duration = Duration::from_secs(365 * 86_400);
const CLAUDINE: &str = "+250788100001"; // caseworker at CAPE-S

async fn stage(
    app: &common::TestApp,
    r: &CaseRef,
    change: StageChange,
    reason: Option<&str>,
    note: &str,
    key: &str,
) {
    let staff = app
        .state
        .store
        .staff_by_phone(&Phone::from_trusted(CLAUDINE.into()))
        .await
        .unwrap()
        .expect("Claudine");
    let actor = kanda::casework::staff_actor(&staff);
    app.state
        .work
        .record_stage_as(
            &actor,
            r,
            change,
            reason.map(str::to_string),
            Some(note.to_string()),
            "web",
            key.to_string(),
        )
        .await
        .unwrap_or_else(|e| panic!("{change:?} {r}: {e}"));
}

async fn a_case_closed_past_the_period_loses_its_name_and_notes_only(db: Db) {
    use StageChange::*;
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let mut config = sms_config(&db);
    config.scheduler.poll = Duration::from_millis(10);
    config.retention = Some(YEAR);
    let app = spawn_app_with(config, Arc::new(clock.clone())).await;

    let old = report_case(&app, "old", "Amina").await;
    let recent = report_case(&app, "recent", "Bella").await;
    let open = report_case(&app, "open", "Cyiza").await;
    let reopened = report_case(&app, "reopened", "Dusabe").await;
    for r in [&old, &recent, &reopened] {
        stage(
            &app,
            r,
            Acknowledge,
            None,
            "Called the family, the girl is safe tonight",
            &format!("{r}-ack"),
        )
        .await;
        stage(
            &app,
            r,
            Close,
            Some("plan_completed"),
            "Back at school, living with her aunt Mukamana",
            &format!("{r}-close"),
        )
        .await;
    }
    clock.advance(chrono::Duration::days(10));
    stage(
        &app,
        &reopened,
        Reopen,
        Some("new danger"),
        "Seen alone at night again",
        "reopen",
    )
    .await;
    clock.advance(chrono::Duration::days(290));
    stage(
        &app,
        &recent,
        Reopen,
        Some("new danger"),
        "Back home",
        "recent-reopen",
    )
    .await;
    stage(
        &app,
        &recent,
        Close,
        Some("plan_completed"),
        "Settled with the aunt",
        "recent-close",
    )
    .await;

    // The purge is a durable timer, due within the next day.
    let events_before = app.state.store.count(Table::CaseEvents).await.unwrap();
    clock.advance(chrono::Duration::days(70)); // the old case: 370 days closed
    let store = app.state.store.clone();
    let url = db.url.clone();
    eventually("the retention timer", || {
        let url = url.clone();
        async move {
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM timers WHERE kind = 'retention' AND state = 'pending'",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get("n");
            n == 1
        }
    })
    .await;
    clock.advance(chrono::Duration::days(1));
    eventually("the purge", || {
        let store = store.clone();
        let old = old.clone();
        async move {
            store
                .audit_entries(&AuditFilter {
                    case: Some(old),
                    ..AuditFilter::default()
                })
                .await
                .unwrap()
                .iter()
                .any(|e| e.action == "retention_purge")
        }
    })
    .await;

    let read = |r: CaseRef| {
        let store = store.clone();
        async move {
            let case = store
                .case_detail(Scope::National, &r)
                .await
                .unwrap()
                .expect("the case stays");
            let notes: Vec<Option<String>> = store
                .case_events(&r)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.kind != "registered")
                .map(|e| e.note)
                .collect();
            (case, notes)
        }
    };
    let (case, notes) = read(old.clone()).await;
    assert_eq!(case.child_name, None, "the name is gone");
    assert_eq!(case.stage, "closed", "the case stays, closed");
    assert!(
        !notes.is_empty() && notes.iter().all(Option::is_none),
        "{notes:?}"
    );
    for (r, name) in [(&recent, "Bella"), (&open, "Cyiza"), (&reopened, "Dusabe")] {
        let (case, notes) = read(r.clone()).await;
        assert_eq!(case.child_name.as_deref(), Some(name), "{r} keeps its name");
        assert!(
            notes.iter().any(Option::is_some) || r == &open,
            "{r} keeps its notes"
        );
    }
    // Deadlines kept running meanwhile (a missed review is an event).
    assert!(
        app.state.store.count(Table::CaseEvents).await.unwrap() >= events_before,
        "no event is deleted"
    );
    let purges: Vec<_> = store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "retention_purge")
        .collect();
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert_eq!(purges[0].actor, "system:retention");
    assert_eq!(purges[0].case.as_deref(), Some(old.as_str()));
    // The next day's purge finds nothing more, and is scheduled again.
    assert_eq!(
        kanda::casework::retention::purge(&app.state.work, YEAR)
            .await
            .unwrap(),
        0
    );
    app.stop().await;
}
