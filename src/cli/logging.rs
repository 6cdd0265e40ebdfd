//! Log lines, on standard error: `KANDA_LOG` filters them (default
//! `kanda=info,warn`), `KANDA_LOG_FORMAT` writes them as text or as one
//! JSON object a line. Standard output is not the log: it carries what a
//! command prints (the demo's SMS, `kanda cases list`).
//!
//! What the code logs never holds a phone number (only its last three
//! digits: `Phone::redacted`), a name or a note; this file only chooses
//! the format.

use super::LogFormat;

/// Installs the log subscriber for the whole process (once, at start).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KANDA_LOG")
        .unwrap_or_else(|_| "kanda=info,warn".into());
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => lines.init(),
        LogFormat::Json => {
            lines
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_ansi(false)
                .init();
            // A panic's report is a log line too, not free text in the stream.
            std::panic::set_hook(Box::new(|info| {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                tracing::error!(panic = %panic_message(info), at, "panic");
            }));
        }
    }
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Reports the error a command ended with: `error: ...` as text, or one
/// JSON line in the log's format.
pub fn fatal(format: LogFormat, e: &anyhow::Error) {
    match format {
        LogFormat::Text => eprintln!("error: {e:#}"),
        LogFormat::Json => tracing::error!(error = %format!("{e:#}"), "kanda stopped"),
    }
}
