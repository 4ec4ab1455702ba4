//! The in-process progress bus: every run state change is broadcast to subscribers
//! (GraphQL subscriptions, SSE), who filter by run and by account.

use entity::sync_run;
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub struct RunUpdate {
    pub run: sync_run::Model,
    /// A status change (queued, running, finished) rather than a progress tick.
    pub lifecycle: bool,
}

#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Arc<RunUpdate>>,
}

impl Bus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Bus { sender }
    }

    pub fn publish(&self, run: sync_run::Model, lifecycle: bool) {
        // No subscriber is fine: progress is also persisted on the run row.
        let _ = self.sender.send(Arc::new(RunUpdate { run, lifecycle }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RunUpdate>> {
        self.sender.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}
