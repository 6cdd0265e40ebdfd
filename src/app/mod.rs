//! The app: builds every layer's state from one [`Config`] (content
//! loaded and checked, the database connected and migrated, the SMS
//! provider chosen), wires the engine's port (`port.rs`), serves every
//! route (`router.rs`), counts for the operators (`metrics.rs`) and runs
//! what goes on beside the server (purges, the timer scheduler, the sweep,
//! the outbox worker).
//!
//! The top of the house: it may import every layer, and none imports it.

pub mod config;
pub mod content;
pub mod demo;
mod imports;
pub mod metrics;
mod port;
pub mod router;

use std::{collections::BTreeMap, ops::Deref, sync::Arc};

use axum::extract::FromRef;

pub use config::{Config, PrimeroConfig};
pub use content::{load_content, Content};
pub use metrics::Metrics;
pub use router::app;

use crate::{
    casework::{
        self,
        outbox::{Outbox, OutboxError},
        primero::{FieldMap, Primero},
        scheduler::Scheduler,
        CaseWork,
    },
    channels::{self, Channels},
    domain::{NewSms, PhoneReader, SharedClock},
    engine::{flows::FlowSet, Engine},
    gateway::{self, primero::PrimeroHttp, providers::Provider, Gateways},
    store::{KeyError, Store},
    text::{gsm::UssdBudget, source::Problems},
    web::{self, Web},
};

/// Everything a request handler or a command needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub engine: Engine,
    /// The case work: cases, alerts, deadlines; the engine's port.
    pub work: CaseWork,
    /// Outgoing SMS: queued here, sent by the worker `launch` runs.
    pub outbox: Outbox,
    pub channels: Channels,
    pub gateways: Gateways,
    /// The staff web view and API.
    pub web: Web,
    /// The push of cases to Primero, when configured (its worker `launch` runs).
    pub primero: Option<Primero>,
    /// This app's metrics: the recorder every layer counts into, `/metrics`.
    pub metrics: Metrics,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for Web {
    fn from_ref(state: &AppState) -> Web {
        state.web.clone()
    }
}

impl FromRef<AppState> for Gateways {
    fn from_ref(state: &AppState) -> Gateways {
        state.gateways.clone()
    }
}

/// The message ids of a variable's labels, by value, as the flows show
/// them (the first menu that sets `var` to a value names it).
fn labels_of(flows: &FlowSet, var: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for (value, label) in flows.option_labels(var) {
        labels.entry(value.to_string()).or_insert(label.to_string());
    }
    labels
}

fn concern_labels(flows: &FlowSet) -> BTreeMap<String, String> {
    labels_of(flows, "concern")
}

/// The labels staff pages show for a case's answers.
fn option_labels(flows: &FlowSet) -> BTreeMap<String, BTreeMap<String, String>> {
    ["sex", "care", "disability", "outcome"]
        .into_iter()
        .map(|var| (var.to_string(), labels_of(flows, var)))
        .collect()
}

impl AppState {
    /// Loads flows and texts (refusing any with errors), chooses the SMS
    /// provider, connects and migrates, and builds each layer over the next.
    pub async fn build(config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let content = load_content(&config)?;
        let errors: Vec<_> = content
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
        let provider = Provider::new(&config.sms, config.public_url.as_deref())?;
        let primero = match &config.primero {
            Some(p) => Some(Primero::new(
                Arc::new(PrimeroHttp::new(p.server.clone()).map_err(anyhow::Error::msg)?),
                FieldMap::load(&p.fields)?,
                p.push.clone(),
                config.timezone,
            )),
            None => None,
        };
        let metrics = Metrics::new(config.metrics_token.clone());
        let outbox = Outbox::new(
            Arc::new(provider),
            config.outbox.clone(),
            config.sms.rate,
            metrics.meter(),
        );
        let keys = config.data_keys.clone().ok_or(KeyError::Missing)?;
        let store = Store::connect(&config.database_url, clock, keys).await?;
        let (flows, texts) = (Arc::new(flows), Arc::new(texts));
        let work = CaseWork::new(
            store.clone(),
            outbox.clone(),
            casework::Settings {
                deadlines: config.deadlines.clone(),
                timezone: config.timezone,
                quiet_hours: config.quiet_hours,
                session_ttl: config.web_session_ttl,
                retention: config.retention,
            },
            casework::Words {
                texts: texts.clone(),
                concern_labels: concern_labels(&flows),
                option_labels: option_labels(&flows),
            },
            metrics.meter(),
        );
        let engine = Engine::new(flows, texts, UssdBudget::default());
        let channels = Channels::new(
            store.clone(),
            engine.clone(),
            work.clone(),
            channels::Settings {
                default_locale: config.default_locale.clone(),
                ussd_session_ttl: config.session_ttl,
                ussd_session_timeout: config.session_timeout,
                resume_window: config.resume_window,
                sms_session_ttl: config.sms_session_ttl,
            },
            PhoneReader::new(config.country),
        );
        let gateways = Gateways {
            channels: channels.clone(),
            settings: Arc::new(gateway::Settings {
                token: config.gateway_token.clone(),
                twilio_auth_token: config.sms.twilio.as_ref().map(|t| t.auth_token.clone()),
                public_url: config.public_url.clone(),
            }),
            meter: metrics.meter(),
        };
        let web = Web::new(
            work.clone(),
            web::Settings {
                secure_cookies: config
                    .public_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("https://")),
                country: config.country,
                default_locale: config.default_locale.clone(),
                timezone: config.timezone,
                primero: primero.is_some(),
            },
            Arc::new(imports::AppImports {
                store: store.clone(),
                country: config.country,
                texts: work.words.texts.clone(),
            }),
        );
        Ok(AppState(Arc::new(Inner {
            config,
            store,
            engine,
            work,
            outbox,
            channels,
            gateways,
            web,
            primero,
            metrics,
        })))
    }

    /// Queues an SMS durably and wakes the worker (see [`Outbox::enqueue`]).
    pub async fn send_sms(&self, msg: NewSms) -> Result<i64, OutboxError> {
        self.outbox.enqueue(&self.store, msg).await
    }
}

/// Serves on an already bound listener (tests bind port 0) until the
/// future `shutdown` completes, with the USSD, SMS and staff-session
/// purges, the timer scheduler (alerts, escalations, deadlines), the sweep,
/// the SMS outbox worker and (when configured) the Primero push beside it.
/// On shutdown the workers claim no more and what they have in flight
/// finishes (at most the SMS timeout and 5 s more each). If this future is
/// dropped instead, the workers are aborted wherever they are, as in a
/// crash: what they had claimed is taken up again after its lease.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Each ends when this returns, and when this future is dropped (a test
    // that aborts the server's task kills its worker with it): the loops
    // by their guards, the worker as a dropped `Worker` does.
    let _purge = AbortOnDrop(tokio::spawn(channels::ussd::purge_loop(
        state.channels.clone(),
    )));
    let _purge_sms = AbortOnDrop(tokio::spawn(channels::sms::purge_loop(
        state.channels.clone(),
    )));
    let _scheduler = AbortOnDrop(
        Scheduler::new(
            state.store.clone(),
            state.store.clock().clone(),
            state.work.timers(),
            state.config.scheduler.clone(),
        )
        .spawn(),
    );
    let _sweep = AbortOnDrop(tokio::spawn(state.work.clone().sweep_loop()));
    let _sessions = AbortOnDrop(tokio::spawn(state.work.clone().purge_sessions_loop()));
    let _metrics = AbortOnDrop(tokio::spawn(state.metrics.clone().upkeep_loop()));
    let outbox = state.outbox.spawn(state.store.clone());
    let primero = state.primero.as_ref().map(|p| p.spawn(state.store.clone()));
    let grace = state.config.sms.timeout + std::time::Duration::from_secs(5);
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    outbox.shutdown(grace).await;
    if let Some(primero) = primero {
        primero.shutdown(grace).await;
    }
    served
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
