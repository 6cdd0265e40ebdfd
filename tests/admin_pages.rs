//! The pages for a centre's people and the audit log, as a browser uses
//! them, on SQLite and PostgreSQL: a manager lists and adds their centre's
//! staff and cannot see or touch another centre's; a deactivated account
//! cannot sign in and its sessions end; CSV imports go through the
//! importer and show its line-numbered errors; an administrator works any
//! centre; volunteers are listed and deactivated by centre; caseworkers,
//! committee members and auditors are refused; a form without the
//! session's CSRF token changes nothing; the auditor reads and downloads
//! the audit log, which a manager may not.

mod common;

use std::sync::Arc;

use common::{
    config, spawn_app_with, tuesday_morning, Browser, Db, Page, TestApp, TestDb, ADMIN, ALINE,
    AUDITOR, CLAUDINE, DEMO_PASSWORD, EMMANUEL, ESTHER, GRACE, JEAN, MARIE,
};
use kanda::{domain::Phone, store::AuditFilter};

async fn app(db: &TestDb) -> TestApp {
    spawn_app_with(config(db), Arc::new(tuesday_morning())).await
}

/// The row id of an active staff member.
async fn staff_id(app: &TestApp, phone: &str) -> i64 {
    app.state
        .store
        .staff_by_phone(&Phone::from_trusted(phone.into()))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{phone} is active staff"))
        .id
}

/// The centre of an active staff member (`None`: inactive or unknown).
async fn active_centre(app: &TestApp, phone: &str) -> Option<Option<String>> {
    app.state
        .store
        .staff_by_phone(&Phone::from_trusted(phone.into()))
        .await
        .unwrap()
        .map(|s| s.centre_code)
}

async fn actions_of(app: &TestApp, actor: &str) -> Vec<(String, Option<String>)> {
    app.state
        .store
        .audit_entries(&AuditFilter {
            actor: Some(actor.into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

/// The page's CSRF token (every page of a signed-in reader carries it).
async fn csrf_of(b: &mut Browser, path: &str) -> String {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    page.field("csrf").expect("csrf")
}

fn redirected_to(p: &Page, path: &str) {
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location().unwrap_or_default();
    assert!(to.starts_with(path), "sent to {to}, not {path}");
}

async fn a_manager_keeps_their_own_centres_staff(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut jean = Browser::sign_in(&app, JEAN).await;

    let list = jean.get("/staff").await;
    assert_eq!(list.status, 200, "{}", list.body);
    for name in ["Claudine Uwase", "Jean Mugabo", "Esther Nyiraneza"] {
        assert!(list.body.contains(name), "{name} is of CAPE-S");
    }
    for name in ["Aline Mukamana", "Patrick Niyonzima", "Diane Umutoni"] {
        assert!(!list.body.contains(name), "{name} is not of CAPE-S");
    }
    // Another centre's page is not found.
    assert_eq!(jean.get("/staff?centre=CAPE-E").await.status, 404);
    assert_eq!(jean.get("/staff?centre=CAPE-S").await.status, 200);

    // Adding one person: to the manager's centre, whatever the form says.
    let csrf = list.field("csrf").unwrap();
    let p = jean
        .post(
            "/staff",
            &[
                ("csrf", &csrf),
                ("phone", "0788 100 009"),
                ("name", "Alice Ingabire"),
                ("role", "caseworker"),
                ("language", "en"),
                ("centre_code", "CAPE-E"),
            ],
        )
        .await;
    redirected_to(&p, "/staff?done=added");
    assert_eq!(
        active_centre(&app, "+250788100009").await,
        Some(Some("CAPE-S".into()))
    );
    let list = jean.get("/staff?done=added").await;
    assert!(list.body.contains("Alice Ingabire"));
    assert!(
        list.body.contains("Enregistré."),
        "Jean reads French: {}",
        list.body
    );

    // A national role is not a manager's to give.
    let p = jean
        .post(
            "/staff",
            &[
                ("csrf", &csrf),
                ("phone", "0788100010"),
                ("name", "Not Admin"),
                ("role", "admin"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(active_centre(&app, "+250788100010").await.is_none());

    // Another centre's person can neither be moved here nor deactivated.
    let p = jean
        .post(
            "/staff",
            &[
                ("csrf", &csrf),
                ("phone", ALINE),
                ("name", "Aline Mukamana"),
                ("role", "caseworker"),
                ("language", "rw"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("is a staff member of CAPE-E"), "{}", p.body);
    let aline = staff_id(&app, ALINE).await;
    let p = jean
        .post(&format!("/staff/{aline}/deactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 404);
    let admin = staff_id(&app, ADMIN).await;
    let p = jean
        .post(&format!("/staff/{admin}/deactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 404);
    assert_eq!(
        active_centre(&app, ALINE).await,
        Some(Some("CAPE-E".into()))
    );
    assert_eq!(active_centre(&app, ADMIN).await, Some(None));

    // Nor may a manager deactivate themselves.
    let me = staff_id(&app, JEAN).await;
    let p = jean
        .post(&format!("/staff/{me}/deactivate"), &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 422);
    assert!(active_centre(&app, JEAN).await.is_some());

    let actions = actions_of(&app, JEAN).await;
    assert!(actions.contains(&("staff_listed".into(), Some("CAPE-S".into()))));
    assert!(
        actions.contains(&(
            "staff_added".into(),
            Some("+250788100009 caseworker CAPE-S".into())
        )),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|(a, _)| a == "staff_deactivated"));
    app.stop().await;
}

async fn deactivation_blocks_sign_in_and_ends_sessions(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut claudine = Browser::sign_in(&app, CLAUDINE).await;
    assert_eq!(claudine.get("/cases").await.status, 200);

    let mut jean = Browser::sign_in(&app, JEAN).await;
    let csrf = csrf_of(&mut jean, "/staff").await;
    let id = staff_id(&app, CLAUDINE).await;
    let p = jean
        .post(&format!("/staff/{id}/deactivate"), &[("csrf", &csrf)])
        .await;
    redirected_to(&p, "/staff?done=deactivated");
    let list = jean.get("/staff").await;
    assert!(list.body.contains("désactivé"), "{}", list.body);
    assert!(
        !list.body.contains(&format!("/staff/{id}/deactivate")),
        "no button for someone already deactivated"
    );

    // Her open session ends, and she cannot sign in again.
    let p = claudine.get("/cases").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), Some("/login"));
    let mut again = Browser::new(&app);
    let p = again.try_sign_in(CLAUDINE, DEMO_PASSWORD).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Wrong phone number or password"));
    assert!(!again.has_session());
    assert!(active_centre(&app, CLAUDINE).await.is_none());

    let actions = actions_of(&app, JEAN).await;
    assert!(
        actions.contains(&(
            "staff_deactivated".into(),
            Some(format!("staff:{id} {CLAUDINE}"))
        )),
        "{actions:?}"
    );

    // An import of her phone makes her active again.
    let p = jean
        .post(
            "/staff/import",
            &[
                ("csrf", &csrf),
                (
                    "csv",
                    "phone,name,role,centre_code,language\n+250788100001,Claudine Uwase,caseworker,CAPE-S,en\n",
                ),
            ],
        )
        .await;
    redirected_to(&p, "/staff?done=imported&n=1");
    assert!(active_centre(&app, CLAUDINE).await.is_some());
    app.stop().await;
}

async fn csv_imports_show_their_line_numbered_errors(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut jean = Browser::sign_in(&app, JEAN).await;
    let csrf = csrf_of(&mut jean, "/staff").await;
    let header = "phone,name,role,centre_code,language\n";

    // The importer's own checks, each on its line; nothing is imported.
    let csv = format!(
        "{header}+250788100020,Good Row,caseworker,CAPE-S,en\nnot-a-phone,Bad Phone,caseworker,CAPE-S,en\n+250788100021,Bad Language,caseworker,CAPE-S,de\n"
    );
    let p = jean
        .post("/staff/import", &[("csrf", &csrf), ("csv", &csv)])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("Corrigez ces lignes"),
        "Jean reads French: {}",
        p.body
    );
    assert!(p.body.contains("ligne 3: phone:"), "{}", p.body);
    assert!(p.body.contains("ligne 4: language `de`"), "{}", p.body);
    assert!(!p.body.contains("ligne 2:"), "{}", p.body);
    assert!(
        p.body.contains("Bad Language,caseworker"),
        "the text is shown again"
    );
    assert!(active_centre(&app, "+250788100020").await.is_none());

    // A manager's rows are their centre's only.
    let csv = format!(
        "{header}+250788100020,Good Row,caseworker,CAPE-S,en\n+250788100022,East Row,caseworker,CAPE-E,en\n+250788200002,Patrick Niyonzima,manager,CAPE-S,rw\n"
    );
    let p = jean
        .post("/staff/import", &[("csrf", &csrf), ("csv", &csv)])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("ligne 3: centre_code `CAPE-E`: you may import rows of CAPE-S only"),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains("ligne 4: phone +250788200002 is a staff member of CAPE-E"),
        "{}",
        p.body
    );
    assert!(active_centre(&app, "+250788100020").await.is_none());
    assert_eq!(
        active_centre(&app, PATRICK_PHONE).await,
        Some(Some("CAPE-E".into()))
    );

    // A good file is imported whole.
    let csv = format!(
        "{header}+250788100020,Good Row,caseworker,CAPE-S,en\n+250788100023,Second Row,committee,CAPE-S,fr\n"
    );
    let p = jean
        .post("/staff/import", &[("csrf", &csrf), ("csv", &csv)])
        .await;
    redirected_to(&p, "/staff?done=imported&n=2");
    let list = jean.get("/staff?done=imported&n=2").await;
    assert!(list.body.contains("Importé : 2 lignes."), "{}", list.body);
    assert!(list.body.contains("Second Row"));

    // The rota and the chain, through the same importer.
    let rota =
        "centre_code,phone,days,hours,fallback\nCAPE-S,+250788100001,mon-fri,08:00-17:00,no\n";
    let p = jean
        .post("/rota/import", &[("csrf", &csrf), ("csv", rota)])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("ligne 2: centre `CAPE-S` has no fallback contact"),
        "{}",
        p.body
    );
    let rota = "centre_code,phone,days,hours,fallback\nCAPE-S,+250788100001,all,all day,yes\nCAPE-E,+250788200001,all,all day,yes\n";
    let p = jean
        .post("/rota/import", &[("csrf", &csrf), ("csv", rota)])
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("ligne 3: centre_code `CAPE-E`"),
        "{}",
        p.body
    );
    let rota = "centre_code,phone,days,hours,fallback\nCAPE-S,+250788100001,all,all day,yes\nCAPE-S,+250788100020,sat-sun,all day,no\n";
    let p = jean
        .post("/rota/import", &[("csrf", &csrf), ("csv", rota)])
        .await;
    redirected_to(&p, "/rota?done=imported&n=2");
    let page = jean.get("/rota").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Good Row"), "{}", page.body);

    let chain = "centre_code,level,phone\nCAPE-S,1,+250788100001\nCAPE-S,3,+250788100002\n";
    let p = jean
        .post("/chain/import", &[("csrf", &csrf), ("csv", chain)])
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body
            .contains("ligne 3: level 3 of CAPE-S: level 2 is missing"),
        "{}",
        p.body
    );
    let chain = "centre_code,level,phone\nCAPE-S,1,+250788100001\nCAPE-S,2,+250788100002\n";
    let p = jean
        .post("/chain/import", &[("csrf", &csrf), ("csv", chain)])
        .await;
    redirected_to(&p, "/chain?done=imported&n=2");
    let page = jean.get("/chain").await;
    assert!(page.body.contains("Jean Mugabo"));
    assert!(
        !page.body.contains("Esther Nyiraneza"),
        "the import replaced the chain"
    );

    let actions = actions_of(&app, JEAN).await;
    for (action, detail) in [
        ("staff_imported", "2 rows"),
        ("rota_imported", "2 rows"),
        ("chain_imported", "2 rows"),
    ] {
        assert!(
            actions.contains(&(action.into(), Some(detail.into()))),
            "{action}: {actions:?}"
        );
    }
    app.stop().await;
}

const PATRICK_PHONE: &str = "+250788200002";

async fn an_admin_works_every_centre(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let all = admin.get("/staff").await;
    assert_eq!(all.status, 200);
    for name in [
        "Claudine Uwase",
        "Aline Mukamana",
        "Diane Umutoni",
        "Eric Nsengimana",
    ] {
        assert!(all.body.contains(name), "{name}");
    }
    let east = admin.get("/staff?centre=CAPE-E").await;
    assert!(east.body.contains("Aline Mukamana") && !east.body.contains("Claudine Uwase"));
    assert_eq!(admin.get("/staff?centre=NOPE").await.status, 404);

    let csrf = all.field("csrf").unwrap();
    // A national auditor, with no centre; and an eastern caseworker.
    for (phone, role, centre) in [
        ("0788900003", "auditor", ""),
        ("0788200009", "caseworker", "CAPE-E"),
    ] {
        let p = admin
            .post(
                "/staff",
                &[
                    ("csrf", &csrf),
                    ("phone", phone),
                    ("name", "New Person"),
                    ("role", role),
                    ("language", "fr"),
                    ("centre_code", centre),
                ],
            )
            .await;
        redirected_to(&p, "/staff?done=added");
    }
    assert_eq!(active_centre(&app, "+250788900003").await, Some(None));
    assert_eq!(
        active_centre(&app, "+250788200009").await,
        Some(Some("CAPE-E".into()))
    );

    // Any centre's rows in one import; any centre's person deactivated.
    let csv = "phone,name,role,centre_code,language\n+250788100030,South,caseworker,CAPE-S,en\n+250788200030,East,caseworker,CAPE-E,rw\n";
    let p = admin
        .post("/staff/import", &[("csrf", &csrf), ("csv", csv)])
        .await;
    redirected_to(&p, "/staff?done=imported&n=2");
    let aline = staff_id(&app, ALINE).await;
    let p = admin
        .post(
            &format!("/staff/{aline}/deactivate"),
            &[("csrf", &csrf), ("centre", "CAPE-E")],
        )
        .await;
    redirected_to(&p, "/staff?centre=CAPE-E&done=deactivated");
    assert!(active_centre(&app, ALINE).await.is_none());

    let rota = admin.get("/rota").await;
    assert!(rota.body.contains("Centre Amajyepfo") && rota.body.contains("Centre Iburasirazuba"));
    let chain = admin.get("/chain?centre=CAPE-E").await;
    assert!(chain.body.contains("Patrick Niyonzima") && !chain.body.contains("Jean Mugabo"));
    app.stop().await;
}

async fn volunteers_are_their_villages_centres(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut jean = Browser::sign_in(&app, JEAN).await;
    let list = jean.get("/volunteers").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Grace Uwimana") && list.body.contains("Emmanuel Habimana"));
    assert!(
        !list.body.contains("Marie Ingabire"),
        "an eastern volunteer"
    );
    let csrf = list.field("csrf").unwrap();

    let sender = |phone: &str| {
        let store = app.state.store.clone();
        let phone = Phone::from_trusted(phone.into());
        async move { store.sms_sender(&phone).await.unwrap().is_some() }
    };
    let id_of = |phone: &str| {
        let store = app.state.store.clone();
        let phone = phone.to_string();
        async move {
            store
                .volunteer_listing(None)
                .await
                .unwrap()
                .into_iter()
                .find(|v| v.phone.as_str() == phone)
                .unwrap()
                .id
        }
    };
    let marie = id_of(MARIE).await;
    let p = jean
        .post(
            &format!("/volunteers/{marie}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(p.status, 404);
    assert!(sender(MARIE).await);

    let grace = id_of(GRACE).await;
    let p = jean
        .post(
            &format!("/volunteers/{grace}/deactivate"),
            &[("csrf", &csrf)],
        )
        .await;
    redirected_to(&p, "/volunteers?done=deactivated");
    assert!(
        !sender(GRACE).await,
        "SMS no longer knows her as a volunteer"
    );
    assert!(sender(EMMANUEL).await);

    // A volunteer in an eastern village is not a southern manager's to add.
    let add = |village: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("phone", "0788000009".to_string()),
            ("name", "Vestine Mukeshimana".to_string()),
            ("language", "rw".to_string()),
            ("village_code", village.to_string()),
        ]
    };
    let form = add("E-RWA-KIG-01");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = jean.post("/volunteers", &fields).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("village `E-RWA-KIG-01` is CAPE-E"),
        "{}",
        p.body
    );
    let form = add("S-HUY-TUM-02");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = jean.post("/volunteers", &fields).await;
    redirected_to(&p, "/volunteers?done=added");
    assert!(sender("+250788000009").await);

    // Importing Grace again makes her active again.
    let csv = "phone,name,language,village_code\n+250788000001,Grace Uwimana,en,S-HUY-TUM-01\n+250788000002,Marie Ingabire,fr,S-HUY-TUM-01\n";
    let p = jean
        .post("/volunteers/import", &[("csrf", &csrf), ("csv", csv)])
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body
            .contains("ligne 3: phone +250788000002 is a volunteer of CAPE-E"),
        "{}",
        p.body
    );
    let csv = "phone,name,language,village_code\n+250788000001,Grace Uwimana,en,S-HUY-TUM-01\n";
    let p = jean
        .post("/volunteers/import", &[("csrf", &csrf), ("csv", csv)])
        .await;
    redirected_to(&p, "/volunteers?done=imported&n=1");
    assert!(sender(GRACE).await);

    let actions = actions_of(&app, JEAN).await;
    for action in [
        "volunteers_listed",
        "volunteer_deactivated",
        "volunteer_added",
        "volunteers_imported",
    ] {
        assert!(
            actions.iter().any(|(a, _)| a == action),
            "{action}: {actions:?}"
        );
    }
    app.stop().await;
}

async fn other_roles_are_refused(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let claudine_id = staff_id(&app, CLAUDINE).await;
    for phone in [CLAUDINE, ESTHER, AUDITOR] {
        let mut b = Browser::sign_in(&app, phone).await;
        let cases = b.get("/cases").await;
        assert!(
            !cases.body.contains("href=\"/staff\""),
            "{phone} is not shown the staff page"
        );
        for path in [
            "/staff",
            "/volunteers",
            "/rota",
            "/chain",
            "/staff?centre=CAPE-S",
        ] {
            assert_eq!(b.get(path).await.status, 403, "{phone} {path}");
        }
        let csrf = cases.field("csrf").unwrap();
        let p = b
            .post(
                &format!("/staff/{claudine_id}/deactivate"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(p.status, 403, "{phone}");
        let p = b
            .post(
                "/staff",
                &[
                    ("csrf", &csrf),
                    ("phone", "0788100040"),
                    ("name", "X"),
                    ("role", "caseworker"),
                    ("language", "en"),
                ],
            )
            .await;
        assert_eq!(p.status, 403, "{phone}");
        let csv = "phone,name,role,centre_code,language\n+250788100041,X,caseworker,CAPE-S,en\n";
        let p = b
            .post("/staff/import", &[("csrf", &csrf), ("csv", csv)])
            .await;
        assert_eq!(p.status, 403, "{phone}");
    }
    assert!(active_centre(&app, CLAUDINE).await.is_some());
    assert!(active_centre(&app, "+250788100040").await.is_none());
    assert!(active_centre(&app, "+250788100041").await.is_none());
    app.stop().await;
}

async fn the_navigation_shows_each_role_its_pages(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut claudine = Browser::sign_in(&app, CLAUDINE).await;
    let cases = claudine.get("/cases").await;
    assert!(!cases.body.contains("href=\"/staff\"") && !cases.body.contains("href=\"/audit\""));
    let mut jean = Browser::sign_in(&app, JEAN).await;
    let cases = jean.get("/cases").await;
    assert!(cases.body.contains("href=\"/staff\"") && !cases.body.contains("href=\"/audit\""));
    let mut auditor = Browser::sign_in(&app, AUDITOR).await;
    let cases = auditor.get("/cases").await;
    assert!(cases.body.contains("href=\"/audit\"") && !cases.body.contains("href=\"/staff\""));
    let mut admin = Browser::sign_in(&app, ADMIN).await;
    let cases = admin.get("/cases").await;
    assert!(cases.body.contains("href=\"/audit\"") && cases.body.contains("href=\"/staff\""));
    app.stop().await;
}

async fn a_form_without_the_csrf_token_changes_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    let mut jean = Browser::sign_in(&app, JEAN).await;
    let claudine = staff_id(&app, CLAUDINE).await;
    let grace = app
        .state
        .store
        .volunteer_listing(None)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.phone.as_str() == GRACE)
        .unwrap()
        .id;
    let csv = "phone,name,role,centre_code,language\n+250788100050,X,caseworker,CAPE-S,en\n";
    for token in [None, Some(""), Some("forged")] {
        let with = |mut fields: Vec<(&'static str, &'static str)>| {
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            fields
        };
        let posts: [(String, Vec<(&str, &str)>); 5] = [
            (format!("/staff/{claudine}/deactivate"), with(vec![])),
            (format!("/volunteers/{grace}/deactivate"), with(vec![])),
            (
                "/staff".into(),
                with(vec![
                    ("phone", "0788100050"),
                    ("name", "X"),
                    ("role", "caseworker"),
                    ("language", "en"),
                ]),
            ),
            ("/staff/import".into(), with(vec![("csv", csv)])),
            (
                "/rota/import".into(),
                with(vec![(
                    "csv",
                    "centre_code,phone,days,hours,fallback\nCAPE-S,+250788100002,all,all day,yes\n",
                )]),
            ),
        ];
        for (path, fields) in posts {
            let p = jean.post(&path, &fields).await;
            assert_eq!(p.status, 403, "{path} with {token:?}");
            assert!(p.body.contains("Formulaire expiré"), "{}", p.body);
        }
    }
    assert!(active_centre(&app, CLAUDINE).await.is_some());
    assert!(active_centre(&app, "+250788100050").await.is_none());
    assert!(app
        .state
        .store
        .sms_sender(&Phone::from_trusted(GRACE.into()))
        .await
        .unwrap()
        .is_some());
    let rota = jean.get("/rota").await;
    assert!(
        rota.body.contains("Claudine Uwase"),
        "the rota is as it was"
    );
    let actions = actions_of(&app, JEAN).await;
    assert!(
        !actions.iter().any(|(a, _)| a.ends_with("_deactivated")
            || a.ends_with("_imported")
            || a.ends_with("_added")),
        "{actions:?}"
    );
    app.stop().await;
}

async fn the_auditor_downloads_the_audit_log(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db).await;
    // Something to read: Jean signs in and lists his staff.
    let mut jean = Browser::sign_in(&app, JEAN).await;
    assert_eq!(jean.get("/staff").await.status, 200);
    assert_eq!(jean.get("/audit").await.status, 403);
    assert_eq!(jean.get("/audit.csv").await.status, 403);

    let mut auditor = Browser::sign_in(&app, AUDITOR).await;
    let page = auditor.get("/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("staff_listed") && page.body.contains(JEAN),
        "{}",
        page.body
    );
    assert!(page.body.contains("/audit.csv"), "a link to the download");

    let p = auditor.get("/audit.csv").await;
    assert_eq!(p.status, 200);
    assert!(p.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(p.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let mut lines = p.body.lines();
    assert_eq!(lines.next(), Some("at,actor,action,case,address,detail"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert!(
        rows.iter().any(|r| r[1] == JEAN
            && r[2] == "staff_listed"
            && r[4] == "127.0.0.1"
            && r[5] == "CAPE-S"),
        "{rows:?}"
    );

    // The same filters as the page: one actor (any spelling), a day.
    let p = auditor
        .get("/audit.csv?actor=0788100002&from=2026-12-01&to=2026-12-01")
        .await;
    assert_eq!(p.status, 200);
    let rows: Vec<&str> = p.body.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.split(',').nth(1) == Some(JEAN)),
        "{rows:?}"
    );
    let p = auditor
        .get("/audit.csv?actor=0788100002&from=2026-12-02")
        .await;
    assert_eq!(
        p.body.lines().count(),
        1,
        "nothing after that day: {}",
        p.body
    );
    assert_eq!(auditor.get("/audit?case=nope").await.status, 422);
    assert_eq!(auditor.get("/audit?from=yesterday").await.status, 422);

    // Every read of the log is itself in the log.
    let reads = actions_of(&app, AUDITOR)
        .await
        .into_iter()
        .filter(|(a, _)| a == "audit_read")
        .count();
    assert_eq!(reads, 4);
    app.stop().await;
}

both!(
    a_manager_keeps_their_own_centres_staff,
    deactivation_blocks_sign_in_and_ends_sessions,
    csv_imports_show_their_line_numbered_errors,
    an_admin_works_every_centre,
    volunteers_are_their_villages_centres,
    other_roles_are_refused,
    the_navigation_shows_each_role_its_pages,
    a_form_without_the_csrf_token_changes_nothing,
    the_auditor_downloads_the_audit_log,
);
