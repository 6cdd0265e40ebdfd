//! The staff web view in a real browser: headless Debian `chromium`
//! driven through `chromedriver` (WebDriver) by fantoccini, against a
//! server of the test harness with the demo seeded. One walk through a
//! case's first days: Claudine (CAPE-S caseworker) signs in, acknowledges
//! a USSD report, assesses it and transfers it to CAPE-E; Patrick (CAPE-E
//! manager) signs in, sees the transfer waiting and accepts it, then opens
//! his centre's indicators; the administrator reads CAPE-S's, suppressed.
//!
//! Each page is saved as a PNG under `target/e2e-screenshots/`
//! (`NN-name.png`), for a person to look at. Without chromedriver or
//! chromium the test says it was skipped, unless `KANDA_E2E=1` (CI) is
//! set: then it fails.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{new_case, reference_in, Db, TestApp, TestDb, ADMIN, CLAUDINE, GRACE, PATRICK};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use kanda::{
    app::demo::DEMO_PASSWORD,
    domain::{NewCase, Role},
};

/// Grace reports a girl of 7, neglect, in danger, in her own village
/// (Cyarwa, Huye: CAPE-S's province).
const REPORT_OWN_VILLAGE: [&str; 10] = ["1", "Amina", "7", "1", "2", "2", "1", "1", "1", "1"];

/// How long any one page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(20);

/// The first of `names` found as a file, or on `PATH`.
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        let direct = Path::new(name);
        if direct.is_absolute() {
            return direct.is_file().then(|| direct.to_path_buf());
        }
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// chromedriver on a free port of the loopback, killed when dropped (also
/// when the test fails half-way).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(binary: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        // It says on stdout when it listens; the rest of its output is
        // drained by a thread so that it never blocks on a full pipe.
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut said = String::new();
        loop {
            match lines.next() {
                Some(Ok(line)) => {
                    said.push_str(&line);
                    said.push('\n');
                    if line.contains("started successfully") {
                        break;
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("chromedriver stopped before it listened:\n{said}");
                }
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        Driver { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser, with the folder its screenshots go to.
struct Chrome {
    c: Client,
    shots: PathBuf,
    n: u32,
}

impl Chrome {
    async fn open(driver: &Driver, chromium: &Path, shots: PathBuf) -> Chrome {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=800,900",
                    "--lang=en",
                    "--no-first-run",
                    "--no-default-browser-check",
                ],
            }),
        );
        // chromedriver listens on the loopback: plain HTTP, no TLS.
        let c = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .expect("a chromium session");
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Chrome { c, shots, n: 0 }
    }

    async fn goto(&self, url: &str) {
        self.c.goto(url).await.expect("goto");
    }

    /// Waits for an element matching `css`.
    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!("no {css:?} on {}: {e}", self.url().await),
        }
    }

    async fn url(&self) -> String {
        self.c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    async fn path(&self) -> String {
        self.c
            .current_url()
            .await
            .map(|u| u.path().to_string())
            .expect("current url")
    }

    async fn html(&self) -> String {
        self.c.source().await.expect("page source")
    }

    /// Runs `act` (a click that submits a form) and waits until the next
    /// page has loaded: the current page's body is marked first, and the
    /// wait is for a body without the mark.
    async fn submitting<F, Fut>(&self, act: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        self.c
            .execute("document.body.setAttribute('data-e2e-old', '1')", vec![])
            .await
            .expect("mark the page");
        act().await;
        self.wait("body:not([data-e2e-old])").await;
    }

    /// Clicks the element at `css` and waits for the page it leads to.
    async fn submit(&self, css: &str) {
        let button = self.wait(css).await;
        self.submitting(|| async move { button.click().await.expect("click") })
            .await;
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    async fn choose(&self, css: &str, value: &str) {
        self.wait(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("no option {value:?} in {css:?}: {e}"));
    }

    /// Scrolls `css` into view (when given) and saves the page as
    /// `NN-name.png`.
    async fn shot(&mut self, name: &str, css: Option<&str>) {
        if let Some(css) = css {
            let el = self.wait(css).await;
            self.c
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'})",
                    vec![serde_json::to_value(&el).expect("element")],
                )
                .await
                .expect("scroll");
        }
        self.n += 1;
        let png = self.c.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let file = self.shots.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&file, png).expect("save screenshot");
    }

    async fn sign_in(&self, base: &str, phone: &str) {
        self.goto(&format!("{base}/login")).await;
        self.fill("input[name=username]", phone).await;
        self.fill("input[name=password]", DEMO_PASSWORD).await;
        self.submit("form[action='/login'] button").await;
        assert_eq!(self.path().await, "/cases", "signed in as {phone}");
    }

    async fn sign_out(&self) {
        self.submit("header form[action='/logout'] button").await;
        assert_eq!(self.path().await, "/login", "signed out");
        self.wait("input[name=username]").await;
    }
}

/// The case as the API sees it, with a national token.
async fn api_case(app: &TestApp, token: &str, reference: &str) -> serde_json::Value {
    let res = app
        .http
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("API request");
    assert_eq!(res.status(), 200, "GET /api/v1/cases/{reference}");
    res.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_acknowledged_assessed_transferred_and_accepted_in_a_browser() {
    let required = std::env::var("KANDA_E2E").is_ok_and(|v| v == "1");
    let driver_bin = program(
        "KANDA_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "chromedriver"],
    );
    let chromium = program(
        "KANDA_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ],
    );
    let (Some(driver_bin), Some(chromium)) = (driver_bin, chromium) else {
        let msg = "chromedriver or chromium not found (Debian: apt-get install chromium chromium-driver; or set KANDA_CHROMEDRIVER and KANDA_CHROMIUM)";
        assert!(!required, "KANDA_E2E=1 but {msg}");
        eprintln!("e2e skipped: {msg}");
        return;
    };

    let db = TestDb::new(Db::Sqlite).await;
    // Cases are pushed to a Primero that is not there (port 9 refuses):
    // the case page says its push is waiting.
    let mut config = common::config(&db);
    config.primero = Some(kanda::app::PrimeroConfig {
        server: kanda::gateway::primero::PrimeroSettings {
            url: "http://127.0.0.1:9".into(),
            user: "kanda".into(),
            password: kanda::domain::Secret::new("unused"),
            timeout: Duration::from_secs(1),
        },
        fields: Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/primero-fields.toml"),
        push: Default::default(),
    });
    let app = common::spawn_app_with(config, std::sync::Arc::new(kanda::domain::SystemClock)).await;
    let base = app.url("");
    let token = app
        .state
        .work
        .issue_token("e2e", Role::Admin, None)
        .await
        .expect("a token");
    let reference = reference_in(&app.session("e2e1", GRACE, &REPORT_OWN_VILLAGE).await);
    // More of the month's reports, for the indicators' charts: CAPE-S 14
    // (neglect 9, violence 3, separated 2), CAPE-E 12.
    for (i, (village, concern)) in std::iter::repeat_n(("S-HUY-TUM-02", "neglect"), 9)
        .chain(std::iter::repeat_n(("S-HUY-TUM-03", "violence"), 3))
        .chain(std::iter::repeat_n(("S-NYA-BUS-01", "separated"), 2))
        .chain(std::iter::repeat_n(("E-RWA-KIG-01", "neglect"), 7))
        .chain(std::iter::repeat_n(("E-RWA-KIG-01", "exploitation"), 5))
        .enumerate()
    {
        let place = app
            .state
            .store
            .place_by_code(village, 4)
            .await
            .unwrap()
            .expect("a demo village");
        let case = NewCase {
            concern: concern.into(),
            ..new_case(&format!("e2e-more-{i}"), place.id)
        };
        app.state.work.register_case(&case).await.expect("a case");
    }
    let r = reference.as_str().to_string();
    assert_eq!(api_case(&app, &token, &r).await["centre"], "CAPE-S");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let driver = Driver::start(&driver_bin);
    let mut b = Chrome::open(&driver, &chromium, shots.clone()).await;

    // The sign-in page.
    b.goto(&format!("{base}/cases")).await;
    b.wait("form[action='/login'] input[name=csrf]").await;
    assert_eq!(b.path().await, "/login", "a stranger is sent to sign in");
    b.shot("sign-in", None).await;

    // Claudine: the list, then the case.
    b.sign_in(&base, CLAUDINE).await;
    let link = format!("table a[href='/cases/{r}']");
    b.wait(&link).await;
    b.shot("case-list", None).await;
    b.submit(&link).await;
    assert_eq!(b.path().await, format!("/cases/{r}"));
    b.wait("dl").await;
    let html = b.html().await;
    assert!(html.contains(&r), "the case page names its case");
    assert!(
        html.contains("Waiting to be sent to Primero"),
        "the case page says where its push to Primero stands"
    );
    b.shot("case", None).await;

    // Acknowledge.
    b.submit("form[action$='/stage'] input[name=stage][value=acknowledged] + button")
        .await;
    b.wait("p.ok[role=status]").await;
    assert_eq!(api_case(&app, &token, &r).await["stage"], "acknowledged");
    b.shot("acknowledged", None).await;

    // The next step: assessed, with a note.
    b.choose("form[action$='/stage'] select[name=stage]", "assessed")
        .await;
    b.fill(
        "form[action$='/stage'] input[name=note]",
        "Visited the family with the volunteer.",
    )
    .await;
    b.shot(
        "assessing",
        Some("form[action$='/stage'] select[name=stage]"),
    )
    .await;
    b.submit("form[action$='/stage'] button").await;
    b.wait("p.ok[role=status]").await;
    assert_eq!(api_case(&app, &token, &r).await["stage"], "assessed");
    b.shot("assessed", None).await;

    // Transfer to CAPE-E, with a reason.
    b.choose("form[action$='/transfer'] select[name=centre]", "CAPE-E")
        .await;
    b.fill(
        "form[action$='/transfer'] input[name=reason]",
        "The family moved to Rwamagana.",
    )
    .await;
    b.shot("transferring", Some("form[action$='/transfer'] button"))
        .await;
    b.submit("form[action$='/transfer'] button").await;
    b.wait("p.ok[role=status]").await;
    assert!(
        b.html().await.contains("The family moved to Rwamagana."),
        "the page shows the transfer waiting, with its reason"
    );
    let case = api_case(&app, &token, &r).await;
    assert_eq!(case["centre"], "CAPE-S", "still CAPE-S's until accepted");
    assert_eq!(case["transfer"]["to_centre"], "CAPE-E");
    assert!(
        b.c.find(Locator::Css("form[action$='/transfer/decision']"))
            .await
            .is_err(),
        "the sending centre does not decide"
    );
    b.shot("transfer-requested", None).await;
    b.sign_out().await;
    b.shot("signed-out", None).await;

    // Patrick (CAPE-E manager, in Kinyarwanda): the transfer waits for him.
    b.sign_in(&base, PATRICK).await;
    let waiting = format!("ul a[href='/cases/{r}']");
    b.wait(&waiting).await;
    b.shot("transfer-waiting", None).await;
    b.submit(&waiting).await;
    assert_eq!(b.path().await, format!("/cases/{r}"));
    b.wait("form[action$='/transfer/decision'] button[value=accept]")
        .await;
    assert!(b.html().await.contains("The family moved to Rwamagana."));
    b.shot(
        "transfer-to-decide",
        Some("form[action$='/transfer/decision']"),
    )
    .await;
    b.fill(
        "form[action$='/transfer/decision'] input[name=note]",
        "Aline will visit this week.",
    )
    .await;
    b.submit("form[action$='/transfer/decision'] button[value=accept]")
        .await;
    b.wait("p.ok[role=status]").await;
    let case = api_case(&app, &token, &r).await;
    assert_eq!(case["centre"], "CAPE-E", "the case is now CAPE-E's");
    assert!(case["transfer"].is_null(), "no transfer waits any more");
    assert!(
        b.c.find(Locator::Css("form[action$='/transfer/decision']"))
            .await
            .is_err(),
        "nothing left to decide"
    );
    b.wait("form[action$='/stage'] select[name=stage]").await; // CAPE-E works it now
    b.shot("accepted", None).await;

    // Patrick's centre's indicators, from the navigation: exact counts,
    // charts drawn in the page (SVG, no script).
    b.submit("header a[href='/indicators']").await;
    b.wait("section#new_by_concern svg").await;
    assert_eq!(b.path().await, "/indicators");
    let html = b.html().await;
    assert!(
        html.contains("CAPE-E") && !html.contains("&lt;10"),
        "his own centre, exact"
    );
    b.shot("indicators", None).await;
    b.sign_out().await;
    b.shot("signed-out-again", None).await;

    // The administrator reads CAPE-S's: small counts suppressed.
    b.sign_in(&base, ADMIN).await;
    b.goto(&format!(
        "{base}/indicators?scope=centre:CAPE-S&period=month"
    ))
    .await;
    b.wait("section#new_by_concern svg").await;
    let html = b.html().await;
    assert!(
        html.contains("&lt;10"),
        "small counts hidden from the administrator"
    );
    b.shot("indicators-suppressed", Some("section#new_by_concern"))
        .await;
    b.sign_out().await;

    b.c.close().await.expect("close the browser");
    drop(driver);
    app.stop().await;
    println!("e2e screenshots: {}", shots.display());
}
