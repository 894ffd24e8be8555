//! Driving requests: a fixed number of clients, each sending one request after the other
//! until the time is up, recording every latency.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one request came to.
#[derive(Debug)]
pub enum Step {
    /// The answer the scenario expects.
    Ok,
    /// The answer the scenario expects, with the latency it timed itself: the part of the
    /// exchange the figure is about (push: the challenge to the device hearing of it), not
    /// the whole round trip with its setup and clean-up.
    OkTimed(Duration),
    /// Anything else (a status, a body, a transport error), described.
    Unexpected(String),
    /// The scenario has nothing valid left to send right now (every account has used the
    /// codes the server accepts at this moment); the client stops.
    Exhausted,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: u64,
    pub unexpected: u64,
    pub first_unexpected: Option<String>,
    /// Some client ran out of valid requests before the time was up.
    pub exhausted: bool,
    pub elapsed: Duration,
    /// Microseconds, of every request that was sent (expected or not).
    pub latencies_us: Vec<u64>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.ok + self.unexpected) as f64 / secs
        } else {
            0.0
        }
    }

    /// The `p`-th percentile latency in milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_us, p) as f64 / 1000.0
    }
}

/// Nearest-rank percentile of sorted `values`.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `clients` loops for `duration`; each calls `request(client, n)` for its n-th request.
pub async fn drive<F, Fut>(clients: usize, duration: Duration, request: F) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Step> + Send + 'static,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let step = request(client, n).await;
                let took = sent.elapsed().as_micros() as u64;
                n += 1;
                match step {
                    Step::Ok => {
                        out.ok += 1;
                        out.latencies_us.push(took);
                    }
                    Step::OkTimed(part) => {
                        out.ok += 1;
                        out.latencies_us.push(part.as_micros() as u64);
                    }
                    Step::Unexpected(what) => {
                        out.unexpected += 1;
                        out.latencies_us.push(took);
                        out.first_unexpected.get_or_insert(what);
                    }
                    Step::Exhausted => {
                        out.exhausted = true;
                        break;
                    }
                }
            }
            out
        }));
    }
    let mut total = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(out) => {
                total.ok += out.ok;
                total.unexpected += out.unexpected;
                total.exhausted |= out.exhausted;
                if total.first_unexpected.is_none() {
                    total.first_unexpected = out.first_unexpected;
                }
                total.latencies_us.extend(out.latencies_us);
            }
            Err(e) => {
                total.unexpected += 1;
                total
                    .first_unexpected
                    .get_or_insert_with(|| format!("client task failed: {e}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

/// Checks a response's status (and that its body reads), describing anything else.
pub async fn expect(response: reqwest::Result<reqwest::Response>, status: u16) -> Step {
    match response {
        Ok(r) => {
            let got = r.status().as_u16();
            match r.bytes().await {
                Ok(_) if got == status => Step::Ok,
                Ok(body) => Step::Unexpected(format!(
                    "status {got} (expected {status}): {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
                Err(e) => Step::Unexpected(format!("reading the body: {e}")),
            }
        }
        Err(e) => Step::Unexpected(format!("transport: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 99.0), 0);
    }
}
