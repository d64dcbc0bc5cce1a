//! `GET /api/v1/usage/stream`: server-sent events telling an open dashboard that its
//! organization's usage changed, so it refetches within a second of an ingest.

use std::convert::Infallible;

use axum::{
    extract::State,
    http::HeaderMap,
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
    Router,
};
use futures::{stream, Stream, StreamExt};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::server::{access::auth, access::auth::Reader, state::AppState};

/// How long a change waits for others to join it before the page is told.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(200);

/// The stream route.
pub fn router() -> Router<AppState> {
    Router::new().route(auth::STREAM_PATH, get(usage_stream))
}

/// One server-sent event of the stream, as a client's parser reads it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StreamEvent {
    /// `ready` once, first; then `usage` on every change.
    #[schema(pattern = "^(ready|usage)$")]
    event: String,
    /// JSON: `{}` for `ready`, `{"organizationId": "…"}` for `usage`.
    data: String,
}

/// 200 `text/event-stream`: first `event: ready`, then `event: usage` with
/// `{"organizationId": "…"}` within 200 ms of events of the caller's organization being
/// stored (one for a burst), with a keep-alive comment every 15 s. Takes a key, a session,
/// or a portal session's token (also as `?access=`, since `EventSource` sends no headers).
/// The stream ends when the key is revoked, the session signs out, expires or its user is
/// disabled, or the portal session expires or is revoked. 401 without any of them.
#[utoipa::path(
    get, path = "/api/v1/usage/stream", tag = "usage",
    responses(
        (status = 200, description = "Server-sent events: ready, then usage on every change", body = StreamEvent, content_type = "text/event-stream"),
    ),
    params(("access" = Option<String>, Query, description = "A portal session's token, for clients that cannot send headers")),
    security(("api_key" = []), ("bearer" = []), ("session" = []), ("portal" = []))
)]
pub(crate) async fn usage_stream(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let organization_id = reader.organization_id();
    let closed = state.live.closed();
    let ended = auth::credential_ended(state.platform.clone(), headers, reader);
    let stop = async move {
        tokio::select! {
            () = closed => {}
            () = ended => tracing::info!(organization_id, "usage stream closed: its credential ended"),
        }
    };
    let changed = move || {
        Ok(Event::default()
            .event("usage")
            .data(format!("{{\"organizationId\":\"{organization_id}\"}}")))
    };
    let ready = stream::once(async { Ok(Event::default().event("ready").data("{}")) });
    let updates = stream::unfold(state.live.subscribe(), move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) if change.concerns(organization_id) => break,
                Ok(_) => continue,
                // Missed announcements: one refetch covers them all.
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return None,
            }
        }
        // A burst of batches becomes one refetch per page, at most every COALESCE.
        tokio::time::sleep(COALESCE).await;
        while !matches!(
            receiver.try_recv(),
            Err(TryRecvError::Empty | TryRecvError::Closed)
        ) {}
        Some((changed(), receiver))
    });
    let events = ready.chain(updates).take_until(stop);
    Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
}
