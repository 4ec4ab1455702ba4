//! The progress bus: every run state change is broadcast to subscribers (GraphQL
//! subscriptions, SSE), who filter by run and by account. On PostgreSQL the bus is
//! bridged through `LISTEN/NOTIFY`, so a subscriber on one instance sees runs executing
//! on another.

use entity::sync_run;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

pub const CHANNEL: &str = "pricebook_runs";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunUpdate {
    pub run: sync_run::Model,
    /// A status change (queued, running, finished) rather than a progress tick.
    pub lifecycle: bool,
}

#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Arc<RunUpdate>>,
    /// Set on PostgreSQL: updates to forward to the other instances.
    remote: Option<mpsc::UnboundedSender<Arc<RunUpdate>>>,
}

/// What travels through NOTIFY: the update and which instance sent it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: String,
    update: RunUpdate,
}

impl Bus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Bus {
            sender,
            remote: None,
        }
    }

    /// Bridges this bus with the other instances on the same PostgreSQL database.
    pub fn bridged(pool: sea_orm::sqlx::PgPool, instance: String) -> Self {
        let mut bus = Self::new();
        let (tx, mut rx) = mpsc::unbounded_channel::<Arc<RunUpdate>>();
        bus.remote = Some(tx);
        let notify_pool = pool.clone();
        let origin = instance.clone();
        tokio::spawn(async move {
            while let Some(update) = rx.recv().await {
                let Some(payload) = notification(&origin, &update) else {
                    continue;
                };
                if let Err(e) = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(&notify_pool)
                    .await
                {
                    tracing::warn!("forwarding progress to other instances failed: {e}");
                }
            }
        });
        let local = bus.sender.clone();
        tokio::spawn(async move {
            loop {
                match listen(&pool, &instance, &local).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!("progress listener lost its connection, reconnecting: {e}");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        bus
    }

    pub fn publish(&self, run: sync_run::Model, lifecycle: bool) {
        let update = Arc::new(RunUpdate { run, lifecycle });
        if let Some(remote) = &self.remote {
            let _ = remote.send(update.clone());
        }
        // No subscriber is fine: progress is also persisted on the run row.
        let _ = self.sender.send(update);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RunUpdate>> {
        self.sender.subscribe()
    }
}

/// NOTIFY payloads are limited to 8000 bytes: the summary and checkpoint (which can be
/// large) stay on the run row; subscribers get progress, counters and status.
fn notification(origin: &str, update: &RunUpdate) -> Option<String> {
    let mut light = update.clone();
    light.run.summary = serde_json::json!({});
    light.run.checkpoint = serde_json::json!({});
    let mut text = serde_json::to_string(&Envelope {
        origin: origin.to_owned(),
        update: light.clone(),
    })
    .ok()?;
    if text.len() >= 7900 {
        light.run.params = serde_json::json!({});
        light.run.error = light.run.error.map(|e| e.chars().take(500).collect());
        text = serde_json::to_string(&Envelope {
            origin: origin.to_owned(),
            update: light,
        })
        .ok()?;
    }
    (text.len() < 7900).then_some(text)
}

async fn listen(
    pool: &sea_orm::sqlx::PgPool,
    instance: &str,
    local: &broadcast::Sender<Arc<RunUpdate>>,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let note = listener.recv().await?;
        match serde_json::from_str::<Envelope>(note.payload()) {
            Ok(env) if env.origin != instance => {
                let _ = local.send(Arc::new(env.update));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("ignoring a malformed progress notification: {e}"),
        }
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}
