//! Rotas and escalation chains on both databases: the imports (row-numbered
//! errors naming the column, all or nothing per file, a re-import replacing
//! a centre's rows), who is on duty at a local moment (overnight spans, the
//! fallback contacts, a centre with no rota), the chain's levels, and staff
//! found by any spelling of their phone.

mod common;

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use common::{Db, TestDb, ALINE, CLAUDINE, ESTHER, JEAN, PATRICK};
use kanda::{
    casework::rota::{on_duty, on_duty_at},
    channels::import::{Importer, Kind},
    domain::Phone,
    domain::SystemClock,
    store::{Contact, Store, Table},
    AppState,
};

/// A state over a fresh database with the demo seeded (no server).
async fn demo(db: &TestDb) -> AppState {
    common::demo_state(common::config(db), Arc::new(SystemClock)).await
}

async fn import(state: &AppState, kind: Kind, file: &str, text: &str) -> Result<usize, String> {
    let importer = Importer {
        store: &state.store,
        country: state.config.country,
        texts: state.engine.texts(),
    };
    importer
        .import(kind, file, text.as_bytes())
        .await
        .map_err(|e| e.to_string())
}

/// Day 1 is Monday 2026-11-30, day 7 Sunday 2026-12-06.
fn at(day: i64, hh: u32, mm: u32) -> NaiveDateTime {
    (NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() + chrono::TimeDelta::days(day - 1))
        .and_hms_opt(hh, mm, 0)
        .unwrap()
}

fn phones(contacts: &[Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.phone.as_str()).collect()
}

async fn centre(store: &Store, code: &str) -> i64 {
    store.centre_id(code).await.unwrap().expect("a centre")
}

/// Not in the demo: the tests add him to CAPE-S.
const DIDIER: &str = "+250788100003";

both!(
    the_demo_has_a_rota_and_a_chain_for_each_centre,
    on_duty_follows_days_hours_overnight_spans_and_the_fallback,
    bad_rota_rows_are_named_by_line_and_column_and_nothing_is_imported,
    chains_import_by_word_or_number_and_bad_ones_are_refused_whole,
    a_centre_without_a_rota_alerts_its_caseworkers_then_its_managers,
    staff_are_found_by_any_spelling_of_their_phone,
);

async fn the_demo_has_a_rota_and_a_chain_for_each_centre(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    let south = centre(store, "CAPE-S").await;
    let east = centre(store, "CAPE-E").await;
    assert_eq!(store.count(Table::Rota).await.unwrap(), 2);

    assert_eq!(
        phones(&on_duty(store, south, at(1, 10, 0)).await.unwrap()),
        [CLAUDINE]
    );
    assert_eq!(
        phones(&on_duty(store, south, at(6, 10, 0)).await.unwrap()),
        [CLAUDINE],
        "saturday: her as the fallback"
    );
    assert_eq!(
        phones(&on_duty(store, east, at(7, 3, 0)).await.unwrap()),
        [ALINE]
    );

    assert_eq!(store.escalation_depth(south).await.unwrap(), 3);
    assert_eq!(
        phones(&store.escalation_level(south, 1).await.unwrap()),
        [CLAUDINE]
    );
    assert_eq!(
        phones(&store.escalation_level(south, 2).await.unwrap()),
        [JEAN]
    );
    let committee = store.escalation_level(south, 3).await.unwrap();
    assert_eq!(phones(&committee), [ESTHER]);
    assert_eq!(committee[0].role, "committee");
    assert_eq!(committee[0].locale.as_str(), "en");
    assert!(store.escalation_level(south, 4).await.unwrap().is_empty());
    assert_eq!(store.escalation_depth(east).await.unwrap(), 2);
    let whole: Vec<(i64, String)> = store
        .escalation_chain(south)
        .await
        .unwrap()
        .into_iter()
        .map(|(l, c)| (l, c.phone.to_string()))
        .collect();
    assert_eq!(
        whole,
        [
            (1, CLAUDINE.to_string()),
            (2, JEAN.into()),
            (3, ESTHER.into())
        ]
    );
    assert_eq!(
        phones(&store.escalation_level(east, 2).await.unwrap()),
        [PATRICK]
    );

    let managers = store.centre_managers(south).await.unwrap();
    assert_eq!(phones(&managers), [JEAN]);
    assert_eq!(
        (
            managers[0].name.as_str(),
            managers[0].role.as_str(),
            managers[0].locale.as_str()
        ),
        ("Jean Mugabo", "manager", "fr")
    );
    assert_eq!(
        phones(&store.centre_managers(east).await.unwrap()),
        [PATRICK]
    );
    state.store.close().await;
}

async fn on_duty_follows_days_hours_overnight_spans_and_the_fallback(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    import(
        &state,
        Kind::Staff,
        "staff.csv",
        "phone,name,role,centre_code,language\n0788100003,Didier Hakizimana,caseworker,CAPE-S,fr\n",
    )
    .await
    .unwrap();
    let rota = "centre_code,phone,days,hours,fallback\n\
                CAPE-S,0788 100 001,mon-fri,08:00-17:00,no\n\
                CAPE-S,250788100002,\"sat,sun\",all day,non\n\
                CAPE-S,+250788100003,lun-ven,17:00-08:00,oui\n";
    assert_eq!(import(&state, Kind::Rota, "rota.csv", rota).await, Ok(3));
    let south = centre(store, "CAPE-S").await;
    let entries = store.rota(south).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].hours.to_string(), "17:00-08:00");
    assert!(entries[2].fallback && !entries[0].fallback);

    let duty = |day, hh, mm| async move { on_duty(store, south, at(day, hh, mm)).await.unwrap() };
    assert_eq!(phones(&duty(1, 10, 0).await), [CLAUDINE]);
    assert_eq!(
        phones(&duty(1, 8, 0).await),
        [CLAUDINE],
        "her start is hers; his end is not his"
    );
    assert_eq!(
        phones(&duty(1, 17, 0).await),
        [DIDIER],
        "her end, his start"
    );
    assert_eq!(phones(&duty(1, 23, 30).await), [DIDIER]);
    assert_eq!(
        phones(&duty(2, 3, 0).await),
        [DIDIER],
        "monday night runs into tuesday"
    );
    assert_eq!(phones(&duty(2, 7, 59).await), [DIDIER]);
    assert_eq!(
        phones(&duty(6, 3, 0).await),
        [JEAN, DIDIER],
        "friday night runs into saturday, and saturday is jean's"
    );
    assert_eq!(phones(&duty(7, 23, 59).await), [JEAN]);
    assert_eq!(
        phones(&duty(1, 3, 0).await),
        [DIDIER],
        "monday 03:00: sunday night is no one's, so the fallback"
    );

    // The same through an instant: Kigali is UTC+2.
    let utc = "2026-11-30T08:00:00Z".parse().unwrap();
    let tz = chrono_tz::Tz::Africa__Kigali;
    assert_eq!(
        phones(&on_duty_at(store, south, tz, utc).await.unwrap()),
        [CLAUDINE]
    );

    // A re-import of the centre replaces its whole rota; the other centre's stays.
    let again = "centre_code,phone,days,hours,fallback\nCAPE-S,+250788100002,daily,00:00-24:00,1\n";
    assert_eq!(import(&state, Kind::Rota, "rota2.csv", again).await, Ok(1));
    assert_eq!(store.rota(south).await.unwrap().len(), 1);
    assert_eq!(phones(&duty(1, 10, 0).await), [JEAN]);
    let east = centre(store, "CAPE-E").await;
    assert_eq!(
        store.rota(east).await.unwrap().len(),
        1,
        "CAPE-E keeps its rota"
    );
    assert_eq!(store.count(Table::Rota).await.unwrap(), 2);
    state.store.close().await;
}

async fn bad_rota_rows_are_named_by_line_and_column_and_nothing_is_imported(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    let bad = "centre_code,phone,days,hours,fallback\n\
               CAPE-X,+250788100001,mon-fri,08:00-17:00,yes\n\
               CAPE-S,not-a-phone,mon-fri,08:00-17:00,yes\n\
               CAPE-S,+250788000001,mon-fri,08:00-17:00,yes\n\
               CAPE-S,0788200001,mon-fri,08:00-17:00,yes\n\
               CAPE-S,0788100001,funday,08:00-17:00,yes\n\
               CAPE-S,0788100001,mon,8-17,yes\n\
               CAPE-S,0788100001,mon,08:00-08:00,yes\n\
               CAPE-S,0788100001,mon,08:00-17:00,maybe\n\
               CAPE-S,0788100002,tue,08:00-17:00,yes\n";
    let e = import(&state, Kind::Rota, "rota.csv", bad)
        .await
        .unwrap_err();
    for want in [
        "rota.csv:2: centre_code `CAPE-X` is unknown: import centres first",
        "rota.csv:3: phone: `not-a-phone` is not a phone number",
        "rota.csv:4: phone +250788000001 is not a staff member: import staff first",
        "rota.csv:5: phone +250788200001 is a staff member of CAPE-E, not of CAPE-S",
        "rota.csv:6: days `funday`: write e.g. mon-fri",
        "rota.csv:7: hours `8-17`: write HH:MM-HH:MM",
        "rota.csv:8: hours `08:00-08:00`: start and end are the same; write `all day`",
        "rota.csv:9: fallback `maybe`: use yes or no",
        "nothing was imported from rota.csv",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    assert!(
        !e.contains("rota.csv:10:"),
        "a good row is not blamed:\n{e}"
    );

    let no_fallback = "centre_code,phone,days,hours,fallback\n\
                       CAPE-S,0788100001,mon-fri,08:00-17:00,yes\n\
                       CAPE-E,0788200001,all,all day,no\n\
                       CAPE-E,0788200002,sat,all day,\n";
    let e = import(&state, Kind::Rota, "rota.csv", no_fallback)
        .await
        .unwrap_err();
    assert!(
        e.contains("rota.csv:3: centre `CAPE-E` has no fallback contact"),
        "{e}"
    );
    assert!(!e.contains("CAPE-S"), "{e}");

    let e = import(
        &state,
        Kind::Rota,
        "rota.csv",
        "centre_code,phone,days,hours\nCAPE-S,0788100001,mon,all day\n",
    )
    .await
    .unwrap_err();
    assert!(e.contains("rota.csv:1: missing column(s) fallback"), "{e}");

    let south = centre(store, "CAPE-S").await;
    assert_eq!(
        store.count(Table::Rota).await.unwrap(),
        2,
        "the demo's rows, untouched"
    );
    assert_eq!(
        phones(&on_duty(store, south, at(2, 10, 0)).await.unwrap()),
        [CLAUDINE]
    );
    state.store.close().await;
}

async fn chains_import_by_word_or_number_and_bad_ones_are_refused_whole(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    import(
        &state,
        Kind::Staff,
        "staff.csv",
        "phone,name,role,centre_code,language\n0788100003,Didier Hakizimana,caseworker,CAPE-S,fr\n",
    )
    .await
    .unwrap();
    let south = centre(store, "CAPE-S").await;
    let east = centre(store, "CAPE-E").await;
    let chain = "centre_code,level,phone\nCAPE-S,1,0788100003\nCAPE-S,caseworker,0788100001\nCAPE-S,2,250788100002\n";
    assert_eq!(import(&state, Kind::Chain, "chain.csv", chain).await, Ok(3));
    assert_eq!(
        store.escalation_depth(south).await.unwrap(),
        2,
        "the committee level is gone"
    );
    assert_eq!(
        phones(&store.escalation_level(south, 1).await.unwrap()),
        [CLAUDINE, DIDIER],
        "a level may list several people"
    );
    assert!(store.escalation_level(south, 3).await.unwrap().is_empty());
    assert_eq!(
        store.escalation_depth(east).await.unwrap(),
        2,
        "CAPE-E keeps its chain"
    );
    assert_eq!(store.count(Table::EscalationChain).await.unwrap(), 3 + 2);

    let bad = "centre_code,level,phone\n\
               CAPE-S,1,0788100001\n\
               CAPE-S,committee,0788300001\n\
               CAPE-E,manager,0788200002\n\
               CAPE-S,boss,0788100002\n\
               CAPE-S,1,+250 788 100 001\n\
               CAPE-S,1,0788200001\n\
               NOPE,1,0788100001\n\
               CAPE-S,0,0788100001\n";
    let e = import(&state, Kind::Chain, "chain.csv", bad)
        .await
        .unwrap_err();
    for want in [
        "chain.csv:3: level 3 of CAPE-S: level 2 is missing (levels start at 1, with no gap)",
        "chain.csv:4: level 2 of CAPE-E: level 1 is missing",
        "chain.csv:5: level `boss`: use 1 to 9, or caseworker (1), manager (2), committee (3)",
        "chain.csv:6: phone +250788100001 is already on level 1 of CAPE-S, on line 2",
        "chain.csv:7: phone +250788200001 is a staff member of CAPE-E, not of CAPE-S",
        "chain.csv:8: centre_code `NOPE` is unknown",
        "chain.csv:9: level `0`",
        "nothing was imported from chain.csv",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    assert!(!e.contains("chain.csv:2:"), "{e}");
    assert_eq!(
        store.count(Table::EscalationChain).await.unwrap(),
        3 + 2,
        "nothing changed"
    );
    state.store.close().await;
}

async fn a_centre_without_a_rota_alerts_its_caseworkers_then_its_managers(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    import(
        &state,
        Kind::Locations,
        "l.csv",
        "code,name,level,parent_code\nT,Maritime,province,\n",
    )
    .await
    .unwrap();
    import(
        &state,
        Kind::Centres,
        "c.csv",
        "code,name,province_code\nC-T,Centre Maritime,T\n",
    )
    .await
    .unwrap();
    let t = centre(store, "C-T").await;
    assert!(
        on_duty(store, t, at(1, 10, 0)).await.unwrap().is_empty(),
        "no staff at all"
    );
    assert_eq!(store.escalation_depth(t).await.unwrap(), 0);
    import(
        &state,
        Kind::Staff,
        "s.csv",
        "phone,name,role,centre_code,language\n+250788400002,Kodjo,manager,C-T,fr\n+250788400003,Ama,committee,C-T,fr\n",
    )
    .await
    .unwrap();
    assert_eq!(
        phones(&on_duty(store, t, at(1, 10, 0)).await.unwrap()),
        ["+250788400002"]
    );
    import(
        &state,
        Kind::Staff,
        "s.csv",
        "phone,name,role,centre_code,language\n+250788400001,Afi,caseworker,C-T,fr\n+250788400004,Yao,caseworker,C-T,en\n",
    )
    .await
    .unwrap();
    assert_eq!(
        phones(&on_duty(store, t, at(6, 2, 0)).await.unwrap()),
        ["+250788400001", "+250788400004"],
        "every caseworker, at any hour"
    );
    state.store.close().await;
}

async fn staff_are_found_by_any_spelling_of_their_phone(db: Db) {
    let db = TestDb::new(db).await;
    let state = demo(&db).await;
    let store = &state.store;
    let south = centre(store, "CAPE-S").await;
    for raw in [
        "+250788100002",
        "0788100002",
        "250788100002",
        "+250 788 100 002",
        "0788-100-002",
    ] {
        let phone = state.channels.phones.read(raw).unwrap();
        let s = store.staff_by_phone(&phone).await.unwrap().expect(raw);
        assert_eq!(
            (
                s.centre_id,
                s.centre_code.as_deref(),
                s.role.as_str(),
                s.locale.as_str(),
                s.name.as_str(),
                s.phone.as_str()
            ),
            (
                Some(south),
                Some("CAPE-S"),
                "manager",
                "fr",
                "Jean Mugabo",
                JEAN
            ),
            "{raw}"
        );
    }
    let esther = store
        .staff_by_phone(&Phone::from_trusted(ESTHER.into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (esther.role.as_str(), esther.centre_code.as_deref()),
        ("committee", Some("CAPE-S"))
    );
    let volunteer = state.channels.phones.read(common::GRACE).unwrap();
    assert_eq!(store.staff_by_phone(&volunteer).await.unwrap(), None);
    state.store.close().await;
}
