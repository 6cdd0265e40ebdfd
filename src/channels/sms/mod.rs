//! The SMS service, gateway-neutral: an inbound message in, the reply's
//! text out. Keywords (declared by the flows, see [`crate::engine::keywords`]) run
//! commands, one-message forms, or start a guided conversation that asks
//! the flow's questions one message at a time; any other message answers
//! the conversation under way.
//!
//! Every effect is idempotent by the message (a form's case) or by the
//! conversation (a guided report's case), and the reply is recorded per
//! message: a message delivered twice has its effects once, and the second
//! delivery gets the first reply.

mod conversation;
mod grammar;

use std::time::Duration;

pub use grammar::Grammar;

use super::Channels;
use crate::domain::Phone;

/// One inbound SMS, as any gateway delivers it.
#[derive(Clone, Debug)]
pub struct InboundSms {
    /// The gateway (`twilio`, `africastalking`): with `message_id`, what
    /// makes a delivery the same message.
    pub provider: &'static str,
    pub message_id: String,
    pub from: Phone,
    pub body: String,
}

/// How long a timed-out conversation is remembered, to say it timed out.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a reply is kept for a gateway's second delivery.
const REPLIES_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

/// Answers one message. Never fails: an internal error is logged with its
/// cause and the sender gets a localized apology (not recorded, so a
/// gateway's retry is handled afresh).
pub async fn answer(state: &Channels, msg: &InboundSms) -> String {
    match try_answer(state, msg).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(provider = msg.provider, phone = %msg.from.redacted(), error = %format!("{e:#}"), "SMS failed");
            state
                .engine
                .texts()
                .plain(&state.settings.default_locale, "error-internal")
        }
    }
}

async fn try_answer(state: &Channels, msg: &InboundSms) -> anyhow::Result<String> {
    if let Some(reply) = state.store.sms_reply(msg.provider, &msg.message_id).await? {
        return Ok(reply);
    }
    let reply = conversation::Conversation::load(state, msg)
        .await?
        .reply()
        .await?;
    Ok(state
        .store
        .save_sms_reply(msg.provider, &msg.message_id, &reply)
        .await?)
}

/// Forgets timed-out conversations' answers now and then, for the life of
/// the server, once the resume window after their time-out is over too
/// (their rows stay a day, so a late message hears it timed out).
pub async fn purge_loop(state: Channels) {
    let ttl = state.settings.sms_session_ttl;
    let kept = ttl + state.settings.resume_window;
    let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = state.store.clock().now_ms();
        let ms = |d: Duration| d.as_millis() as i64;
        match state
            .store
            .purge_sms(
                now - ms(kept),
                now - ms(ttl + FORGET_AFTER),
                now - ms(REPLIES_KEPT),
            )
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                purged = n,
                "timed-out SMS conversations and old replies purged"
            ),
            Err(e) => tracing::warn!(error = %e, "could not purge SMS conversations"),
        }
    }
}
