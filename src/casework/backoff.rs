//! How long to wait before trying again: the outbox's sends and the
//! scheduler's failed timers back off the same way.

use std::time::Duration;

use rand::Rng;

/// Longest wait between two attempts, and longest pause for a 429.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// The delay before attempt `attempt + 1`, after `attempt` failed ones:
/// `first`, doubling, at most an hour, ±20 %.
pub fn backoff(first: Duration, attempt: i64) -> Duration {
    let doublings = (attempt - 1).clamp(0, 20) as u32;
    let base = first.saturating_mul(1 << doublings).min(MAX_DELAY);
    base.mul_f64(rand::thread_rng().gen_range(0.8..=1.2))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_delay_with_jitter_and_stops_at_an_hour() {
        let first = Duration::from_secs(10);
        for (attempt, base) in [(1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0)] {
            let d = backoff(first, attempt).as_secs_f64();
            assert!(
                (base * 0.8..=base * 1.2).contains(&d),
                "attempt {attempt}: {d}"
            );
        }
        assert!(backoff(first, 40) <= MAX_DELAY);
        assert!(backoff(first, 40) >= MAX_DELAY.mul_f64(0.8));
    }
}
