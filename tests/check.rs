//! `kanda check`: every problem in flows and texts as `file:line: problem`.

use std::{fs, path::Path, process::Command};

use kanda::app::Config;

fn shipped() -> (String, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    (
        fs::read_to_string(format!("{root}/flows/report.toml")).unwrap(),
        fs::read_to_string(format!("{root}/locales/fr/ussd.ftl")).unwrap(),
    )
}

/// A copy of the shipped flows and locales in a temp dir, for breaking.
fn copy_content(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["flows", "locales/en", "locales/fr", "locales/rw"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
        for e in fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
}

fn problems(dir: &Path) -> Vec<String> {
    let mut config = Config::for_database("sqlite://unused.db");
    config.flows_dir = dir.join("flows");
    config.locales_dir = dir.join("locales");
    let content = kanda::app::load_content(&config).unwrap();
    content
        .problems
        .iter()
        .filter(|p| !p.warning)
        .map(|p| p.to_string())
        .collect()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn line_of(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn shipped_content_has_no_problem() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    assert_eq!(problems(dir.path()), Vec::<String>::new());
    let (report, fr) = shipped();
    assert!(report.contains("[states.summary]") && fr.contains("report-summary"));
}

#[test]
fn unknown_and_unreachable_states_are_located() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let report = dir.path().join("flows/report.toml");
    edit(&report, "next = \"disability\"", "next = \"disabilty\"");
    let p = problems(dir.path());
    let line = line_of(&report, "next = \"disabilty\"");
    let want = format!("{}:{line}: unknown state `disabilty`", report.display());
    assert!(p.contains(&want), "{want} not in {p:#?}");

    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let report = dir.path().join("flows/report.toml");
    fs::write(
        &report,
        fs::read_to_string(&report).unwrap()
            + "\n[states.orphan]\nkind = \"end\"\ntext = \"report-done\"\n",
    )
    .unwrap();
    let p = problems(dir.path());
    let line = line_of(&report, "[states.orphan]");
    assert!(
        p.contains(&format!(
            "{}:{line}: state `orphan` cannot be reached from any entry",
            report.display()
        )),
        "{p:#?}"
    );
}

#[test]
fn toml_and_fluent_syntax_errors_have_lines() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let visit = dir.path().join("flows/visit.toml");
    edit(&visit, "max = 100", "max = = 100");
    let fr = dir.path().join("locales/fr/ussd.ftl");
    edit(&fr, "nav-more = Suite", "nav-more = Suite {");
    let p = problems(dir.path());
    let vline = line_of(&visit, "max = = 100");
    assert!(
        p.iter()
            .any(|x| x.starts_with(&format!("{}:{vline}: ", visit.display()))),
        "{p:#?}"
    );
    let fline = line_of(&fr, "nav-more = Suite {");
    assert!(
        p.iter()
            .any(|x| x.starts_with(&format!("{}:{fline}: Fluent syntax", fr.display()))),
        "{p:#?}"
    );
}

#[test]
fn missing_messages_invented_placeholders_and_long_screens_are_found() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let fr = dir.path().join("locales/fr/ussd.ftl");
    edit(&fr, "visit-note = ", "visit-note-renamed = ");
    edit(
        &fr,
        "visit-done = Visite enregistrée sur le dossier {$reference}.",
        "visit-done = Visite {$reference} par {$who}.",
    );
    let rw = dir.path().join("locales/rw/ussd.ftl");
    edit(
        &rw,
        "report-concern = Ikibazo nyamukuru?",
        &format!(
            "report-concern = {}",
            "Ikibazo nyamukuru cy'umwana ".repeat(6)
        ),
    );
    let report = dir.path().join("flows/report.toml");
    edit(
        &report,
        "prompt = \"report-care\"",
        "prompt = \"report-carer\"",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|x| x.contains("`fr` has no message `visit-note`")),
        "{p:#?}"
    );
    let line = line_of(&fr, "visit-done =");
    assert!(p.contains(&format!("{}:{line}: message `visit-done` uses `$who`, which `en` does not: nothing will fill it", fr.display())), "{p:#?}");
    let line = line_of(&rw, "report-concern =");
    assert!(
        p.iter().any(|x| x.starts_with(&format!(
            "{}:{line}: state `report.concern` in `rw` a screen is",
            rw.display()
        )) && x.contains("over the USSD budget of 182")),
        "{p:#?}"
    );
    let line = line_of(&report, "[states.care]");
    assert!(
        p.contains(&format!(
            "{}:{line}: state `care` shows `report-carer`, which `en` does not define",
            report.display()
        )),
        "{p:#?}"
    );
}

#[test]
fn a_key_that_clashes_with_navigation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let report = dir.path().join("flows/report.toml");
    edit(
        &report,
        "keys = [{ key = \"1\", label = \"key-skip\", value = \"\" }]",
        "keys = [{ key = \"0\", label = \"key-skip\", value = \"\" }]",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|x| x.contains("key `0` clashes with a navigation key")),
        "{p:#?}"
    );
}

#[test]
fn the_binary_checks_from_any_directory_and_exits_non_zero_on_problems() {
    let bin = env!("CARGO_BIN_EXE_kanda");
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .arg("check")
        .current_dir(empty.path())
        .env_remove("KANDA_FLOWS_DIR")
        .env_remove("KANDA_LOCALES_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("flows from the copies built into this binary"),
        "{stdout}"
    );

    let broken = tempfile::tempdir().unwrap();
    copy_content(broken.path());
    edit(
        &broken.path().join("flows/report.toml"),
        "next = \"disability\"",
        "next = \"nowhere\"",
    );
    let out = Command::new(bin)
        .arg("check")
        .current_dir(broken.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.lines().any(
            |l| l.starts_with("./flows/report.toml:") && l.ends_with("unknown state `nowhere`")
        ),
        "{stdout}"
    );
}

#[test]
fn sms_keywords_and_forms_are_checked_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let report = dir.path().join("flows/report.toml");
    edit(
        &report,
        r#"form = ["age", "sex", "concern", "danger", "pick?", "name?"]"#,
        r#"form = ["age", "sex", "nowhere", "name?", "danger"]"#,
    );
    edit(&report, r#"en = ["REPORT"]"#, r#"en = ["RE PORT"]"#);
    let line = line_of(&report, "form = [");
    let words = line_of(&report, "words = {");
    let found = problems(dir.path());
    let expect = [
        format!(
            "{}:{line}: sms form: unknown state `nowhere`",
            report.display()
        ),
        format!(
            "{}:{line}: sms form: `name` takes the rest of the message, so it must come last",
            report.display()
        ),
        format!(
            "{}:{line}: sms form: `danger` is required but follows an optional field",
            report.display()
        ),
        format!(
            "{}:{words}: sms keyword: `RE PORT` must be one word of letters or digits",
            report.display()
        ),
    ];
    for e in &expect {
        assert!(found.contains(e), "{e}\nnot in {found:#?}");
    }
}

#[test]
fn a_form_field_without_its_message_is_an_error_and_long_sms_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    for lang in ["en", "fr", "rw"] {
        let ftl = dir.path().join(format!("locales/{lang}/sms.ftl"));
        let text = fs::read_to_string(&ftl).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("sms-field-danger"))
            .collect();
        fs::write(&ftl, kept.join("\n")).unwrap();
    }
    let report = dir.path().join("flows/report.toml");
    let found = problems(dir.path());
    let e = format!(
        "{}:{}: the form shows `sms-field-danger`, which `en` does not define",
        report.display(),
        line_of(&report, "words = {")
    );
    assert!(found.contains(&e), "{e}\nnot in {found:#?}");

    let dir = tempfile::tempdir().unwrap();
    copy_content(dir.path());
    let mut config = Config::for_database("sqlite://unused.db");
    config.flows_dir = dir.path().join("flows");
    config.locales_dir = dir.path().join("locales");
    config.sms_segments = 1;
    let content = kanda::app::load_content(&config).unwrap();
    let ftl = dir.path().join("locales/en/sms.ftl");
    let w = format!(
        "{}:{}: warning: in `en` `sms-help-volunteer` can take 2 SMS segments",
        ftl.display(),
        line_of(&ftl, "sms-help-volunteer =")
    );
    let warnings: Vec<String> = content
        .problems
        .iter()
        .filter(|p| p.warning)
        .map(|p| p.to_string())
        .collect();
    assert!(
        warnings.iter().any(|p| p.starts_with(&w)),
        "{w}\nnot in {warnings:#?}"
    );
    assert!(
        !content.problems.iter().any(|p| !p.warning),
        "over the segment budget is a warning, not an error"
    );
}

#[test]
fn the_primero_field_mapping_is_checked_with_its_lines() {
    let bin = env!("CARGO_BIN_EXE_kanda");
    let dir = tempfile::tempdir().unwrap();
    let run = |fields: &std::path::Path| {
        Command::new(bin)
            .arg("check")
            .current_dir(dir.path())
            .env("KANDA_PRIMERO_URL", "https://primero.example.org")
            .env("KANDA_PRIMERO_USER", "kanda")
            .env("KANDA_PRIMERO_PASSWORD", "secret")
            .env("KANDA_PRIMERO_FIELDS", fields)
            .output()
            .unwrap()
    };
    let documented =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/primero-fields.toml");
    let out = run(&documented);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok: Primero field mapping"), "{stdout}");

    let bad = dir.path().join("fields.toml");
    std::fs::write(
        &bad,
        "[fields]\nchild_age = \"age\"\nreporter_phone = \"phone\"\n",
    )
    .unwrap();
    let out = run(&bad);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with(&format!(
            "{}:3: `reporter_phone` is not a field",
            bad.display()
        ))),
        "{stdout}"
    );
}
