//! `GET /login`, `POST /login`, `POST /logout`. Sign-in is by phone (any
//! spelling) and password; success answers 303 to `/cases` with the
//! session cookie; a failure shows the form again with its message; a
//! locked account says for how long. The form carries a CSRF token bound
//! to a cookie of its own.

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};

use super::render_status;
use crate::{
    casework::access::SignIn,
    domain::{random_token, Locale, Phone},
    web::{
        error::PageError,
        session::{
            cookie, same_token, set_cookie, Address, SignedIn, LOGIN_COOKIE, SESSION_COOKIE,
        },
        words::Words,
        Web,
    },
};

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    w: &'a Words,
    csrf: &'a str,
    username: &'a str,
    message: Option<String>,
    languages: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// The page's language: asked for (`?lang=`), else the browser's first
/// one Kanda has, else the deployment's default.
fn language(web: &Web, asked: Option<&str>, headers: &HeaderMap) -> Locale {
    let has = |l: &str| {
        Locale::parse(l)
            .ok()
            .filter(|l| web.work.words.texts.has_locale(l))
    };
    if let Some(l) = asked.and_then(has) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.split(';').next())
        .filter_map(|tag| has(tag.trim().split('-').next().unwrap_or("")))
        .next()
        .unwrap_or_else(|| web.settings.default_locale.clone())
}

fn form_page(
    web: &Web,
    words: &Words,
    status: StatusCode,
    username: &str,
    message: Option<String>,
) -> Result<Response, PageError> {
    let csrf = random_token();
    let page = LoginPage {
        w: words,
        csrf: &csrf,
        username,
        message,
        languages: web.languages(),
    };
    let mut response = render_status(&page, words, status)?;
    let c = set_cookie(LOGIN_COOKIE, &csrf, web.settings.secure_cookies, None);
    response.headers_mut().append(
        header::SET_COOKIE,
        c.parse().map_err(|e| PageError::internal(words, e))?,
    );
    Ok(response)
}

pub async fn form(
    State(web): State<Web>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let words = web.words(language(&web, q.lang.as_deref(), &headers));
    form_page(&web, &words, StatusCode::OK, "", None)
}

pub async fn submit(
    State(web): State<Web>,
    Address(address): Address,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let words = web.words(language(&web, f.lang.as_deref(), &headers));
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !same_token(&f.csrf, expected) {
        tracing::warn!("sign-in refused: CSRF token missing or wrong");
        return Err(PageError::csrf(&words));
    }
    let phone = Phone::parse(&f.username, web.settings.country).ok();
    let outcome = web
        .work
        .sign_in(phone.as_ref(), &f.password, address)
        .await
        .map_err(|e| PageError::internal(&words, e))?;
    match outcome {
        SignIn::Opened { token, .. } => {
            let secure = web.settings.secure_cookies;
            let mut response = Redirect::to("/cases").into_response();
            let headers = response.headers_mut();
            for c in [
                set_cookie(SESSION_COOKIE, &token, secure, None),
                set_cookie(LOGIN_COOKIE, "", secure, Some(0)),
            ] {
                headers.append(
                    header::SET_COOKIE,
                    c.parse().map_err(|e| PageError::internal(&words, e))?,
                );
            }
            Ok(response)
        }
        SignIn::Refused => {
            let m = words.t("web-sign-in-refused");
            form_page(&web, &words, StatusCode::OK, &f.username, Some(m))
        }
        SignIn::Locked { until } => {
            let now = web.store.clock().now_ms();
            let minutes = ((until - now).max(0) + 59_999) / 60_000;
            let m = words.t1("web-sign-in-locked", "minutes", &minutes.to_string());
            form_page(&web, &words, StatusCode::OK, &f.username, Some(m))
        }
    }
}

pub async fn logout(
    State(web): State<Web>,
    staff: SignedIn,
    Form(f): Form<LogoutForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    web.work
        .sign_out(&staff.session, staff.address.clone())
        .await
        .map_err(|e| PageError::internal(&staff.words, e))?;
    let mut response = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", web.settings.secure_cookies, Some(0));
    response.headers_mut().append(
        header::SET_COOKIE,
        c.parse()
            .map_err(|e| PageError::internal(&staff.words, e))?,
    );
    Ok(response)
}
