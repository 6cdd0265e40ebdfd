//! Cookies and who is signed in. The session cookie carries a random
//! token (`HttpOnly`, `SameSite=Lax`, `Secure` behind https) that the
//! database knows only by its hash; a page asked for without a live
//! session answers 303 to `/login`. Every state-changing form carries the
//! session's CSRF token, compared in constant time. The sign-in form,
//! before any session, carries a token that must match a cookie of its own.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use subtle::ConstantTimeEq as _;

use super::{error::PageError, words::Words, Web};
use crate::{casework::staff_actor, domain::Actor, store::SessionOf};

pub const SESSION_COOKIE: &str = "kanda_session";
/// The sign-in form's own CSRF cookie.
pub const LOGIN_COOKIE: &str = "kanda_login";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure`
/// when asked; `max_age` 0 deletes it, `None` lasts the browser session.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// Two tokens are equal, compared in constant time.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The client's address, as the audit log records it.
pub fn address(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
}

/// The client's address, as an extractor.
pub struct Address(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Address {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Address(address(parts)))
    }
}

/// A signed-in staff member, with their session, the actor they are, their
/// words and their address.
pub struct SignedIn {
    pub session: SessionOf,
    pub actor: Actor,
    pub words: Words,
    pub address: Option<String>,
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), PageError> {
        if same_token(given, &self.session.csrf) {
            Ok(())
        } else {
            tracing::warn!(
                staff = self.session.staff.id,
                "form refused: CSRF token missing or wrong"
            );
            Err(PageError::csrf(&self.words))
        }
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    Web: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let web = Web::from_ref(state);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::SignIn);
        };
        let session = match web.work.web_session(token).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(PageError::SignIn),
            Err(e) => {
                let words = web.default_words();
                return Err(PageError::internal(&words, e));
            }
        };
        let words = web.words(session.staff.locale.clone());
        Ok(SignedIn {
            actor: staff_actor(&session.staff),
            session,
            words,
            address: address(parts),
        })
    }
}

impl Web {
    /// Words in a language.
    pub fn words(&self, locale: crate::domain::Locale) -> Words {
        Words::new(&self.work, locale, self.settings.timezone)
    }

    /// Every language the texts speak, by tag (for a choice of language).
    pub fn languages(&self) -> Vec<String> {
        self.work
            .words
            .texts
            .locales()
            .map(|l| l.as_str().to_string())
            .collect()
    }

    /// Words in the deployment's default language.
    pub fn default_words(&self) -> Words {
        self.words(self.settings.default_locale.clone())
    }
}
