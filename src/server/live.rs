//! Live updates: ingestion announces which organization's usage changed; each open
//! `/usage` page listens on a server-sent event stream and refetches.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

/// Announcements buffered per listener before a slow one is told to catch up.
const BUFFER: usize = 1024;

/// Cheap to clone; shared by ingestion and every event stream.
#[derive(Clone, Debug)]
pub struct LiveUpdates {
    usage: broadcast::Sender<i64>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for LiveUpdates {
    fn default() -> Self {
        let (usage, _) = broadcast::channel(BUFFER);
        let (closing, _) = watch::channel(false);
        LiveUpdates {
            usage,
            closing: Arc::new(closing),
        }
    }
}

impl LiveUpdates {
    /// Tells every listener that `organization_id`'s usage changed (no-op without any).
    pub fn usage_changed(&self, organization_id: i64) {
        let _ = self.usage.send(organization_id);
    }

    /// Announcements from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.usage.subscribe()
    }

    /// Ends every stream, so a graceful shutdown is not held open by listening pages.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`LiveUpdates::close`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}
