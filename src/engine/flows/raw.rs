//! The flow files' own shape, as `toml` reads them (every field spanned
//! where a problem may be reported at its line).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlow {
    pub(super) id: Spanned<String>,
    #[serde(default)]
    pub(super) entry: Option<Spanned<String>>,
    pub(super) start: Spanned<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) description: Option<String>,
    pub(super) states: BTreeMap<String, RawState>,
    #[serde(default)]
    pub(super) sms: Vec<RawSms>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSms {
    pub(super) words: Spanned<BTreeMap<String, Vec<String>>>,
    /// `help`, `language` or `status`; without it the keyword starts a conversation.
    pub(super) command: Option<Spanned<String>>,
    pub(super) start: Option<Spanned<String>>,
    pub(super) form: Option<Spanned<Vec<String>>>,
    pub(super) submit: Option<Spanned<String>>,
    pub(super) usage: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub(super) kind: Spanned<String>,
    pub(super) prompt: Option<Spanned<String>>,
    pub(super) text: Option<Spanned<String>>,
    pub(super) var: Option<String>,
    pub(super) options: Option<Vec<RawOption>>,
    pub(super) next: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub(super) input_type: Option<Spanned<String>>,
    pub(super) min: Option<i64>,
    pub(super) max: Option<i64>,
    pub(super) keys: Option<Vec<RawKey>>,
    pub(super) action: Option<Spanned<String>>,
    pub(super) titles: Option<Vec<Spanned<String>>>,
    pub(super) source: Option<String>,
    pub(super) item: Option<Spanned<String>>,
    pub(super) empty: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOption {
    pub(super) label: Spanned<String>,
    pub(super) value: Option<String>,
    pub(super) next: Option<Spanned<String>>,
    pub(super) set: Option<BTreeMap<String, String>>,
    pub(super) requires: Option<String>,
    pub(super) codes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKey {
    pub(super) key: String,
    pub(super) label: Spanned<String>,
    pub(super) value: String,
}
