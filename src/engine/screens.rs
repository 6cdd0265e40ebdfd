//! Screens rendered once and kept: menus and inputs whose texts read no
//! session variable are the same for every session.

use std::{collections::HashMap, sync::RwLock};

use super::paging::Layout;
use crate::domain::Locale;

/// Menu and input screens whose texts read no session variable are the same
/// for every session: each is rendered once per language, page and set of
/// visible options, and kept for the life of the engine (the flows and texts
/// it renders from never change under it). A screen with a refusal on top,
/// or whose texts read variables, is rendered every time.
#[derive(Default)]
pub(super) struct ScreenCache {
    by_locale: RwLock<HashMap<Locale, HashMap<ScreenKey, Option<Layout>>>>,
}

/// The screen's state, page, whether "back" is offered, and which of its
/// options are visible (one bit each).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(super) struct ScreenKey {
    pub(super) state: usize,
    pub(super) sms: bool,
    pub(super) page: usize,
    pub(super) at_root: bool,
    pub(super) visible: u64,
}

/// Most cached screens per language: far more than the shipped flows have;
/// a bound against a flow with many option combinations.
const SCREEN_CACHE_CAP: usize = 4096;

impl ScreenCache {
    /// `Some(None)`: known to read variables. `None`: not seen yet.
    pub(super) fn get(&self, locale: &Locale, key: &ScreenKey) -> Option<Option<Layout>> {
        let map = self.by_locale.read().ok()?;
        map.get(locale)?.get(key).cloned()
    }

    pub(super) fn put(&self, locale: &Locale, key: ScreenKey, layout: Option<Layout>) {
        let Ok(mut map) = self.by_locale.write() else {
            return;
        };
        let screens = map.entry(locale.clone()).or_default();
        if screens.len() < SCREEN_CACHE_CAP {
            screens.insert(key, layout);
        }
    }
}
