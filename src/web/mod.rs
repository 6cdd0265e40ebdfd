//! The staff side: server-rendered pages for provincial staff (sign-in,
//! the case list, a case and its work) and the JSON API for integrators,
//! with the same rules: a session or a bearer token names an actor, whose
//! scope every read puts in its query, and whose every read and change is
//! in the audit log.
//!
//! - `session.rs`: cookies, the signed-in staff member, CSRF;
//! - `words.rs`: a page's language;
//! - `error.rs`: what a person or an API client is told when it fails;
//! - `pages/`: the HTML pages; `api/`: the JSON API and its OpenAPI
//!   document.
//!
//! Beside the channels: imports `casework`, `store`, `text` and `domain`.

pub mod api;
pub mod charts;
pub mod error;
pub mod pages;
pub mod session;
pub mod words;

use std::sync::Arc;

use crate::{
    casework::{admin::CsvImport, CaseWork},
    domain::{Country, Locale},
    store::Store,
};

/// What the staff side needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct Web(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub work: CaseWork,
    pub store: Store,
    pub settings: Settings,
    /// The CSV importer the staff pages import through (the app's, over
    /// the channels' importer: the staff side names no channel).
    pub importer: Arc<dyn CsvImport>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Cookies carry `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// To read the phone numbers staff sign in with.
    pub country: Country,
    /// The language of a page before anyone signs in.
    pub default_locale: Locale,
    /// The deployment's time zone: times are shown in it.
    pub timezone: chrono_tz::Tz,
    /// Cases are pushed to Primero: a case's page says where its push stands.
    pub primero: bool,
}

impl std::ops::Deref for Web {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Web {
    pub fn new(work: CaseWork, settings: Settings, importer: Arc<dyn CsvImport>) -> Self {
        let store = work.store.clone();
        Web(Arc::new(Inner {
            work,
            store,
            settings,
            importer,
        }))
    }
}
