//! The words, below every layer that shows or sends them: the Fluent
//! catalogue (`locales/<lang>/*.ftl`), what a text costs on a screen or in
//! an SMS (GSM-7 or UCS-2), and the source files texts and flows are read
//! from, with the `file:line` problems found in them. No I/O: files arrive
//! as text.
//!
//! Imports only `domain`.

pub mod gsm;
pub mod source;
mod texts;

pub use texts::{args, MessageInfo, Texts, REFERENCE_LOCALE};
