//! A browser's part in the staff web view, without the browser: cookies
//! kept by hand, redirects not followed (so a test sees each 303), the
//! forms' hidden fields read from the page; and an API client.

use kanda::{
    casework::access::SignIn,
    domain::{CaseRef, Role},
};

use super::TestApp;

/// The demo staff's password (`app::demo::seed`).
pub const DEMO_PASSWORD: &str = "kanda-demo";
pub const ADMIN: &str = "+250788900001";
pub const AUDITOR: &str = "+250788900002";

/// An answer: status, headers, body.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` values.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The value of a hidden (or any) input named `name`, first on the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }
}

/// A browser: a cookie jar of one session, no redirects followed.
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Browser {
            base: app.url(""),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, page: &Page) {
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((n, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != n);
                if !v.is_empty() && !c.contains("Max-Age=0") {
                    self.cookies.push((n.to_string(), v.to_string()));
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header("cookie", self.cookie_header())
        };
        let res = req.send().await.expect("request");
        let page = Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        };
        self.keep(&page);
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).expect("form"));
        self.send(req).await
    }

    /// The sign-in form, filled and sent.
    pub async fn try_sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200);
        let csrf = form.field("csrf").expect("the sign-in form's csrf");
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
            ],
        )
        .await
    }

    /// Signs in with the demo password; panics unless it worked.
    pub async fn sign_in(app: &TestApp, phone: &str) -> Browser {
        let mut b = Browser::new(app);
        let page = b.try_sign_in(phone, DEMO_PASSWORD).await;
        assert_eq!(page.status, 303, "sign-in of {phone}: {}", page.body);
        assert_eq!(page.location(), Some("/cases"));
        b
    }

    /// A page's CSRF token and form key, to post one of its forms.
    pub async fn form_of(&mut self, path: &str) -> (String, String) {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        (
            page.field("csrf").expect("csrf"),
            page.field("key").unwrap_or_default(),
        )
    }

    pub fn has_session(&self) -> bool {
        self.cookies.iter().any(|(n, _)| n == "kanda_session")
    }
}

/// A case registered in the demo's village `village_code` (S-HUY-TUM-01
/// is the south's, E-RWA-KIG-01 the east's).
pub async fn case_at(app: &TestApp, key: &str, village_code: &str) -> CaseRef {
    let place = app
        .state
        .store
        .place_by_code(village_code, 4)
        .await
        .expect("place")
        .expect("a demo village");
    app.state
        .work
        .register_case(&super::new_case(key, place.id))
        .await
        .expect("case")
}

/// An API token.
pub async fn token(app: &TestApp, name: &str, role: Role, centre: Option<&str>) -> String {
    app.state
        .work
        .issue_token(name, role, centre)
        .await
        .expect("token")
}

/// An API request with a bearer token: status and JSON.
pub async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = res.text().await.expect("body");
    if text.is_empty() {
        return (status, serde_json::Value::Null);
    }
    assert!(
        ctype.starts_with("application/json"),
        "{path}: {ctype} {text}"
    );
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// Signs in at the case work directly (for lockout counting).
pub fn opened(s: &SignIn) -> bool {
    matches!(s, SignIn::Opened { .. })
}
