//! Kanda: child-protection reports from a feature phone, routed to the
//! provincial centre responsible for the child's location.

pub mod alerts;
pub mod cases;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod flows;
pub mod gateway;
pub mod gsm;
pub mod import;
pub mod keywords;
pub mod outbox;
pub mod rota;
pub mod router;
pub mod scheduler;
pub mod sms;
pub mod source;
pub mod store;
pub mod texts;
pub mod ussd;

use std::{ops::Deref, sync::Arc};

pub use router::app;

use crate::{
    clock::SharedClock,
    config::Config,
    engine::Engine,
    flows::FlowSet,
    gsm::UssdBudget,
    source::{Problem, Problems},
    store::Store,
    texts::Texts,
};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub engine: Engine,
    pub sessions: ussd::SnapshotCache,
    pub phones: domain::PhoneReader,
    pub grammar: sms::Grammar,
    /// Outgoing SMS: queued here, sent by the worker `launch` runs.
    pub outbox: outbox::Outbox,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// The flows and texts `serve` would use, with every problem found in them.
pub struct Content {
    pub flows: Option<FlowSet>,
    pub texts: Option<Texts>,
    pub problems: Vec<Problem>,
    pub origins: (source::Origin, source::Origin),
}

pub fn load_content(config: &Config) -> std::io::Result<Content> {
    let (flow_origin, flow_files) = source::load("flows", &config.flows_dir, "toml")?;
    let (locale_origin, locale_files) = source::load("locales", &config.locales_dir, "ftl")?;
    let (flows, mut problems) = FlowSet::load(&flow_files);
    let (texts, text_problems) = Texts::load(&locale_files);
    problems.extend(text_problems);
    if let (Some(f), Some(t)) = (&flows, &texts) {
        problems.extend(check::check(
            f,
            t,
            &locale_files,
            &flow_files,
            &config.default_locale,
        ));
        problems.extend(check::check_sms(f, t, &locale_files, config.sms_segments));
    }
    Ok(Content {
        flows,
        texts,
        problems,
        origins: (flow_origin, locale_origin),
    })
}

impl AppState {
    /// Loads flows and texts (refusing any with errors), connects and migrates.
    pub async fn build(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let content = load_content(&config)?;
        let errors: Vec<Problem> = content
            .problems
            .iter()
            .filter(|p| !p.warning)
            .cloned()
            .collect();
        let (Some(flows), Some(texts)) = (content.flows, content.texts) else {
            return Err(Problems(errors).into());
        };
        if !errors.is_empty() {
            return Err(Problems(errors).into());
        }
        if !texts.has_locale(&config.default_locale) {
            anyhow::bail!(
                "KANDA_DEFAULT_LOCALE `{}` has no texts under {}",
                config.default_locale,
                content.origins.1
            );
        }
        let outbox = outbox::Outbox::new(&config)?;
        let store = Store::connect(&config.database_url, clock).await?;
        let grammar = sms::Grammar::new(&flows);
        let engine = Engine::new(Arc::new(flows), Arc::new(texts), UssdBudget::default());
        Ok(AppState(Arc::new(Inner {
            phones: domain::PhoneReader::new(config.country),
            config,

            store,
            engine,
            grammar,
            sessions: Default::default(),
            outbox,
        })))
    }

    /// Queues an SMS durably and wakes the worker (see [`outbox::Outbox::enqueue`]).
    pub async fn send_sms(&self, msg: outbox::NewSms) -> Result<i64, outbox::OutboxError> {
        self.outbox.enqueue(&self.store, msg).await
    }
}

/// Serves on an already bound listener (tests bind port 0) until the
/// future `shutdown` completes, with the USSD and SMS purges, the timer
/// scheduler (alerts, escalations, deadlines) and the SMS outbox worker
/// beside it. On shutdown the worker claims no more and its
/// sends in flight finish (at most the SMS timeout and 5 s more). If this
/// future is dropped instead, the worker is aborted wherever it is, as in
/// a crash: a message it had claimed is sent after its lease.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Both end when this returns, and when this future is dropped (a test
    // that aborts the server's task kills its worker with it): the purge by
    // its guard, the worker as a dropped `Worker` does.
    let _purge = AbortOnDrop(tokio::spawn(ussd::purge_loop(state.clone())));
    let _purge_sms = AbortOnDrop(tokio::spawn(sms::purge_loop(state.clone())));
    let _scheduler = AbortOnDrop(
        scheduler::Scheduler::new(
            state.store.clone(),
            state.store.clock().clone(),
            alerts::CaseTimers(state.clone()),
            state.config.scheduler.clone(),
        )
        .spawn(),
    );
    let _sweep = AbortOnDrop(tokio::spawn(alerts::sweep_loop(state.clone())));
    let outbox = state.outbox.spawn(state.store.clone());
    let grace = state.config.sms.timeout + std::time::Duration::from_secs(5);
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    outbox.shutdown(grace).await;
    served
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
