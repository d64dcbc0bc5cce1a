//! `<LiveStatus/>`: keeps a page current. An island: listens to the server's usage stream
//! and, each time the organization's usage changes, sends the page a [`REFRESH_EVENT`] (the
//! page's script renders its `data-live` parts again, the history chart reloads its
//! months); reconnects with backoff, and refreshes every few seconds while the stream is
//! down. Stops when the page goes away ([`LEAVE_EVENT`]).

use leptos::prelude::*;

use crate::i18n::{fill, use_strings};

/// Where the server announces usage changes (server-sent events).
pub const STREAM_PATH: &str = "/api/v1/usage/stream";

/// Seconds between refreshes while the stream is down.
pub const POLL_SECONDS: u32 = 10;

/// The window event that asks the page's live parts to refresh (`src/app/page.js`).
pub const REFRESH_EVENT: &str = "qb:refresh";

/// The window event the page's script sends before it swaps in another page.
pub const LEAVE_EVENT: &str = "qb:leave";

/// How fresh the page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// Before the browser has the app, or while the first connection opens.
    Connecting,
    /// Changes show as they happen.
    Live,
    /// The stream broke; the browser is opening it again.
    Reconnecting,
    /// No stream: refreshing every [`POLL_SECONDS`].
    Polling,
}

impl LiveState {
    fn as_str(self) -> &'static str {
        match self {
            LiveState::Connecting => "connecting",
            LiveState::Live => "live",
            LiveState::Reconnecting => "reconnecting",
            LiveState::Polling => "polling",
        }
    }
}

/// A visible indicator ("Live", "Reconnecting…", "Refreshing every 10 s") that also does
/// the listening.
#[island]
pub fn LiveStatus() -> impl IntoView {
    let t = use_strings();
    let state = RwSignal::new(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    {
        let handle = listen(state, Callback::new(|()| announce(REFRESH_EVENT)));
        on_leave(move || handle.abort());
    }
    let text = move || match state.get() {
        LiveState::Connecting => t.live_connecting.to_string(),
        LiveState::Live => t.live.to_string(),
        LiveState::Reconnecting => t.live_reconnecting.to_string(),
        LiveState::Polling => fill(t.live_polling, &[("seconds", &POLL_SECONDS.to_string())]),
    };
    view! {
        <p class="live" data-state=move || state.get().as_str() role="status">
            <span class="live__dot" aria-hidden="true"></span>
            {text}
        </p>
    }
}

/// Sends `event` to the page (the window).
#[cfg(feature = "hydrate")]
pub fn announce(event: &str) {
    if let Ok(event) = web_sys::Event::new(event) {
        let _ = window().dispatch_event(&event);
    }
}

/// Runs `stop` once when the page's script swaps in another page: islands are not
/// unmounted, so whatever keeps running (a stream, a chart, a listener) ends here.
#[cfg(feature = "hydrate")]
pub fn on_leave(stop: impl FnOnce() + 'static) {
    let stop = std::cell::Cell::new(Some(stop));
    let handle = std::rc::Rc::new(std::cell::Cell::new(None));
    let registered = window_event_listener_untyped(LEAVE_EVENT, {
        let handle = handle.clone();
        move |_| {
            if let Some(stop) = stop.take() {
                stop();
            }
            if let Some(handle) = handle.take() {
                WindowListenerHandle::remove(handle);
            }
        }
    });
    handle.set(Some(registered));
}

/// Opens the stream (again after each close, backing off to 30 s) and, while it is not
/// live, calls `on_change` every [`POLL_SECONDS`]. Stops when the handle is aborted.
#[cfg(feature = "hydrate")]
fn listen(state: RwSignal<LiveState>, on_change: Callback<()>) -> futures::future::AbortHandle {
    use std::time::Duration;

    use futures::{future, stream, StreamExt};
    use gloo_net::eventsource::{futures::EventSource, State};
    use gloo_timers::future::sleep;

    let stream_task = async move {
        let mut backoff = 1_u64;
        loop {
            if let Ok(mut source) = EventSource::new(STREAM_PATH) {
                if let (Ok(ready), Ok(usage)) =
                    (source.subscribe("ready"), source.subscribe("usage"))
                {
                    let mut events = stream::select(ready, usage);
                    while let Some(event) = events.next().await {
                        match event {
                            Ok((kind, _)) if kind == "ready" => {
                                // Whatever changed while the stream was down shows now.
                                if state.get_untracked() != LiveState::Connecting {
                                    on_change.run(());
                                }
                                state.set(LiveState::Live);
                                backoff = 1;
                            }
                            Ok(_) => on_change.run(()),
                            Err(_) if source.state() == State::Closed => break,
                            Err(_) => state.set(LiveState::Reconnecting),
                        }
                    }
                }
            }
            state.set(LiveState::Polling);
            // The stream ends for good when its credential does (a portal session expired
            // or was revoked): the page learns it now rather than at the next poll.
            on_change.run(());
            sleep(Duration::from_secs(backoff)).await;
            backoff = (backoff * 2).min(30);
        }
    };
    let poll_task = async move {
        loop {
            sleep(Duration::from_secs(u64::from(POLL_SECONDS))).await;
            if matches!(
                state.get_untracked(),
                LiveState::Polling | LiveState::Reconnecting
            ) {
                on_change.run(());
            }
        }
    };
    let (task, handle) = future::abortable(future::join(stream_task, poll_task));
    leptos::task::spawn_local(async move {
        let _ = task.await;
    });
    handle
}
