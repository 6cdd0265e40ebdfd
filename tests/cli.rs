//! The command line against real databases: imports with row-numbered
//! errors (all or nothing per file; rotas and chains too), `kanda cases list --json`,
//! `kanda outbox list|retry`, and the staff side's `kanda staff password`, `kanda token
//! issue|revoke` and `kanda audit list --json`.

mod common;

use std::process::Command;

use common::{spawn_app, Db, TestDb, GRACE};
use kanda::store::Table;

fn kanda(db: &TestDb, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kanda"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("KANDA_DATA_KEY", common::TEST_DATA_KEY)
        .env_remove("KANDA_FLOWS_DIR")
        .env_remove("KANDA_LOCALES_DIR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `kanda import KIND FILE` refuses the whole file: exit 1 and, on stderr,
/// each of `lines` after `FILE:` (a line number and its message).
fn refused(db: &TestDb, kind: &str, file: &str, lines: &[&str]) -> String {
    let (code, _, err) = kanda(db, &["import", kind, file]);
    assert_eq!(code, 1, "{err}");
    for line in lines {
        let expected = format!("{file}:{line}");
        assert!(err.contains(&expected), "{expected:?} not in: {err}");
    }
    err
}

/// `kanda import KIND FILE` takes the file: exit 0; what it printed.
fn imported(db: &TestDb, kind: &str, file: &str) -> String {
    let (code, out, err) = kanda(db, &["import", kind, file]);
    assert_eq!(code, 0, "{err}");
    out
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

both!(
    imports_are_row_numbered_and_all_or_nothing,
    rota_and_chain_import_from_the_command_line,
    cases_list_json_has_the_contract_fields,
    cases_show_and_stage_from_the_command_line,
    outbox_list_and_retry,
    accounts_tokens_and_the_audit_from_the_command_line,
);

/// `kanda ARGS` with `input` on standard input.
fn kanda_with_input(db: &TestDb, args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kanda"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("KANDA_DATA_KEY", common::TEST_DATA_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn accounts_tokens_and_the_audit_from_the_command_line(db: Db) {
    use kanda::domain::Phone;
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let dir = tempfile::tempdir().unwrap();
    // National staff: no centre code; a centre's role needs one.
    let bad = write(
        &dir,
        "staff.csv",
        "phone,name,role,centre_code,language\n+250788900009,Ana,admin,CAPE-S,en\n+250788900010,Bo,caseworker,,en\n+250788900011,Cy,boss,,en\n",
    );
    refused(
        &db,
        "staff",
        &bad,
        &[
            "2: admin is a national role",
            "3: caseworker is a centre's role",
            "4: role `boss`",
        ],
    );
    let good = write(
        &dir,
        "national.csv",
        "phone,name,role,centre_code,language\n0788900009,Ana Admin,admin,,en\n0788900010,Bo Auditor,auditor,,fr\n",
    );
    imported(&db, "staff", &good);
    let ana = app
        .state
        .store
        .staff_by_phone(&Phone::from_trusted("+250788900009".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ana.role.as_str(), ana.centre_id), ("admin", None));

    // A password from standard input, never from the command line.
    let (code, out, err) = kanda_with_input(&db, &["staff", "password", "0788 900 009"], "short\n");
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("at least 8"), "{err}");
    let (code, out, err) =
        kanda_with_input(&db, &["staff", "password", "0788900009"], "a long secret\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+250788900009"), "{out}");
    let (code, _, err) =
        kanda_with_input(&db, &["staff", "password", "0788123123"], "a long secret\n");
    assert_eq!(code, 1);
    assert!(err.contains("no staff member"), "{err}");
    let signed = app
        .state
        .work
        .sign_in(
            Some(&Phone::from_trusted("+250788900009".into())),
            "a long secret",
            None,
        )
        .await
        .unwrap();
    assert!(common::opened(&signed));

    // A token is printed once, on stdout alone; revoked by name.
    let (code, token, err) = kanda(
        &db,
        &[
            "token", "issue", "--name", "dhis2", "--role", "manager", "--centre", "CAPE-S",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    assert!(token.starts_with("kanda_"), "{token}");
    let actor = app
        .state
        .work
        .token_actor(token)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(actor.label, "token:dhis2");
    let (code, _, err) = kanda(&db, &["token", "issue", "--name", "x", "--role", "manager"]);
    assert_eq!(code, 1);
    assert!(err.contains("--centre"), "{err}");
    let (code, _, _) = kanda(&db, &["token", "revoke", "dhis2"]);
    assert_eq!(code, 0);
    assert!(app.state.work.token_actor(token).await.unwrap().is_none());
    assert_eq!(kanda(&db, &["token", "revoke", "dhis2"]).0, 1);

    // The audit log, one JSON object per line with the contract's fields.
    let (code, out, err) = kanda(&db, &["audit", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<_> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["password_set", "sign_in", "token_issued", "token_revoked"]
    );
    for r in &rows {
        for key in ["at", "actor", "action", "case", "address"] {
            assert!(r.get(key).is_some(), "{key} in {r}");
        }
    }
    assert_eq!(rows[0]["actor"], "+250788900009");
    assert_eq!(rows[2]["actor"], "token:dhis2");
    assert!(!out.contains("a long secret"));
    app.stop().await;
}

async fn imports_are_row_numbered_and_all_or_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let files = tempfile::tempdir().unwrap();
    let bad = write(&files, "locations.csv", "code,name,level,parent_code\nT,Maritime,province,\nT-LOM,Lomé,district,T\nT-LOM-1,Golfe 1,sector,T-XXX\nT-LOM-1-A,,village,T-LOM-1\nT,Again,province,\n");
    let err = refused(
        &db,
        "locations",
        &bad,
        &[
            "4: parent `T-XXX` is not defined above this row nor already imported",
            "5: name: 1 to 30 characters",
            "6: code `T` is already on line 2",
        ],
    );
    assert!(err.contains("nothing was imported"), "{err}");

    let good = write(&files, "good.csv", "code,name,level,parent_code\nT,Maritime,province,\nT-LOM,Lomé,district,T\nT-LOM-1,Golfe 1,sector,T-LOM\nT-LOM-1-A,Bè,village,T-LOM-1\n");
    let out = imported(&db, "locations", &good);
    assert!(out.contains("4 rows imported"), "{out}");
    let centres = write(
        &files,
        "centres.csv",
        "code,name,province_code\nC-T,Centre Maritime,T\nC-X,Nowhere,T-LOM\n",
    );
    refused(&db, "centres", &centres, &["3: `T-LOM` is not a province"]);
    let centres = write(
        &files,
        "centres2.csv",
        "code,name,province_code\nC-T,Centre Maritime,T\n",
    );
    imported(&db, "centres", &centres);
    let vols = write(&files, "volunteers.csv", "phone,name,language,village_code\n0788000011,Afi,fr,T-LOM-1-A\nnot-a-phone,Kossi,fr,T-LOM-1-A\n+250788000012,Ama,ewe,T-LOM-1-A\n+250788000013,Yao,en,T-LOM-1\n");
    refused(
        &db,
        "volunteers",
        &vols,
        &[
            "3: phone: `not-a-phone` is not a phone number",
            "4: language `ewe`: use one of en, fr, rw",
            "5: `T-LOM-1` is not a village",
        ],
    );
    let missing = write(&files, "nocol.csv", "phone,name\n+250788000014,X\n");
    refused(
        &db,
        "volunteers",
        &missing,
        &["1: missing column(s) language, village_code"],
    );

    let app = spawn_app(&db).await;
    assert_eq!(
        app.state.store.count(Table::Volunteers).await.unwrap(),
        0,
        "nothing from a file with a bad row"
    );
    assert_eq!(
        app.state.store.count(Table::Locations).await.unwrap(),
        4,
        "the demo does not seed over real data"
    );
    let vols = write(
        &files,
        "volunteers2.csv",
        "phone,name,language,village_code\n0788000011,Afi,fr,T-LOM-1-A\n",
    );
    imported(&db, "volunteers", &vols);
    let s = app.hop("i1", "+250788000011", "1*1*7*1*2*2*1*1*1").await;
    assert!(
        s.contains("Bè."),
        "the imported volunteer reports from her village: {s}"
    );
    app.stop().await;
}

async fn rota_and_chain_import_from_the_command_line(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await; // the demo: its rota has 2 rows, its chains 5
    let store = app.state.store.clone();
    let files = tempfile::tempdir().unwrap();

    let bad = write(
        &files,
        "rota.csv",
        "centre_code,phone,days,hours,fallback\nCAPE-S,0788100001,mon-fri,08:00-17:00,no\nCAPE-S,0788100002,sam;dim,9h-17h,no\n",
    );
    let err = refused(
        &db,
        "rota",
        &bad,
        &[
            "3: hours `9h-17h`: write HH:MM-HH:MM",
            "2: centre `CAPE-S` has no fallback contact",
        ],
    );
    assert!(
        err.contains(&format!("nothing was imported from {bad}")),
        "{err}"
    );
    assert_eq!(store.count(Table::Rota).await.unwrap(), 2);

    let good = write(
        &files,
        "rota2.csv",
        "centre_code,phone,days,hours,fallback\nCAPE-S,0788100001,mon-fri,08:00-17:00,oui\nCAPE-S,0788100002,\"sat,sun\",all day,non\n",
    );
    let out = imported(&db, "rota", &good);
    assert!(
        out.contains(&format!("2 rows imported from {good}")),
        "{out}"
    );
    assert_eq!(
        store.count(Table::Rota).await.unwrap(),
        3,
        "CAPE-S replaced, CAPE-E kept"
    );

    let bad = write(
        &files,
        "chain.csv",
        "centre_code,level,phone\nCAPE-S,caseworker,0788100001\nCAPE-S,committee,0788300001\n",
    );
    refused(
        &db,
        "chain",
        &bad,
        &["3: level 3 of CAPE-S: level 2 is missing"],
    );
    assert_eq!(store.count(Table::EscalationChain).await.unwrap(), 5);
    let good = write(
        &files,
        "chain2.csv",
        "centre_code,level,phone\nCAPE-S,1,0788100001\nCAPE-S,2,0788300001\n",
    );
    let out = imported(&db, "chain", &good);
    assert!(out.contains("2 rows imported"), "{out}");
    let south = store.centre_id("CAPE-S").await.unwrap().unwrap();
    assert_eq!(store.escalation_depth(south).await.unwrap(), 2);
    assert_eq!(store.count(Table::EscalationChain).await.unwrap(), 4);

    refused(
        &db,
        "rota",
        &good,
        &["1: missing column(s) days, hours, fallback"],
    );
    app.stop().await;
}

async fn cases_list_json_has_the_contract_fields(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    app.session(
        "c1",
        GRACE,
        &["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"],
    )
    .await;
    app.session(
        "c2",
        common::STRANGER,
        &["1", "1", "2", "12", "1", "1", "2", "2", "1", "1", "1", "1"],
    )
    .await;
    let (code, out, err) = kanda(&db, &["cases", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    for key in [
        "reference",
        "stage",
        "centre",
        "urgent",
        "concern",
        "channel",
        "created_at",
    ] {
        assert!(
            rows.iter().all(|r| r.get(key).is_some()),
            "{key} missing in {out}"
        );
    }
    assert_eq!(rows[0]["concern"], "neglect");
    assert_eq!(rows[1]["self_report"], true);
    assert_eq!(rows[1]["anonymous"], true);
    assert!(!out.contains("Amina"), "the list carries no child's name");
    app.stop().await;
}

async fn cases_show_and_stage_from_the_command_line(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn_app(&db).await;
    let done = app
        .session(
            "s1",
            GRACE,
            &["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"],
        )
        .await;
    let r: String = done
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap()
        .to_string();
    // Another centre's caseworker may not; an unknown stage is refused.
    let (code, _, err) = kanda(
        &db,
        &[
            "cases",
            "stage",
            &r,
            "acknowledged",
            "--by",
            "+250788200001",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("case {r} belongs to another centre than CAPE-E")),
        "{err}"
    );
    let (code, _, err) = kanda(
        &db,
        &["cases", "stage", &r, "finished", "--by", "+250788100001"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("`finished` is not a stage"), "{err}");
    let (code, _, err) = kanda(
        &db,
        &["cases", "stage", &r, "planned", "--by", "0788999999"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("is not a registered staff phone"), "{err}");
    // Claudine (CAPE-S) acknowledges, then assesses, with a note.
    let (code, out, err) = kanda(
        &db,
        &["cases", "stage", &r, "acknowledged", "--by", "0788100001"],
    );
    assert_eq!(
        (code, out.trim()),
        (0, format!("case {r}: new -> acknowledged").as_str()),
        "{err}"
    );
    let (code, _, err) = kanda(
        &db,
        &[
            "cases",
            "stage",
            &r,
            "assessed",
            "--by",
            "+250788100001",
            "--note",
            "Home visit done",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kanda(
        &db,
        &["cases", "stage", &r, "assessed", "--by", "+250788100001"],
    );
    assert_eq!(code, 1, "not twice");
    assert!(
        err.contains(&format!("case {r} is assessed: it cannot be assessed")),
        "{err}"
    );
    let (code, out, err) = kanda(&db, &["cases", "show", &r, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reference"], r.as_str());
    assert_eq!(v["stage"], "assessed");
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"registered"));
    assert!(
        kinds.contains(&"acknowledged") && kinds.contains(&"assessed"),
        "{kinds:?}"
    );
    let assessed = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "assessed")
        .unwrap();
    assert_eq!(assessed["note"], "Home visit done");
    assert_eq!(assessed["channel"], "cli");
    let deadlines = v["deadlines"].as_array().unwrap();
    let state_of = |kind: &str| {
        deadlines
            .iter()
            .find(|d| d["kind"] == kind)
            .map(|d| d["state"].as_str().unwrap().to_string())
    };
    // The server's scheduler had alerted the case (its timers exist).
    assert_eq!(state_of("assessment").as_deref(), Some("met"), "{out}");
    assert_eq!(state_of("plan").as_deref(), Some("pending"), "{out}");
    assert!(!out.contains("Amina"), "no child's name in the timeline");
    let (code, _, err) = kanda(&db, &["cases", "show", "12345678"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a case reference"), "{err}");
    app.stop().await;
}

async fn outbox_list_and_retry(db: Db) {
    use kanda::domain::{NewSms, SmsKind};
    use kanda::store::Attempt;
    let db = TestDb::new(db).await;
    // No server: the messages stay as this test leaves them.
    let state = kanda::AppState::build(
        common::config(&db),
        std::sync::Arc::new(kanda::domain::SystemClock),
    )
    .await
    .unwrap();
    kanda::app::demo::seed(&state).await.unwrap();
    let sms = |body: &str, key: &str, urgent: bool| NewSms {
        to: kanda::domain::Phone::from_trusted(GRACE.into()),
        body: body.into(),
        urgent,
        kind: SmsKind::Notice,
        source_key: key.into(),
        case_id: None,
    };
    let failed = state
        .send_sms(sms("Visit due", "o:1", false))
        .await
        .unwrap();
    let queued = state.send_sms(sms("Danger", "o:2", true)).await.unwrap();
    let store = &state.store;
    store
        .claim_sms("t", 1, std::time::Duration::from_secs(60))
        .await
        .unwrap(); // the urgent one
    store
        .sms_attempted(
            queued,
            "t",
            "log",
            8,
            Attempt::Later {
                at: store.clock().now_ms() + 3_600_000,
                counts: true,
                error: "503".into(),
            },
        )
        .await
        .unwrap();
    store
        .claim_sms("t", 1, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let refused = Attempt::Failed {
        error: "twilio: 401 Unauthorized error 20003: Authenticate".into(),
    };
    assert!(store
        .sms_attempted(failed, "t", "twilio", 8, refused)
        .await
        .unwrap());

    let (code, out, err) = kanda(&db, &["outbox", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    for key in [
        "id",
        "to",
        "body",
        "status",
        "attempts",
        "provider",
        "provider_message_id",
        "created_at",
        "last_error",
        "kind",
        "urgent",
        "provider_status",
        "next_attempt_at",
    ] {
        assert!(
            rows.iter().all(|r| r.get(key).is_some()),
            "{key} missing in {out}"
        );
    }
    assert_eq!(rows[0]["id"], failed);
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["provider"], "twilio");
    assert_eq!(rows[0]["attempts"], 1);
    assert_eq!(rows[0]["kind"], "notice");
    assert!(rows[0]["last_error"].as_str().unwrap().contains("20003"));
    assert!(chrono::DateTime::parse_from_rfc3339(rows[0]["created_at"].as_str().unwrap()).is_ok());
    assert_eq!(rows[1]["status"], "queued");
    assert_eq!(rows[1]["urgent"], true);

    let (code, out, err) = kanda(&db, &["outbox", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("failed") && out.contains("Visit due"), "{out}");

    let (code, _, err) = kanda(&db, &["outbox", "retry", &queued.to_string()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("outbox message {queued} is queued: only a failed or undelivered message can be retried")),
        "{err}"
    );
    let (code, _, err) = kanda(&db, &["outbox", "retry", "999999"]);
    assert_eq!(code, 1);
    assert!(err.contains("no outbox message 999999"), "{err}");
    let (code, out, err) = kanda(&db, &["outbox", "retry", &failed.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("queued again"), "{out}");
    let m = store.outbox_message(failed).await.unwrap().unwrap();
    assert_eq!((m.status.as_str(), m.attempts), ("queued", 0));
}
