//! Operations endpoints: liveness, readiness, Prometheus metrics; and the request metrics.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;
// Tokio's clock, which a test can pause and advance (it follows the real one otherwise).
use tokio::time::Instant;

/// The process-wide metrics recorder (installed once, however many servers a test starts).
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers and, with a directory configured, the directory's service
/// bind works (checked at most every [`DirectoryCheck::EVERY`], so probes do not hammer it,
/// and never waiting behind a probe already asking a slow directory):
/// `200 ready`, else `503` with a JSON body naming what is not, e.g.
/// `{"status":"unavailable","store":"ok","directory":"unavailable"}`.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = match state.tessera.store().ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = ?e, "store not ready");
            false
        }
    };
    let directory = match state.tessera.directory() {
        Some(directory) => Some(state.directory_check.ready(directory.as_ref()).await),
        None => None,
    };
    if store && directory != Some(false) {
        return "ready".into_response();
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut body = serde_json::json!({ "status": "unavailable", "store": word(store) });
    if let Some(ok) = directory {
        body["directory"] = word(ok).into();
    }
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

/// The directory's last readiness answer, reused for a few seconds: one slow directory
/// (each check waits up to its timeouts) must not stall every probe, and a load balancer
/// probing every second must not cost the directory a bind a second. One probe at a time asks
/// the directory; while it waits, the others answer the last result at once rather than
/// queue behind it (only before the first result is there is anything to wait for).
#[derive(Debug)]
pub struct DirectoryCheck {
    last: std::sync::Mutex<Option<(Instant, bool)>>,
    /// Held by the one probe that is asking the directory.
    asking: tokio::sync::Mutex<()>,
    every: Duration,
}

impl Default for DirectoryCheck {
    fn default() -> Self {
        Self::every(Self::EVERY)
    }
}

impl DirectoryCheck {
    pub const EVERY: Duration = Duration::from_secs(5);

    /// A check whose answer is reused for `every`.
    pub fn every(every: Duration) -> Self {
        DirectoryCheck {
            last: std::sync::Mutex::new(None),
            asking: tokio::sync::Mutex::new(()),
            every,
        }
    }

    fn last(&self) -> Option<(Instant, bool)> {
        *self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last answer while it is fresh.
    fn fresh(&self) -> Option<bool> {
        self.last()
            .filter(|(at, _)| at.elapsed() < self.every)
            .map(|(_, ok)| ok)
    }

    pub async fn ready(&self, directory: &dyn tessera_core::directory::Directory) -> bool {
        if let Some(ok) = self.fresh() {
            return ok;
        }
        let _asking = match self.asking.try_lock() {
            Ok(guard) => guard,
            Err(_) => match self.last() {
                // Another probe is asking: its answer is on the way, the last one stands.
                Some((_, ok)) => return ok,
                None => self.asking.lock().await,
            },
        };
        // The probe just before may have answered while this one waited for its turn.
        if let Some(ok) = self.fresh() {
            return ok;
        }
        let ok = match directory.ping().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "directory not ready");
                false
            }
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), ok));
        ok
    }
}

pub async fn metrics() -> Response {
    match metrics_handle() {
        Some(h) => ([("content-type", "text/plain; version=0.0.4")], h.render()).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// The route a response answered, noted by [`note_route`] for [`track`].
#[derive(Debug, Clone)]
struct Route(MatchedPath);

/// Notes the matched route template (`/api/v1/sign-in/{flow}/verify`) on the response, for
/// [`track`]: runs as a route layer, where the router has matched the path.
pub async fn note_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Counts every request and its latency by route, method and status. Each label takes its
/// values from a fixed set, so no client can grow `/metrics` (and the recorder's memory) by
/// sending new methods or paths: the method is a standard one or `other`; the route is the
/// template the router matched (one of the application's own routes), or `unmatched` (no
/// route, or refused before routing, like a cross-site POST); the status is a three-digit
/// code.
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or_else(|| "unmatched".to_string(), |r| r.0.as_str().to_string());
    let status = response.status().as_u16().to_string();
    metrics::counter!("tessera_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("tessera_http_request_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label: one of RFC 9110's, or PATCH, or `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::directory::{ChangeFailure, Directory, DirectoryError, DirectoryPerson};

    /// A directory whose ping answers after `delay`, down or not.
    struct SlowDirectory {
        delay: std::sync::Mutex<Duration>,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl Directory for SlowDirectory {
        async fn find(&self, _: &str) -> Result<DirectoryPerson, DirectoryError> {
            Err(DirectoryError::NotFound)
        }
        async fn check_password(
            &self,
            _: &str,
            _: &str,
        ) -> Result<DirectoryPerson, DirectoryError> {
            Err(DirectoryError::NotFound)
        }
        async fn reset_password(&self, _: &str, _: &str) -> Result<(), DirectoryError> {
            Err(DirectoryError::NotFound)
        }
        async fn change_password(&self, _: &str, _: &str, _: &str) -> Result<(), ChangeFailure> {
            Err(DirectoryError::NotFound.into())
        }
        async fn people(&self) -> Result<Vec<DirectoryPerson>, DirectoryError> {
            Ok(Vec::new())
        }
        async fn ping(&self) -> Result<(), DirectoryError> {
            let delay = *self.delay.lock().unwrap();
            tokio::time::sleep(delay).await;
            match self.down.load(std::sync::atomic::Ordering::SeqCst) {
                true => Err(DirectoryError::Unavailable("hung".into())),
                false => Ok(()),
            }
        }
    }

    /// On Tokio's paused clock: time moves only while every task waits, so "the others did
    /// not wait for the slow probe" is exact, however busy the machine.
    #[tokio::test(start_paused = true)]
    async fn probes_do_not_queue_behind_one_asking_a_slow_directory() {
        let dir = SlowDirectory {
            delay: std::sync::Mutex::new(Duration::ZERO),
            down: false.into(),
        };
        let check = DirectoryCheck::every(Duration::from_millis(50));
        assert!(check.ready(&dir).await);

        // Now it hangs for a while before it says it is down.
        *dir.delay.lock().unwrap() = Duration::from_millis(1500);
        dir.down.store(true, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        let slow = check.ready(&dir);
        let others = async {
            // Let the slow probe start asking first.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let started = Instant::now();
            let answers = futures_util::future::join_all((0..5).map(|_| check.ready(&dir))).await;
            (answers, started.elapsed())
        };
        let (slow, (answers, took)) = tokio::join!(slow, others);
        assert!(!slow, "the probe that asked sees the outage");
        assert_eq!(answers, [true; 5], "the others answer the last result");
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        // The outage is the last result now.
        assert_eq!(check.last().map(|(_, ok)| ok), Some(false));
    }

    #[test]
    fn a_method_label_is_standard_or_other() {
        assert_eq!(method_label(&Method::POST), "POST");
        for odd in ["FOO", "get", "PROPFIND", "X-RANDOM-1234"] {
            let label = Method::from_bytes(odd.as_bytes()).map(|m| method_label(&m));
            assert_eq!(label.ok(), Some("other"), "{odd}");
        }
    }
}
