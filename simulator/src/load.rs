//! `kanda-sim load`: complete sessions in the real wire format, C at a time,
//! each worker on its own keep-alive connection; hop latencies measured
//! around each request and merged at the end (no shared lock in the loop).

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::bail;

use crate::wire::{session_id, Conn, Gateway, Hop, Target};

pub struct Options {
    pub gateway: Gateway,
    pub target: Target,
    pub sessions: usize,
    pub concurrency: usize,
    pub inputs: Vec<String>,
    pub phones: Vec<String>,
    /// Accept `CON` on the last hop too (for a constant-screen baseline).
    pub constant: bool,
}

pub struct Report {
    pub ok_sessions: usize,
    pub failed_sessions: usize,
    pub hops: usize,
    pub elapsed: Duration,
    /// Sorted hop latencies.
    pub latencies: Vec<Duration>,
    /// Sorted latencies of each hop of a session (the dial first): which
    /// hops the slow ones are.
    pub by_hop: Vec<Vec<Duration>>,
    pub first_error: Option<String>,
}

impl Report {
    pub fn percentile(&self, q: f64) -> Duration {
        percentile(&self.latencies, q)
    }

    pub fn hops_per_second(&self) -> f64 {
        self.hops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn result_line(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "RESULT tool=kanda-sim hops={} elapsed_s={:.2} hops_per_s={:.0} p50_ms={:.3} p95_ms={:.3} p99_ms={:.3} max_ms={:.3} ok_sessions={} failed_sessions={}",
            self.hops,
            self.elapsed.as_secs_f64(),
            self.hops_per_second(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.95)),
            ms(self.percentile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.ok_sessions,
            self.failed_sessions
        )
    }
}

/// The q-th quantile of sorted values (nearest rank).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `count` phone numbers from `base` upward (`+250788000001`, `+250788000002`...).
pub fn phones(base: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let digits = base.strip_prefix('+').unwrap_or(base);
    let n: u64 = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("`{base}` is not a phone number in +digits form"))?;
    Ok((0..count as u64).map(|i| format!("+{}", n + i)).collect())
}

struct WorkerResult {
    ok: usize,
    failed: usize,
    hops: usize,
    latencies: Vec<Duration>,
    /// The session's hop number of each latency.
    hop_numbers: Vec<u16>,
    first_error: Option<String>,
}

pub async fn run(opts: Options) -> anyhow::Result<Report> {
    if opts.concurrency == 0 || opts.sessions == 0 {
        bail!("--sessions and --concurrency must be at least 1");
    }
    let opts = Arc::new(opts);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..opts.concurrency.min(opts.sessions) {
        let (opts, next) = (opts.clone(), next.clone());
        workers.push(tokio::spawn(async move { worker(&opts, &next).await }));
    }
    let mut report = Report {
        ok_sessions: 0,
        failed_sessions: 0,
        hops: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        by_hop: vec![Vec::new(); opts.inputs.len() + 1],
        first_error: None,
    };
    for w in workers {
        let r = w.await?;
        report.ok_sessions += r.ok;
        report.failed_sessions += r.failed;
        report.hops += r.hops;
        for (&hop, &latency) in r.hop_numbers.iter().zip(&r.latencies) {
            report.by_hop[hop as usize].push(latency);
        }
        report.latencies.extend(r.latencies);
        report.first_error = report.first_error.or(r.first_error);
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    report.by_hop.iter_mut().for_each(|v| v.sort_unstable());
    Ok(report)
}

async fn worker(opts: &Options, next: &AtomicUsize) -> WorkerResult {
    let per_session = opts.inputs.len() + 1;
    let mut r = WorkerResult {
        ok: 0,
        failed: 0,
        hops: 0,
        latencies: Vec::with_capacity(opts.sessions / opts.concurrency * per_session + per_session),
        hop_numbers: Vec::with_capacity(
            opts.sessions / opts.concurrency * per_session + per_session,
        ),
        first_error: None,
    };
    let mut conn: Option<Conn> = None;
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= opts.sessions {
            break;
        }
        let phone = &opts.phones[n % opts.phones.len()];
        let id = session_id("load");
        let mut failure = None;
        for hop in 0..per_session {
            let text = opts.inputs[..hop].join("*");
            // Without hop numbers, the same key twice at once is a retry
            // to the server: wait as a person would (see `--gateway`).
            if hop > 1
                && !opts.gateway.numbers_hops()
                && opts.inputs[hop - 1] == opts.inputs[hop - 2]
            {
                tokio::time::sleep(Duration::from_millis(2100)).await;
            }
            if conn.is_none() {
                match Conn::connect(&opts.target).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        failure = Some(format!("{e:#}"));
                        break;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { break };
            let t = Instant::now();
            let (content_type, body) = opts.gateway.request(&Hop {
                session: &id,
                phone,
                service_code: "*384*123#",
                inputs: &opts.inputs[..hop],
                seq: hop,
            });
            let result = c.post_as(content_type, body).await;
            r.latencies.push(t.elapsed());
            r.hop_numbers.push(hop as u16);
            r.hops += 1;
            let reply = match result {
                Ok((status, body)) => opts.gateway.reply(status, &body),
                Err(e) => {
                    conn = None; // reconnect for the next session
                    Err(e)
                }
            };
            let last = hop + 1 == per_session;
            match reply {
                Ok(reply) if reply.end && !last => {
                    failure = Some(format!(
                        "END before the last input, at text {text:?}: {}",
                        reply.text
                    ))
                }
                Ok(reply) if last && !reply.end && !opts.constant => {
                    failure = Some(format!("the last hop was not END: {}", reply.text))
                }
                Ok(_) => {}
                Err(e) => failure = Some(format!("{e:#}")),
            }
            if failure.is_some() {
                break;
            }
        }
        match failure {
            None => r.ok += 1,
            Some(e) => {
                r.failed += 1;
                r.first_error.get_or_insert(e);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn phone_ranges() {
        assert_eq!(
            phones("+250788000001", 3).unwrap(),
            ["+250788000001", "+250788000002", "+250788000003"]
        );
        assert!(phones("abc", 1).is_err());
    }
}
