//! The staff web view, as a browser uses it, on SQLite and PostgreSQL:
//! sign-in and sign-out, the session cookie, CSRF, the account lock, idle
//! expiry, each role's allowed and refused actions, need-to-know across
//! centres (guessed URLs and references get the same 404 as a case that
//! does not exist), and an audit row for every read.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{
    case_at, config, spawn_app_with, tuesday_morning, Browser, Db, TestApp, TestDb, ADMIN, ALINE,
    AUDITOR, CLAUDINE, DEMO_PASSWORD, ESTHER, JEAN, PATRICK,
};
use kanda::{
    domain::{CaseRef, ManualClock},
    store::AuditFilter,
};

const SOUTH: &str = "S-HUY-TUM-01";
const EAST: &str = "E-RWA-KIG-01";

async fn app(db: &TestDb, clock: &ManualClock) -> TestApp {
    spawn_app_with(config(db), Arc::new(clock.clone())).await
}

async fn audit_actions(
    app: &TestApp,
    actor: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    app.state
        .store
        .audit_entries(&AuditFilter {
            actor: Some(actor.into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.case, e.address))
        .collect()
}

async fn stage_of(app: &TestApp, r: &CaseRef) -> String {
    app.state.store.case_row(r).await.unwrap().unwrap().stage
}

async fn sign_in_and_out(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock).await;
    let mut b = Browser::new(&app);

    // No session: every page sends to the sign-in form.
    for path in ["/cases", "/cases/34222358", "/"] {
        let p = b.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        assert!(
            matches!(p.location(), Some("/login") | Some("/cases")),
            "{path}"
        );
    }

    // A wrong password shows the form again, with a message and no session.
    let p = b.try_sign_in("0788100001", "wrong password").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("Wrong phone number or password"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("value=\"0788100001\""),
        "the phone stays filled in"
    );
    assert!(!b.has_session());

    // Any spelling of the phone signs in; the cookie is HttpOnly, SameSite=Lax.
    let p = b.try_sign_in("+250 788 100 001", DEMO_PASSWORD).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location(), Some("/cases"));
    let cookie = p
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("kanda_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no https here: {cookie}");

    let list = b.get("/cases").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("<h1>Cases</h1>"));
    assert_eq!(list.headers["cache-control"], "no-store");

    // Sign-out without the form's token changes nothing.
    let p = b.post("/logout", &[]).await;
    assert_eq!(p.status, 403);
    assert_eq!(b.get("/cases").await.status, 200, "still signed in");

    let csrf = list.field("csrf").expect("the sign-out form's token");
    let old = b.cookies.clone();
    let p = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), Some("/login"));
    // The old cookie opens nothing any more.
    b.cookies = old;
    assert_eq!(b.get("/cases").await.status, 303);

    let actions: Vec<_> = audit_actions(&app, CLAUDINE)
        .await
        .into_iter()
        .map(|(a, _, address)| {
            assert_eq!(address.as_deref(), Some("127.0.0.1"));
            a
        })
        .collect();
    assert_eq!(
        actions,
        [
            "sign_in_failed",
            "sign_in",
            "cases_listed",
            "cases_listed",
            "sign_out"
        ]
    );
    app.stop().await;
}

async fn sign_in_refuses_a_form_without_its_token(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let mut b = Browser::new(&app);
    b.get("/login").await;
    for csrf in ["", "forged"] {
        let p = b
            .post(
                "/login",
                &[
                    ("username", CLAUDINE),
                    ("password", DEMO_PASSWORD),
                    ("csrf", csrf),
                ],
            )
            .await;
        assert_eq!(p.status, 403, "csrf {csrf:?}");
        assert!(!b.has_session());
    }
    // Nothing was tried: no sign-in and no failure recorded.
    assert!(audit_actions(&app, CLAUDINE).await.is_empty());
    app.stop().await;
}

async fn five_failures_lock_the_account_for_fifteen_minutes(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock).await;
    let mut b = Browser::new(&app);
    for i in 1..=5 {
        let p = b.try_sign_in(JEAN, &format!("guess {i}")).await;
        assert_eq!(p.status, 200);
        // The page's language, not the account's: a refusal must not tell
        // whether the account exists.
        if i < 5 {
            assert!(
                p.body.contains("Wrong phone number or password"),
                "{}",
                p.body
            );
        } else {
            assert!(p.body.contains("locked for 15 min"), "{}", p.body);
        }
    }
    // Even the right password is refused while locked, and says so.
    let p = b.try_sign_in(JEAN, DEMO_PASSWORD).await;
    assert!(p.body.contains("locked"), "{}", p.body);
    assert!(!b.has_session());
    // Another account is not locked.
    assert_eq!(b.try_sign_in(PATRICK, DEMO_PASSWORD).await.status, 303);

    clock.advance(Duration::minutes(14));
    let mut b = Browser::new(&app);
    assert!(b
        .try_sign_in(JEAN, DEMO_PASSWORD)
        .await
        .body
        .contains("locked"));
    clock.advance(Duration::minutes(2));
    assert_eq!(b.try_sign_in(JEAN, DEMO_PASSWORD).await.status, 303);

    let actions: Vec<_> = audit_actions(&app, JEAN)
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "sign_in_failed").count(), 5);
    assert!(actions.contains(&"account_locked".to_string()));
    assert_eq!(actions.iter().filter(|a| *a == "sign_in_locked").count(), 2);
    assert_eq!(actions.last().map(String::as_str), Some("sign_in"));
    // No password is ever in the log.
    let all = app
        .state
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    assert!(all.iter().all(|e| !format!("{e:?}").contains("guess")));
    app.stop().await;
}

async fn an_idle_session_expires(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let app = app(&db, &clock).await;
    let mut b = Browser::sign_in(&app, ALINE).await;
    // Used within the idle time, it lives on.
    clock.advance(Duration::hours(7));
    assert_eq!(b.get("/cases").await.status, 200);
    clock.advance(Duration::hours(7));
    assert_eq!(b.get("/cases").await.status, 200);
    // Idle past KANDA_WEB_SESSION_TTL (8 h), it is gone.
    clock.advance(Duration::hours(8) + Duration::minutes(1));
    let p = b.get("/cases").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), Some("/login"));
    app.stop().await;
}

async fn a_centre_sees_its_own_cases_only(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let south = case_at(&app, "web-south", SOUTH).await;
    let east = case_at(&app, "web-east", EAST).await;
    let mut claudine = Browser::sign_in(&app, CLAUDINE).await;

    let list = claudine.get("/cases").await;
    assert!(list.body.contains(south.as_str()));
    assert!(
        !list.body.contains(east.as_str()),
        "another centre's case is not listed"
    );
    assert!(
        list.body.len() < 30_000,
        "list page {} bytes",
        list.body.len()
    );

    let own = claudine.get(&format!("/cases/{south}")).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("Cyarwa"), "the village is on the page");

    // Guessing: another centre's case, a valid reference no case has, and
    // a malformed one all answer the same 404.
    let unknown = (0..100_000_000u32)
        .map(|n| format!("{n:08}"))
        .filter_map(|s| CaseRef::parse(&s).ok())
        .find(|r| *r != south && *r != east)
        .unwrap();
    let other = claudine.get(&format!("/cases/{east}")).await;
    let none = claudine.get(&format!("/cases/{unknown}")).await;
    let bad = claudine.get("/cases/1234").await;
    assert_eq!((other.status, none.status, bad.status), (404, 404, 404));
    assert_eq!(other.body, none.body, "nothing tells the two apart");
    assert!(!other.body.contains(east.as_str()));

    // Nor can it be worked by posting to its URL with a valid token.
    let (csrf, key) = claudine.form_of(&format!("/cases/{south}")).await;
    let p = claudine
        .post(
            &format!("/cases/{east}/stage"),
            &[("csrf", &csrf), ("key", &key), ("stage", "acknowledged")],
        )
        .await;
    assert_eq!(p.status, 404);
    let p = claudine
        .post(
            &format!("/cases/{east}/notes"),
            &[("csrf", &csrf), ("key", &key), ("note", "x")],
        )
        .await;
    assert_eq!(p.status, 404);
    assert_eq!(stage_of(&app, &east).await, "new");

    // Its own centre, the admin and the auditor read it.
    for phone in [ALINE, PATRICK, ADMIN, AUDITOR] {
        let mut b = Browser::sign_in(&app, phone).await;
        assert_eq!(
            b.get(&format!("/cases/{east}")).await.status,
            200,
            "{phone}"
        );
    }
    // Every read of a case page is in the audit log, with who and from where.
    let claudine_reads: Vec<_> = audit_actions(&app, CLAUDINE)
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "case_viewed")
        .collect();
    assert_eq!(
        claudine_reads.len(),
        2,
        "her own case, twice; never the other"
    );
    assert!(claudine_reads
        .iter()
        .all(|(_, case, addr)| case.as_deref() == Some(south.as_str())
            && addr.as_deref() == Some("127.0.0.1")));
    let auditor_reads = audit_actions(&app, AUDITOR).await;
    assert!(auditor_reads.contains(&(
        "case_viewed".into(),
        Some(east.to_string()),
        Some("127.0.0.1".into())
    )));
    app.stop().await;
}

async fn read_only_roles_change_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let south = case_at(&app, "web-ro", SOUTH).await;
    for phone in [ESTHER, AUDITOR] {
        let mut b = Browser::sign_in(&app, phone).await;
        let page = b.get(&format!("/cases/{south}")).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("/stage\""),
            "{phone} is shown no form to change it"
        );
        let csrf = page.field("csrf").unwrap();
        let p = b
            .post(
                &format!("/cases/{south}/stage"),
                &[("csrf", &csrf), ("key", "k"), ("stage", "acknowledged")],
            )
            .await;
        assert_eq!(p.status, 403, "{phone}");
    }
    assert_eq!(stage_of(&app, &south).await, "new");
    app.stop().await;
}

async fn a_caseworker_works_a_case_through_its_forms(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let r = case_at(&app, "web-work", SOUTH).await;
    let path = format!("/cases/{r}");
    let mut b = Browser::sign_in(&app, CLAUDINE).await;

    // Without the CSRF token: 403, and nothing changes.
    let (_, key) = b.form_of(&path).await;
    let p = b
        .post(
            &format!("{path}/stage"),
            &[("key", &key), ("stage", "acknowledged")],
        )
        .await;
    assert_eq!(p.status, 403);
    let p = b
        .post(
            &format!("{path}/stage"),
            &[("csrf", "forged"), ("key", &key), ("stage", "acknowledged")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(stage_of(&app, &r).await, "new");

    let send = async |b: &mut Browser, form: &str, fields: &[(&str, &str)]| {
        let (csrf, key) = b.form_of(&path).await;
        let mut all = vec![("csrf", csrf.as_str()), ("key", key.as_str())];
        all.extend_from_slice(fields);
        b.post(&format!("{path}/{form}"), &all).await
    };

    let p = send(&mut b, "stage", &[("stage", "acknowledged")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location(), Some(format!("{path}?saved=1").as_str()));
    assert_eq!(stage_of(&app, &r).await, "acknowledged");
    // The same form sent twice (a double click) is one change.
    let again = b.get(&path).await;
    assert!(again.body.contains("Acknowledged"));

    assert_eq!(
        send(&mut b, "notes", &[("note", "Met the aunt.")])
            .await
            .status,
        303
    );
    assert_eq!(send(&mut b, "notes", &[("note", "  ")]).await.status, 422);
    assert_eq!(
        send(&mut b, "notes", &[("note", "a\0b")]).await.status,
        422,
        "a NUL is refused, not a 500"
    );
    let claudine_id = app
        .state
        .store
        .staff_by_phone(&kanda::domain::Phone::from_trusted(CLAUDINE.into()))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        send(&mut b, "assign", &[("staff", &claudine_id.to_string())])
            .await
            .status,
        303
    );
    // Not a worker of this centre: refused.
    let aline_id = app
        .state
        .store
        .staff_by_phone(&kanda::domain::Phone::from_trusted(ALINE.into()))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        send(&mut b, "assign", &[("staff", &aline_id.to_string())])
            .await
            .status,
        422
    );
    assert_eq!(
        send(
            &mut b,
            "referrals",
            &[("service", "health"), ("note", "clinic")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        send(&mut b, "referrals", &[("service", "astrology")])
            .await
            .status,
        422
    );
    assert_eq!(
        send(
            &mut b,
            "follow-up",
            &[("volunteer", "0788000001"), ("days", "14")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        send(
            &mut b,
            "follow-up",
            &[("volunteer", "0788000001"), ("days", "400")]
        )
        .await
        .status,
        422
    );
    // Grace is reminded to visit in 14 days, not the deployment's default.
    let case_id = app.state.store.case_id(&r).await.unwrap().unwrap();
    let reminders: Vec<_> = app
        .state
        .store
        .timers_of_case(case_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.kind == "visit_reminder" && t.state.as_str() == "pending")
        .collect();
    assert_eq!(reminders.len(), 1);
    let now = app.state.store.clock().now_ms();
    assert_eq!(reminders[0].due_at - now, 14 * 86_400_000);
    assert_eq!(
        send(&mut b, "stage", &[("stage", "assessed")]).await.status,
        303
    );
    // Closing needs a reason from the list.
    assert_eq!(
        send(&mut b, "stage", &[("stage", "closed")]).await.status,
        422
    );
    assert_eq!(
        send(&mut b, "stage", &[("stage", "closed"), ("reason", "bored")])
            .await
            .status,
        422
    );
    assert_eq!(stage_of(&app, &r).await, "assessed");
    assert_eq!(
        send(
            &mut b,
            "stage",
            &[("stage", "closed"), ("reason", "plan_completed")]
        )
        .await
        .status,
        303
    );
    assert_eq!(stage_of(&app, &r).await, "closed");
    assert_eq!(
        send(&mut b, "stage", &[("stage", "reopened")]).await.status,
        422,
        "a reason is needed"
    );
    assert_eq!(
        send(
            &mut b,
            "stage",
            &[("stage", "reopened"), ("reason", "new report")]
        )
        .await
        .status,
        303
    );
    assert_eq!(stage_of(&app, &r).await, "acknowledged");

    let page = b.get(&path).await;
    for shown in [
        "Met the aunt.",
        "Claudine Uwase",
        "Health",
        "Plan completed",
        "Reopened",
        "new report",
        "Grace Uwimana",
    ] {
        assert!(page.body.contains(shown), "{shown} on the page");
    }
    let view = app.state.work.view(&r).await.unwrap().unwrap();
    let kinds: Vec<_> = view.timeline.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "acknowledged",
        "note",
        "assigned",
        "referred",
        "follow_up_set",
        "assessed",
        "closed",
        "reopened",
    ] {
        assert_eq!(
            kinds.iter().filter(|x| **x == k).count(),
            1,
            "{k} once in {kinds:?}"
        );
    }
    let changes: Vec<_> = audit_actions(&app, CLAUDINE)
        .await
        .into_iter()
        .filter(|(a, _, _)| a.starts_with("case_") && a != "case_viewed")
        .map(|(a, c, _)| {
            assert_eq!(c.as_deref(), Some(r.as_str()));
            a
        })
        .collect();
    assert_eq!(
        changes,
        [
            "case_stage",
            "case_note",
            "case_assign",
            "case_referral",
            "case_follow_up",
            "case_stage",
            "case_stage",
            "case_stage"
        ]
    );
    app.stop().await;
}

async fn a_transfer_waits_for_the_receiving_manager(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let r = case_at(&app, "web-transfer", SOUTH).await;
    let path = format!("/cases/{r}");
    let mut claudine = Browser::sign_in(&app, CLAUDINE).await;
    let (csrf, key) = claudine.form_of(&path).await;
    let p = claudine
        .post(
            &format!("{path}/transfer"),
            &[
                ("csrf", &csrf),
                ("key", &key),
                ("centre", "CAPE-E"),
                ("reason", "The family moved to Rwamagana"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);

    // Until accepted, the case stays with the south, and the east can read it.
    assert_eq!(claudine.get(&path).await.status, 200);
    let mut patrick = Browser::sign_in(&app, PATRICK).await;
    let list = patrick.get("/cases").await;
    assert!(
        list.body.contains(r.as_str()),
        "waiting transfers are listed"
    );
    let page = patrick.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The family moved to Rwamagana"));
    assert!(page.body.contains("/transfer/decision"));

    // A caseworker of the east may not decide; nor the sending centre.
    for phone in [ALINE, JEAN] {
        let mut b = Browser::sign_in(&app, phone).await;
        let (csrf, key) = b.form_of(&path).await;
        let p = b
            .post(
                &format!("{path}/transfer/decision"),
                &[("csrf", &csrf), ("key", &key), ("decision", "accept")],
            )
            .await;
        assert!(matches!(p.status, 403 | 422), "{phone}: {}", p.status);
    }
    assert_eq!(
        app.state
            .store
            .case_row(&r)
            .await
            .unwrap()
            .unwrap()
            .centre_code,
        "CAPE-S"
    );

    let (csrf, key) = patrick.form_of(&path).await;
    let p = patrick
        .post(
            &format!("{path}/transfer/decision"),
            &[("csrf", &csrf), ("key", &key), ("decision", "accept")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        app.state
            .store
            .case_row(&r)
            .await
            .unwrap()
            .unwrap()
            .centre_code,
        "CAPE-E"
    );
    // Now the south has no access, the east works it.
    assert_eq!(claudine.get(&path).await.status, 404);
    let mut aline = Browser::sign_in(&app, ALINE).await;
    let (csrf, key) = aline.form_of(&path).await;
    let p = aline
        .post(
            &format!("{path}/stage"),
            &[("csrf", &csrf), ("key", &key), ("stage", "acknowledged")],
        )
        .await;
    assert_eq!(p.status, 303);
    let kinds: Vec<_> = app
        .state
        .work
        .view(&r)
        .await
        .unwrap()
        .unwrap()
        .timeline
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"transfer_requested".into()) && kinds.contains(&"transfer_accepted".into())
    );
    let decided: Vec<_> = audit_actions(&app, PATRICK)
        .await
        .into_iter()
        .map(|(a, _, _)| a)
        .collect();
    assert!(decided.contains(&"transfer_accepted".into()));
    app.stop().await;
}

async fn pages_speak_the_staff_members_language(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let r = case_at(&app, "web-lang", SOUTH).await;
    let mut jean = Browser::sign_in(&app, JEAN).await;
    let list = jean.get("/cases").await;
    assert!(list.body.contains("<html lang=\"fr\">") && list.body.contains("<h1>Dossiers</h1>"));
    assert!(jean
        .get(&format!("/cases/{r}"))
        .await
        .body
        .contains("Échéances"));
    let mut patrick = Browser::sign_in(&app, PATRICK).await;
    let list = patrick.get("/cases").await;
    assert!(list.body.contains("<html lang=\"rw\">"));
    assert!(
        list.body.contains("draft") || list.body.contains("umushinga"),
        "a draft says so"
    );
    // Before signing in: the language asked for, or the browser's.
    let mut b = Browser::new(&app);
    assert!(b.get("/login?lang=fr").await.body.contains("Connexion"));
    app.stop().await;
}

async fn the_audit_log_refuses_changes(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    Browser::sign_in(&app, CLAUDINE).await;
    let url = &db.url;
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let e = sqlx::query(sql).execute(&mut conn).await;
        assert!(e.is_err(), "{sql} must fail");
        assert!(format!("{:?}", e.unwrap_err()).contains("append-only"));
    }
    assert_eq!(audit_actions(&app, CLAUDINE).await.len(), 1);
    app.stop().await;
}

async fn cookies_are_secure_behind_https(db: Db) {
    let db = TestDb::new(db).await;
    let mut c = config(&db);
    c.public_url = Some("https://kanda.example.org".into());
    let app = spawn_app_with(c, Arc::new(tuesday_morning())).await;
    let mut b = Browser::new(&app);
    let form = b.get("/login").await;
    assert!(form.set_cookies().iter().all(|c| c.contains("; Secure")));
    let p = b.try_sign_in(CLAUDINE, DEMO_PASSWORD).await;
    let session = p
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("kanda_session="))
        .unwrap();
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    app.stop().await;
}

async fn national_staff_see_every_centre(db: Db) {
    let db = TestDb::new(db).await;
    let app = app(&db, &tuesday_morning()).await;
    let south = case_at(&app, "web-n-south", SOUTH).await;
    let east = case_at(&app, "web-n-east", EAST).await;
    for phone in [ADMIN, AUDITOR] {
        let mut b = Browser::sign_in(&app, phone).await;
        let list = b.get("/cases").await;
        assert!(
            list.body.contains(south.as_str()) && list.body.contains(east.as_str()),
            "{phone}"
        );
        let only_east = b.get("/cases?centre=CAPE-E").await;
        assert!(!only_east.body.contains(south.as_str()) && only_east.body.contains(east.as_str()));
        let by_district = b.get("/cases?district=E-RWA").await;
        assert!(
            !by_district.body.contains(south.as_str()) && by_district.body.contains(east.as_str())
        );
        assert!(
            by_district
                .body
                .contains("<option value=\"E-RWA\" selected>Rwamagana</option>"),
            "{}",
            by_district.body
        );
    }
    // A filter value that is none of the choices is refused, not ignored.
    let mut b = Browser::sign_in(&app, ADMIN).await;
    assert_eq!(b.get("/cases?stage=done").await.status, 422);
    assert_eq!(b.get("/cases?district=a%00b").await.status, 422);
    let p = b.get("/cases?urgent=perhaps").await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("not one of its choices"), "{}", p.body);
    app.stop().await;
}

async fn a_session_outlives_its_server(db: Db) {
    let db = TestDb::new(db).await;
    let clock = tuesday_morning();
    let first = app(&db, &clock).await;
    let mut b = Browser::sign_in(&first, CLAUDINE).await;
    first.stop().await;
    // A second server on the same database (a restart, or another
    // instance behind the same address) knows the session.
    let second = app(&db, &clock).await;
    b.base = second.url("");
    let list = b.get("/cases").await;
    assert_eq!(list.status, 200);
    let csrf = list.field("csrf").unwrap();
    assert_eq!(b.post("/logout", &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(b.get("/cases").await.status, 303);
    second.stop().await;
}

both!(
    a_session_outlives_its_server,
    cookies_are_secure_behind_https,
    national_staff_see_every_centre,
    sign_in_and_out,
    sign_in_refuses_a_form_without_its_token,
    five_failures_lock_the_account_for_fifteen_minutes,
    an_idle_session_expires,
    a_centre_sees_its_own_cases_only,
    read_only_roles_change_nothing,
    a_caseworker_works_a_case_through_its_forms,
    a_transfer_waits_for_the_receiving_manager,
    pages_speak_the_staff_members_language,
    the_audit_log_refuses_changes,
);
