//! What the providers' HTTP clients share: how a refusal is read (retry,
//! pause, or give up), `Retry-After`, and errors and answers shortened to
//! one readable line for the outbox's `last_error`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::casework::outbox::SendOutcome;

/// An HTTP refusal: 429 pauses, 408 and 5xx retry, any other 4xx (a
/// configuration error: credentials, sender, number) fails the message.
pub fn classify(
    provider: &str,
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    detail: &str,
) -> SendOutcome {
    let error = format!("{provider}: {detail}");
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        SendOutcome::RateLimited { retry_after, error }
    } else if status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT {
        SendOutcome::Retry(error)
    } else {
        SendOutcome::Rejected(error)
    }
}

pub fn retry_after_of(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()
        .and_then(|v| parse_retry_after(v, Utc::now()))
}

/// `Retry-After`: seconds, or an HTTP date (a date past is zero).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// An error with its causes (reqwest's own text leaves out "connection
/// refused" or "timed out").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// At most 300 characters of a provider's answer, on one line.
pub fn shorten(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut s: String = one_line.trim().chars().take(300).collect();
    if one_line.trim().chars().count() > 300 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
