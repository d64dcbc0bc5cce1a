//! Abuse limits: requests per API key, per organization and per client address; sign-in
//! attempts per account and address; and how many password checks run at once. Counted in
//! this process: with several servers, each allows its share.
//!
//! A request is counted against what it proves: a valid key against the key and its
//! organization (more keys are not more capacity), anything else (no key, or a key that does
//! not validate, which is refused with 401 before any work) against the client's address.
//! IPv6 addresses are counted by their /64, the block one subscriber is handed. The
//! middleware that applies them is `http::middleware`.

use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::{
    extract::ConnectInfo,
    http::{request::Parts, HeaderMap},
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::error::AppError;

use crate::server::platform::config::{LimitSettings, SignInLimits};

/// Files that are the same for everyone, and the load balancer's health check: never limited.
pub fn is_exempt(path: &str) -> bool {
    path == "/healthz"
        || path == "/favicon.svg"
        || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

/// The largest request body any endpoint reads (events have their own, smaller limit).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long sign-in attempts are remembered.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A burst of twice the rate lets a client catch up after a pause.
const BURST: NonZeroU32 = NonZeroU32::MIN.saturating_add(1);

/// Forget idle keys every this many checks, so a flood of addresses does not keep memory.
const SWEEP_EVERY: u64 = 4_096;

/// The limiters one server shares between its requests.
pub struct Limits {
    per_key: Option<DefaultKeyedRateLimiter<i64>>,
    per_portal_session: Option<DefaultKeyedRateLimiter<i64>>,
    per_organization: Option<DefaultKeyedRateLimiter<i64>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    sign_ins: SignInThrottle,
    password_checks: PasswordChecks,
    client_ip_header: Option<String>,
    checks: AtomicU64,
}

/// Who a request is counted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// A valid API key, and the organization it belongs to.
    Key { key: i64, organization: i64 },
    /// A live portal session (its token or its page's credential), and its organization:
    /// limited as a key is.
    Portal { session: i64, organization: i64 },
    /// The client's address (its /64 for IPv6).
    Address(IpAddr),
    /// Neither is known: not counted.
    Nobody,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        let quota = |per_second: u32| {
            NonZeroU32::new(per_second)
                .map(|rate| Quota::per_second(rate).allow_burst(rate.saturating_mul(BURST)))
        };
        Limits {
            per_key: quota(settings.requests_per_second_per_key).map(RateLimiter::keyed),
            per_portal_session: quota(settings.requests_per_second_per_key).map(RateLimiter::keyed),
            per_organization: quota(settings.requests_per_second_per_organization)
                .map(RateLimiter::keyed),
            per_address: quota(settings.requests_per_second_per_address).map(RateLimiter::keyed),
            sign_ins: SignInThrottle::new(settings.sign_ins),
            password_checks: PasswordChecks::new(
                settings.password_checks_at_once,
                settings.password_checks_waiting,
            ),
            client_ip_header: settings.client_ip_header.clone(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when what the request is counted as is over its rate.
    pub fn check(&self, counted: Counted) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let refused = match counted {
            Counted::Key { key, organization } => {
                let by_key = self.per_key.as_ref().and_then(|l| wait(l, &key));
                by_key.or_else(|| self.organization_wait(organization))
            }
            Counted::Portal {
                session,
                organization,
            } => {
                let by_session = self
                    .per_portal_session
                    .as_ref()
                    .and_then(|l| wait(l, &session));
                by_session.or_else(|| self.organization_wait(organization))
            }
            Counted::Address(address) => self.per_address.as_ref().and_then(|l| wait(l, &address)),
            Counted::Nobody => None,
        };
        refused.map_or(Ok(()), Err)
    }

    fn organization_wait(&self, organization: i64) -> Option<Duration> {
        self.per_organization
            .as_ref()
            .and_then(|l| wait(l, &organization))
    }

    fn sweep(&self) {
        for limiter in [
            &self.per_key,
            &self.per_portal_session,
            &self.per_organization,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// The sign-in throttle.
    pub fn sign_ins(&self) -> &SignInThrottle {
        &self.sign_ins
    }

    /// The gate password checks pass through.
    pub fn password_checks(&self) -> &PasswordChecks {
        &self.password_checks
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

/// The address limits count `address` as: an IPv4 address as itself (also when written as
/// IPv6, `::ffff:a.b.c.d`), an IPv6 address by its /64.
pub fn counted_address(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
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

/// Sign-in attempts within [`SIGN_IN_WINDOW`]. An attempt is counted when it starts, before
/// the password is checked (so parallel guesses cannot all get through while the first are
/// checked), and taken back when the password was right.
///
/// An attempt is refused, even with the right password, while:
/// - the account has failed [`SignInLimits::per_account_and_address`] times from this
///   address; or
/// - this address has failed [`SignInLimits::per_address`] times over all accounts; or
/// - the account has failed [`SignInLimits::per_account`] times from anywhere *and* this
///   address is among those that failed for it.
///
/// So a stranger's wrong passwords never stop the owner signing in from an address that
/// has not failed; they only stop the stranger.
pub struct SignInThrottle {
    limits: SignInLimits,
    attempts: Mutex<HashMap<AttemptKey, VecDeque<Instant>>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum AttemptKey {
    Pair(String, Option<IpAddr>),
    Address(IpAddr),
    Account(String),
}

/// A sign-in attempt counted by [`SignInThrottle::reserve`], to settle once the password is
/// checked.
#[derive(Debug)]
#[must_use = "an attempt is settled with `succeeded`, else it counts as a failure"]
pub struct Attempt {
    keys: Vec<AttemptKey>,
    at: Instant,
}

impl SignInThrottle {
    pub fn new(limits: SignInLimits) -> SignInThrottle {
        SignInThrottle {
            limits,
            attempts: Mutex::default(),
        }
    }

    fn keys(account: &str, address: Option<IpAddr>) -> Vec<AttemptKey> {
        let account = account.trim().to_lowercase();
        let address = address.map(counted_address);
        let mut keys = vec![AttemptKey::Pair(account.clone(), address)];
        keys.extend(address.map(AttemptKey::Address));
        keys.push(AttemptKey::Account(account));
        keys
    }

    fn limit(&self, key: &AttemptKey) -> usize {
        let limit = match key {
            AttemptKey::Pair(..) => self.limits.per_account_and_address,
            AttemptKey::Address(_) => self.limits.per_address,
            AttemptKey::Account(_) => self.limits.per_account,
        };
        usize::try_from(limit).unwrap_or(usize::MAX)
    }

    /// Counts an attempt for `account` from `address` before its password is checked;
    /// `Err(wait)` when it is refused: how long until it may try again.
    pub fn reserve(&self, account: &str, address: Option<IpAddr>) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let keys = Self::keys(account, address);
        let Ok(mut attempts) = self.attempts.lock() else {
            return Err(SIGN_IN_WINDOW);
        };
        if attempts.len() > 100_000 {
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < SIGN_IN_WINDOW)
            });
        }
        let mut counts = Vec::with_capacity(keys.len());
        let mut wait: Option<Duration> = None;
        let mut refuse = |times: &VecDeque<Instant>| {
            if let Some(oldest) = times.front() {
                let until = SIGN_IN_WINDOW.saturating_sub(now.duration_since(*oldest));
                wait = Some(wait.map_or(until, |w| w.max(until)));
            }
        };
        for key in &keys {
            let limit = self.limit(key);
            let count = match attempts.get_mut(key) {
                Some(times) => {
                    while times
                        .front()
                        .is_some_and(|t| now.duration_since(*t) >= SIGN_IN_WINDOW)
                    {
                        times.pop_front();
                    }
                    times.len()
                }
                None => 0,
            };
            counts.push((key, count, limit));
        }
        let pair_failed = counts.first().is_some_and(|(_, count, _)| *count > 0);
        for (key, count, limit) in &counts {
            let over = *limit > 0 && count >= limit;
            let applies = match key {
                AttemptKey::Account(_) => pair_failed,
                _ => true,
            };
            if over && applies {
                if let Some(times) = attempts.get(*key) {
                    refuse(times);
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for key in &keys {
            let limit = self.limit(key).max(1);
            let times = attempts.entry(key.clone()).or_default();
            times.push_back(now);
            // Only the newest `limit` attempts decide anything.
            while times.len() > limit {
                times.pop_front();
            }
        }
        Ok(Attempt { keys, at: now })
    }

    /// The password was right: the attempt is taken back, and the account's failures from
    /// this address are forgotten (not those from elsewhere, nor the address's for other
    /// accounts).
    pub fn succeeded(&self, attempt: Attempt) {
        self.settle(attempt, true);
    }

    /// The password was never checked (the server could not): the attempt is taken back.
    pub fn withdraw(&self, attempt: Attempt) {
        self.settle(attempt, false);
    }

    fn settle(&self, attempt: Attempt, forget_pair: bool) {
        let Ok(mut attempts) = self.attempts.lock() else {
            return;
        };
        for key in attempt.keys {
            if forget_pair && matches!(key, AttemptKey::Pair(..)) {
                attempts.remove(&key);
                continue;
            }
            if let Some(times) = attempts.get_mut(&key) {
                if let Some(at) = times.iter().rposition(|t| *t == attempt.at) {
                    times.remove(at);
                }
            }
        }
    }
}

/// Password checks (argon2: tens of milliseconds of CPU and about 19 MiB each) run a few at
/// a time on blocking threads; a bounded number wait their turn and the rest are refused
/// with 429 at once. A check runs to its end once started even if its request is gone, but
/// holds its place while it does, so a flood cannot pile up checks in memory.
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    started: AtomicU64,
}

/// Counts a waiting check until it is dropped (run or abandoned).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordChecks {
    pub fn new(at_once: u32, max_waiting: u32) -> PasswordChecks {
        PasswordChecks {
            permits: Arc::new(Semaphore::new(usize::try_from(at_once.max(1)).unwrap_or(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: usize::try_from(max_waiting).unwrap_or(usize::MAX),
            started: AtomicU64::new(0),
        }
    }

    /// Runs `check` on a blocking thread when its turn comes. `TooManyRequests(1)` when as
    /// many checks already wait as allowed.
    pub async fn run<T, F>(&self, check: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    tracing::warn!("password check refused: too many waiting");
                    return Err(AppError::TooManyRequests(1));
                }
                let _waiting = Waiting(&self.waiting);
                Arc::clone(&self.permits)
                    .acquire_owned()
                    .await
                    .map_err(|_| AppError::Internal)?
            }
        };
        self.started.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            check()
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "password check did not finish");
            AppError::Internal
        })
    }

    /// How many checks have started since the server started.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    fn limits(pair: u32, address: u32, account: u32) -> SignInLimits {
        SignInLimits {
            per_account_and_address: pair,
            per_address: address,
            per_account: account,
        }
    }

    #[test]
    fn an_account_is_refused_from_the_address_that_failed_and_cleared_there_by_success() {
        let throttle = SignInThrottle::new(limits(3, 100, 1000));
        for _ in 0..3 {
            let _failed = throttle
                .reserve("Ann@x.test", address("10.0.0.1"))
                .expect("not refused yet");
        }
        let wait = throttle
            .reserve("ann@x.test", address("10.0.0.1"))
            .expect_err("refused from this address");
        assert!(wait > SIGN_IN_WINDOW - Duration::from_secs(5), "{wait:?}");
        // Not from another address, nor for another account.
        let elsewhere = throttle
            .reserve("ann@x.test", address("10.0.0.2"))
            .expect("another address");
        throttle.succeeded(elsewhere);
        let _bob = throttle
            .reserve("bob@x.test", address("10.0.0.1"))
            .expect("another account");
    }

    #[test]
    fn an_attempt_is_counted_before_its_password_is_checked() {
        let throttle = SignInThrottle::new(limits(2, 100, 1000));
        // Two attempts under way, not yet settled: the third is refused.
        let first = throttle.reserve("ann@x.test", address("10.0.0.1"));
        let second = throttle.reserve("ann@x.test", address("10.0.0.1"));
        assert!(first.is_ok() && second.is_ok());
        assert!(throttle.reserve("ann@x.test", address("10.0.0.1")).is_err());
        // The right password takes the pair's count back.
        throttle.succeeded(first.expect("first"));
        assert!(throttle.reserve("ann@x.test", address("10.0.0.1")).is_ok());
    }

    #[test]
    fn past_the_accounts_ceiling_only_addresses_that_failed_for_it_are_refused() {
        let throttle = SignInThrottle::new(limits(10, 100, 5));
        for n in 0..5 {
            let _failed = throttle
                .reserve("ann@x.test", address(&format!("10.0.1.{n}")))
                .expect("under the ceiling");
        }
        assert!(throttle.reserve("ann@x.test", address("10.0.1.0")).is_err());
        let owner = throttle
            .reserve("ann@x.test", address("192.0.2.1"))
            .expect("a clean address may try");
        throttle.succeeded(owner);
    }

    #[test]
    fn an_address_is_refused_after_failures_across_accounts() {
        let throttle = SignInThrottle::new(limits(100, 4, 1000));
        for n in 0..4 {
            let _failed = throttle
                .reserve(&format!("user{n}@x.test"), address("10.0.0.9"))
                .expect("under the limit");
        }
        assert!(throttle.reserve("new@x.test", address("10.0.0.9")).is_err());
        assert!(throttle.reserve("new@x.test", address("10.0.0.8")).is_ok());
    }

    #[test]
    fn ipv6_addresses_are_counted_by_their_64() {
        assert_eq!(
            counted_address("2001:db8:1:2:aaaa::1".parse().expect("v6")),
            "2001:db8:1:2::".parse::<IpAddr>().expect("v6")
        );
        assert_eq!(
            counted_address("::ffff:192.0.2.7".parse().expect("mapped")),
            "192.0.2.7".parse::<IpAddr>().expect("v4")
        );
        let throttle = SignInThrottle::new(limits(100, 2, 1000));
        for host in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"] {
            let _failed = throttle
                .reserve("a@x.test", address(host))
                .expect("first two");
        }
        assert!(throttle
            .reserve("b@x.test", address("2001:db8:1:2:ffff::9"))
            .is_err());
        assert!(throttle
            .reserve("b@x.test", address("2001:db8:1:3::1"))
            .is_ok());
    }

    /// 2 requests a second per key (or portal session), 3 per organization, none per address.
    fn two_per_key_three_per_organization() -> Limits {
        Limits::new(&LimitSettings {
            requests_per_second_per_key: 2,
            requests_per_second_per_organization: 3,
            requests_per_second_per_address: 0,
            sign_ins: limits(10, 50, 1000),
            password_checks_at_once: 1,
            password_checks_waiting: 1,
            client_ip_header: None,
        })
    }

    #[test]
    fn requests_are_counted_by_key_and_organization_or_by_address() {
        let limits = two_per_key_three_per_organization();
        // A burst of twice the rate, then refusals with a wait under a second.
        let key = |key| Counted::Key {
            key,
            organization: 1,
        };
        for _ in 0..4 {
            assert!(limits.check(key(1)).is_ok());
        }
        let wait = limits.check(key(1)).expect_err("over the key's rate");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        // A second key of the same organization shares its budget (six a burst).
        assert!(limits.check(key(2)).is_ok());
        assert!(limits.check(key(2)).is_ok());
        assert!(
            limits.check(key(2)).is_err(),
            "over the organization's rate"
        );
        // Another organization is not affected.
        assert!(limits
            .check(Counted::Key {
                key: 3,
                organization: 2
            })
            .is_ok());
        // Per-address limits are off (0).
        for _ in 0..100 {
            assert!(limits.check(Counted::Address([10, 0, 0, 1].into())).is_ok());
        }
    }

    #[test]
    fn a_portal_session_is_limited_as_a_key_and_shares_its_organizations_budget() {
        let limits = two_per_key_three_per_organization();
        let portal = |session| Counted::Portal {
            session,
            organization: 1,
        };
        for _ in 0..4 {
            assert!(limits.check(portal(1)).is_ok());
        }
        assert!(limits.check(portal(1)).is_err(), "over the session's rate");
        // A key with the same id is another budget; the organization's is shared.
        assert!(limits
            .check(Counted::Key {
                key: 1,
                organization: 1
            })
            .is_ok());
        assert!(limits.check(portal(2)).is_ok());
        assert!(
            limits.check(portal(2)).is_err(),
            "over the organization's rate"
        );
    }

    #[tokio::test]
    async fn password_checks_run_a_few_at_a_time_and_refuse_past_the_queue() {
        let checks = Arc::new(PasswordChecks::new(1, 1));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let hold = {
            let released = Arc::clone(&released);
            move || {
                let _ = released.lock().map(|r| r.recv());
            }
        };
        let running = tokio::spawn({
            let checks = Arc::clone(&checks);
            let hold = hold.clone();
            async move { checks.run(hold).await }
        });
        while checks.started() < 1 {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn({
            let checks = Arc::clone(&checks);
            async move { checks.run(hold).await }
        });
        while checks.waiting.load(Ordering::Acquire) < 1 {
            tokio::task::yield_now().await;
        }
        let refused = checks.run(|| ()).await;
        assert!(
            matches!(refused, Err(AppError::TooManyRequests(1))),
            "{refused:?}"
        );
        release.send(()).expect("release");
        release.send(()).expect("release");
        assert!(running.await.expect("join").is_ok());
        assert!(queued.await.expect("join").is_ok());
        assert_eq!(checks.started(), 2);
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
