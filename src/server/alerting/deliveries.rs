//! Delivers queued threshold alerts: a background task posts each due delivery to its
//! webhook, signed, and retries failures with exponential backoff. The queue lives in the
//! database, so a restart, or another server, carries on where this one stopped.

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::{
    sync::watch,
    task::{self, JoinHandle, JoinSet},
};
use tracing::Instrument;

use crate::error::AppError;

use crate::server::{
    alerting::destinations,
    db::deliveries::{self, AttemptResult, DueDelivery},
    metering::alerts,
    platform::Platform,
};

/// The header carrying a delivery's signature.
pub const SIGNATURE_HEADER: &str = "x-quotaboard-signature";
/// The longest wait between two looks at the queue (for other servers' deliveries).
const IDLE_POLL: Duration = Duration::from_secs(5);
/// The longest wait between two tries of one delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The most of a receiver's error answer kept in the log.
const MAX_ERROR_CHARS: usize = 300;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the webhook's secret>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The wait after the `attempts`-th failed try: `initial` doubled per earlier failure, at
/// most an hour.
pub fn backoff(initial: Duration, attempts: u32) -> Duration {
    let factor = 2_u32.saturating_pow(attempts.saturating_sub(1));
    initial.saturating_mul(factor).min(MAX_BACKOFF)
}

/// The running delivery task.
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl DeliveryWorker {
    /// Starts delivering the queue of `state`'s database.
    pub fn spawn(state: Platform) -> DeliveryWorker {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(
            run(state, stopped).instrument(tracing::info_span!("background", task = "deliveries")),
        );
        DeliveryWorker { stop, task }
    }

    /// Lets the batch of attempts under way finish, then stops. What is still queued stays
    /// queued.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "delivery task failed");
        }
    }

    /// Stops at once, as a crash would: an attempt under way is retried after its timeout.
    pub fn abort(self) {
        self.task.abort();
    }
}

async fn run(state: Platform, mut stopped: watch::Receiver<bool>) {
    let settings = state.settings.webhooks;
    let builder = reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        // Never through a proxy from the environment: it would resolve receivers' names
        // itself, past the public-address check.
        .no_proxy()
        .user_agent(concat!("quotaboard/", env!("CARGO_PKG_VERSION")));
    let builder = if settings.allow_private_addresses {
        builder
    } else {
        builder.dns_resolver(destinations::resolver())
    };
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook client; alerts stay queued");
            return;
        }
    };
    let mut sending = Sending::default();
    let mut sweep = true;
    loop {
        if sweep {
            match alerts::sweep(&state).await {
                Ok(0) => {}
                Ok(checked) => tracing::warn!(
                    checked,
                    "usage changes left unchecked by a batch were checked"
                ),
                Err(error) => tracing::error!(%error, "unchecked usage changes not swept"),
            }
        }
        let wait = match start_due(&state, &client, &mut sending).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::error!(%error, "webhook deliveries not read");
                IDLE_POLL
            }
        };
        // Wakes when a try ends (a place is free), alerts are queued, the next is due, or
        // the task is told to stop.
        // Unchecked changes are looked for when woken for anything but a place.
        sweep = true;
        let stop = tokio::select! {
            true = sending.one_done() => {
                sweep = false;
                false
            }
            () = state.deliveries.notified() => false,
            () = tokio::time::sleep(wait) => false,
            _ = stopped.wait_for(|stop| *stop) => true,
        };
        if stop {
            // The tries under way finish; what is still queued stays queued.
            while sending.one_done().await {}
            return;
        }
    }
}

/// The tries under way, and how many of each organization's.
#[derive(Default)]
struct Sending {
    tries: JoinSet<()>,
    organization_of: HashMap<task::Id, i64>,
    per_organization: HashMap<i64, u32>,
}

impl Sending {
    fn start(&mut self, organization: i64, attempt: impl Future<Output = ()> + Send + 'static) {
        let id = self.tries.spawn(attempt).id();
        self.organization_of.insert(id, organization);
        *self.per_organization.entry(organization).or_default() += 1;
    }

    fn under_way(&self, organization: i64) -> u32 {
        self.per_organization
            .get(&organization)
            .copied()
            .unwrap_or(0)
    }

    /// Waits for the next try to end and frees its place; false when none is under way.
    async fn one_done(&mut self) -> bool {
        let id = match self.tries.join_next_with_id().await {
            None => return false,
            Some(Ok((id, ()))) => id,
            Some(Err(error)) => {
                // A try that panicked: its lease runs out and another try takes it over.
                tracing::error!(%error, "a delivery try failed");
                error.id()
            }
        };
        if let Some(organization) = self.organization_of.remove(&id) {
            if let Some(count) = self.per_organization.get_mut(&organization) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.per_organization.remove(&organization);
                }
            }
        }
        true
    }
}

/// Starts a try of each due delivery there is room for: at most `concurrency` under way,
/// and at most `concurrency-per-organization` of one organization's, taken in turns (see
/// [`deliveries::due`]). Returns how long to wait before the next is due.
async fn start_due(
    state: &Platform,
    client: &reqwest::Client,
    sending: &mut Sending,
) -> Result<Duration, AppError> {
    let pool = state.db.pool();
    let settings = state.settings.webhooks;
    let max_attempts = i64::from(settings.max_attempts);
    // A try holds its delivery this long; past it another try may start.
    let lease = settings.timeout + Duration::from_secs(5);
    let now_ms = Utc::now().timestamp_millis();
    let abandoned = deliveries::give_up_exhausted(pool, now_ms, max_attempts).await?;
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "deliveries whose last try was cut short marked failed"
        );
    }
    let free = usize::try_from(settings.concurrency)
        .unwrap_or(usize::MAX)
        .saturating_sub(sending.tries.len());
    if free > 0 {
        let share = settings.concurrency_per_organization;
        // Room for the busy organizations' turns too, which are passed over below.
        let busy = sending.per_organization.len() * share as usize;
        let limit = i64::try_from(free + busy).unwrap_or(i64::MAX);
        let due = deliveries::due(pool, now_ms, i64::from(share), limit).await?;
        let lease_until = now_ms.saturating_add(millis(lease));
        let mut started = 0;
        for delivery in due {
            if started == free {
                break;
            }
            if sending.under_way(delivery.organization_id) >= share {
                continue;
            }
            let times = (now_ms, lease_until);
            let claimed = deliveries::claim(
                pool,
                (delivery.organization_id, delivery.id),
                delivery.next_attempt_ms,
                times,
                max_attempts,
            )
            .await?;
            if !claimed {
                continue;
            }
            started += 1;
            let (state, client) = (state.clone(), client.clone());
            sending.start(delivery.organization_id, async move {
                if let Err(error) = attempt(&state, &client, &delivery, lease_until).await {
                    tracing::error!(delivery = delivery.id, %error, "delivery try not recorded");
                }
            });
        }
    }
    let now_ms = Utc::now().timestamp_millis();
    Ok(match deliveries::next_due(pool).await? {
        Some(next) => {
            Duration::from_millis(u64::try_from(next - now_ms).unwrap_or(0)).min(IDLE_POLL)
        }
        None => IDLE_POLL,
    })
}

/// One try of one delivery, recorded.
async fn attempt(
    state: &Platform,
    client: &reqwest::Client,
    delivery: &DueDelivery,
    lease_until_ms: i64,
) -> Result<(), AppError> {
    let settings = state.settings.webhooks;
    let now = Utc::now();
    let refused = (!settings.allow_private_addresses)
        .then(|| url::Url::parse(&delivery.url).ok())
        .flatten()
        .and_then(|url| destinations::refused_literal(&url));
    let opened = state
        .sealing
        .open(delivery.organization_id, &delivery.secret);
    let secret = match (refused, opened) {
        (None, Ok(secret)) => secret,
        (Some(reason), _) => return give_up(state, delivery, lease_until_ms, &reason).await,
        (None, Err(error)) => {
            tracing::error!(
                delivery = delivery.id,
                webhook = delivery.webhook_id,
                %error,
                "cannot sign an alert"
            );
            let reason = format!("cannot sign: {error}");
            return give_up(state, delivery, lease_until_ms, &reason).await;
        }
    };
    let sent = client
        .post(&delivery.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            SIGNATURE_HEADER,
            signature(&secret, now.timestamp(), &delivery.payload),
        )
        .body(delivery.payload.clone())
        .send()
        .await;
    let (status_code, error) = match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => {
            let status = response.status();
            let text = answer_start(response).await;
            (
                Some(status.as_u16()),
                Some(format!("HTTP {status}: {text}").trim().to_string()),
            )
        }
        Err(error) => (None, Some(describe(&error))),
    };
    // The try was counted when the delivery was claimed.
    let attempts = u32::try_from(delivery.attempts.saturating_add(1)).unwrap_or(u32::MAX);
    let retry_at_ms = (error.is_some() && attempts < settings.max_attempts).then(|| {
        Utc::now()
            .timestamp_millis()
            .saturating_add(millis(backoff(settings.retry_initial, attempts)))
    });
    match &error {
        None => tracing::info!(
            delivery = delivery.id,
            webhook = delivery.webhook_id,
            attempts,
            "alert delivered"
        ),
        Some(error) => tracing::warn!(
            delivery = delivery.id,
            webhook = delivery.webhook_id,
            attempts,
            error,
            retry = retry_at_ms.is_some(),
            "alert not delivered"
        ),
    }
    let result = AttemptResult {
        lease_until_ms,
        attempted_at: now.timestamp(),
        status_code: status_code.map(i64::from),
        error: error.as_deref(),
        retry_at_ms,
    };
    if !deliveries::record(
        state.db.pool(),
        (delivery.organization_id, delivery.id),
        &result,
    )
    .await?
    {
        tracing::warn!(
            delivery = delivery.id,
            "attempt outlived its claim; another try took the delivery over"
        );
    }
    Ok(())
}

/// Records a delivery that is not tried, and will not be, for `reason`.
async fn give_up(
    state: &Platform,
    delivery: &DueDelivery,
    lease_until_ms: i64,
    reason: &str,
) -> Result<(), AppError> {
    let result = AttemptResult {
        lease_until_ms,
        attempted_at: Utc::now().timestamp(),
        status_code: None,
        error: Some(reason),
        retry_at_ms: None,
    };
    deliveries::record(
        state.db.pool(),
        (delivery.organization_id, delivery.id),
        &result,
    )
    .await?;
    Ok(())
}

/// The first [`MAX_ERROR_CHARS`] characters of a receiver's answer, read no further, as
/// printable text (the log shows it; Postgres stores no NUL).
async fn answer_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ERROR_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_CHARS)
        .collect()
}

/// Why a receiver could not be reached, without the URL (it may hold a token).
fn describe(error: &reqwest::Error) -> String {
    // A refusal by our resolver is the one cause worth naming.
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.starts_with("refused: ") {
            return text;
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "request failed".into()
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hex_hmac_sha256_of_timestamp_dot_body() {
        // Reference value from Python: hmac.new(b"whsec_test", b"1700000000.{}", sha256).hexdigest()
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }

    #[test]
    fn each_retry_waits_twice_as_long_up_to_an_hour() {
        let initial = Duration::from_secs(30);
        assert_eq!(backoff(initial, 1), Duration::from_secs(30));
        assert_eq!(backoff(initial, 2), Duration::from_secs(60));
        assert_eq!(backoff(initial, 4), Duration::from_secs(240));
        assert_eq!(backoff(initial, 12), Duration::from_secs(3600));
        assert_eq!(backoff(initial, 40), Duration::from_secs(3600));
    }
}
