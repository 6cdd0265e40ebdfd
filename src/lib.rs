//! Kanda: child-protection reports from a feature phone, routed to the
//! provincial centre responsible for the child's location.
//!
//! Layers, each a folder, each importing only the ones below it (a test,
//! `tests/layers.rs`, holds them to it):
//!
//! | layer | holds |
//! |---|---|
//! | [`cli`] | the command line |
//! | [`app`] | the state of every layer built from one config, the engine's port, every route, the launch |
//! | [`gateway`] | wire formats: Africa's Talking and Twilio, in and out |
//! | [`channels`] | USSD hops and SMS conversations, gateway-neutral; CSV imports |
//! | [`engine`] | flows as data and the engine that walks them; pure, no I/O |
//! | [`casework`] | cases, alerts, deadlines, rota, timers, the SMS outbox |
//! | [`store`] | SQL only, SQLite and PostgreSQL |
//! | [`text`], [`domain`] | the words; newtypes and the records that cross layers |
//!
//! `ARCHITECTURE.md` says what each may import and where new work goes.

pub mod app;
pub mod casework;
pub mod channels;
pub mod cli;
pub mod domain;
pub mod engine;
pub mod gateway;
pub mod store;
pub mod text;
pub mod web;

pub use app::{app, launch, AppState};
