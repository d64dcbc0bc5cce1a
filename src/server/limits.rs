//! Abuse limits: requests per API key and per client address, failed sign-ins per account
//! and per address. Counted in this process: with several servers, each allows its share.

use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap},
    middleware::Next,
    response::Response,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

use super::{config::LimitSettings, rest::shape, state::AppState};

/// How long failed sign-ins are remembered.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A burst of twice the rate lets a client catch up after a pause.
const BURST: NonZeroU32 = NonZeroU32::MIN.saturating_add(1);

/// Forget idle keys every this many checks, so a flood of addresses does not keep memory.
const SWEEP_EVERY: u64 = 4_096;

/// The limiters one server shares between its requests.
pub struct Limits {
    per_key: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    sign_ins: SignInThrottle,
    client_ip_header: Option<String>,
    checks: AtomicU64,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        let quota = |per_second: u32| {
            NonZeroU32::new(per_second)
                .map(|rate| Quota::per_second(rate).allow_burst(rate.saturating_mul(BURST)))
        };
        Limits {
            per_key: quota(settings.requests_per_second_per_key).map(RateLimiter::keyed),
            per_address: quota(settings.requests_per_second_per_address).map(RateLimiter::keyed),
            sign_ins: SignInThrottle::new(
                settings.sign_in_failures_per_account,
                settings.sign_in_failures_per_address,
            ),
            client_ip_header: settings.client_ip_header.clone(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when the key (hashed by its public prefix and secret alike: the whole
    /// presented string) or, for requests without a key, the address is over its rate.
    fn check(&self, key: Option<&str>, address: Option<IpAddr>) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(limiter) = &self.per_key {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
            if let Some(limiter) = &self.per_address {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        let refused = match (key, address) {
            (Some(key), _) => self
                .per_key
                .as_ref()
                .and_then(|l| wait(l, &key.to_string())),
            (None, Some(address)) => self.per_address.as_ref().and_then(|l| wait(l, &address)),
            (None, None) => None,
        };
        refused.map_or(Ok(()), Err)
    }

    /// The sign-in throttle.
    pub fn sign_ins(&self) -> &SignInThrottle {
        &self.sign_ins
    }

    /// The client's address: the last entry of the configured proxy header when there is
    /// one (the address our own proxy saw), else the connection's peer.
    pub fn client_address(&self, parts: &Parts) -> Option<IpAddr> {
        if let Some(name) = &self.client_ip_header {
            return forwarded_address(&parts.headers, name);
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    }
}

/// How long `key` must wait when `limiter` refuses it now. Timed by the limiter's own
/// clock: a new `DefaultClock` calibrates itself (CPUID) each time it is made.
fn wait<K: Clone + Eq + std::hash::Hash>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Option<Duration> {
    let refused = limiter.check_key(key).err()?;
    Some(refused.wait_time_from(limiter.clock().now()))
}

fn forwarded_address(headers: &HeaderMap, name: &str) -> Option<IpAddr> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
}

/// The client's address, as [`Limits::client_address`] finds it.
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(state.limits.client_address(parts)))
    }
}

/// Files that are the same for everyone, and the load balancer's health check: never limited.
pub fn is_exempt(path: &str) -> bool {
    path == "/healthz"
        || path == "/favicon.svg"
        || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

/// 429 with `Retry-After` (whole seconds, at least 1) for a request over its rate: per API
/// key when one is presented, else per client address. The body takes the shape of the
/// endpoint asked for.
pub async fn limit_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if is_exempt(path) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let key = super::auth::presented_key(&parts);
    let address = state.limits.client_address(&parts);
    if let Err(wait) = state.limits.check(key, address) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(
            path = parts.uri.path(),
            by_key = key.is_some(),
            "rate limit reached"
        );
        return shape::for_path(parts.uri.path(), AppError::TooManyRequests(seconds.max(1)));
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The largest request body any endpoint reads (events have their own, smaller limit).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// 413 before reading a body whose declared length is over [`MAX_BODY_BYTES`]; a body
/// sent without a length is cut off there, and the endpoint reading it answers 413.
pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return shape::for_path(
            request.uri().path(),
            AppError::PayloadTooLarge(format!(
                "The request body is larger than {MAX_BODY_BYTES} bytes"
            )),
        );
    }
    let (parts, body) = request.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, body)).await
}

/// 503 for a request not answered within `request-timeout-seconds` (its work is dropped,
/// so a transaction under way rolls back); the live usage stream is meant to stay open.
pub async fn time_out(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/api/v1/usage/stream" {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, "request timed out");
            shape::for_path(&path, AppError::Unavailable)
        }
    }
}

/// Failed sign-ins within [`SIGN_IN_WINDOW`], per account and per address: past either
/// limit, sign-in is refused (even with the right password) until the oldest failure ages
/// out. Only failures count, so people who sign in often are never slowed down.
pub struct SignInThrottle {
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SignInThrottle {
    fn new(per_account: u32, per_address: u32) -> SignInThrottle {
        SignInThrottle {
            per_account: per_account as usize,
            per_address: per_address as usize,
            failures: Mutex::default(),
        }
    }

    fn keys(account: &str, address: Option<IpAddr>) -> [Option<String>; 2] {
        [
            Some(format!("account:{}", account.trim().to_lowercase())),
            address.map(|address| format!("address:{address}")),
        ]
    }

    /// `Err(wait)` when this account or address has failed too often: how long until it
    /// may try again.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = None;
        for (key, limit) in Self::keys(account, address)
            .into_iter()
            .zip([self.per_account, self.per_address])
        {
            let Some(times) = key.and_then(|key| failures.get_mut(&key)) else {
                continue;
            };
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= SIGN_IN_WINDOW)
            {
                times.pop_front();
            }
            if limit > 0 && times.len() >= limit {
                if let Some(oldest) = times.front() {
                    let until = SIGN_IN_WINDOW.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(until, |w: Duration| w.max(until)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Notes a failed sign-in for the account and the address.
    pub fn failed(&self, account: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < SIGN_IN_WINDOW)
            });
        }
        for (key, limit) in Self::keys(account, address)
            .into_iter()
            .zip([self.per_account, self.per_address])
        {
            if let Some(key) = key {
                let times = failures.entry(key).or_default();
                times.push_back(now);
                // Only the newest `limit` failures decide anything.
                while times.len() > limit.max(1) {
                    times.pop_front();
                }
            }
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            if let [Some(key), _] = Self::keys(account, None) {
                failures.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    #[test]
    fn an_account_is_refused_after_its_failures_and_cleared_by_success() {
        let throttle = SignInThrottle::new(3, 100);
        for _ in 0..3 {
            assert!(throttle.check("Ann@x.test", address("10.0.0.1")).is_ok());
            throttle.failed("ann@x.test", address("10.0.0.1"));
        }
        let wait = throttle
            .check("ann@x.test", address("10.0.0.2"))
            .expect_err("refused from any address");
        assert!(wait > SIGN_IN_WINDOW - Duration::from_secs(5), "{wait:?}");
        assert!(throttle.check("bob@x.test", address("10.0.0.1")).is_ok());

        throttle.succeeded("ANN@x.test");
        assert!(throttle.check("ann@x.test", address("10.0.0.1")).is_ok());
    }

    #[test]
    fn an_address_is_refused_after_failures_across_accounts() {
        let throttle = SignInThrottle::new(100, 4);
        for n in 0..4 {
            throttle.failed(&format!("user{n}@x.test"), address("10.0.0.9"));
        }
        assert!(throttle.check("new@x.test", address("10.0.0.9")).is_err());
        assert!(throttle.check("new@x.test", address("10.0.0.8")).is_ok());
    }

    #[test]
    fn requests_over_the_rate_wait_and_others_are_not_affected() {
        let limits = Limits::new(&LimitSettings {
            requests_per_second_per_key: 2,
            requests_per_second_per_address: 0,
            sign_in_failures_per_account: 10,
            sign_in_failures_per_address: 50,
            client_ip_header: None,
        });
        // A burst of twice the rate, then refusals with a wait under a second.
        for _ in 0..4 {
            assert!(limits.check(Some("qb_a"), None).is_ok());
        }
        let wait = limits.check(Some("qb_a"), None).expect_err("over the rate");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limits.check(Some("qb_b"), None).is_ok());
        // Per-address limits are off (0).
        for _ in 0..100 {
            assert!(limits.check(None, address("10.0.0.1")).is_ok());
        }
    }

    #[test]
    fn the_proxy_header_names_the_client_by_its_last_entry() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7".parse().expect("header"),
        );
        assert_eq!(
            forwarded_address(&headers, "x-forwarded-for"),
            address("203.0.113.7")
        );
        assert_eq!(forwarded_address(&headers, "x-real-ip"), None);
    }
}
