//! Live sync progress and run lifecycle, scoped to the caller's account.

use crate::graphql::types::conflict::Conflict;
use crate::graphql::types::run::SyncRun;
use crate::graphql::{caller, parse_id, state};
use crate::store;
use async_graphql::{Context, ID, Subscription};
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates over `/graphql/ws` (graphql-transport-ws).
#[Subscription]
impl SubscriptionRoot {
    /// The run's current state at once, then every change; completes when it ends.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The run to follow.")] run_id: ID,
    ) -> async_graphql::Result<BoxStream<'static, SyncRun>> {
        let c = caller(ctx)?;
        let st = state(ctx);
        let id = parse_id(&run_id, "sync run")?;
        // Subscribe before reading the current state so no change falls in between.
        let updates = BroadcastStream::new(st.jobs.bus().subscribe());
        let current = store::runs::get(&st.db, c.account_id, id).await?;
        Ok(run_progress(current, updates))
    }

    /// Lifecycle of the account's runs (queued, started, finished), optionally for one connection.
    async fn sync_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only runs of this connection.")] connection_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = SyncRun>> {
        let c = caller(ctx)?;
        let account = c.account_id;
        let connection = connection_id
            .as_ref()
            .map(|id| parse_id(id, "connection"))
            .transpose()?;
        if let Some(conn) = connection {
            store::connections::get(&state(ctx).db, account, conn).await?;
        }
        let updates = BroadcastStream::new(state(ctx).jobs.bus().subscribe());
        Ok(updates.filter_map(move |u| {
            let keep = u.ok().filter(|u| {
                u.lifecycle
                    && u.run.account_id == account
                    && connection.is_none_or(|c| c == u.run.connection_id)
            });
            futures::future::ready(keep.map(|u| SyncRun(u.run.clone())))
        }))
    }

    /// Conflicts as syncs detect them, account-wide or for one connection. Runs on any
    /// instance count: a run's progress says it found conflicts, then they are read back.
    async fn conflict_created(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only conflicts of this connection.")] connection_id: Option<ID>,
    ) -> async_graphql::Result<BoxStream<'static, Conflict>> {
        let c = caller(ctx)?;
        let account = c.account_id;
        let db = state(ctx).db.clone();
        let connection = connection_id
            .as_ref()
            .map(|id| parse_id(id, "connection"))
            .transpose()?;
        if let Some(conn) = connection {
            store::connections::get(&db, account, conn).await?;
        }
        let updates = BroadcastStream::new(state(ctx).jobs.bus().subscribe());
        let after = store::conflicts::max_id(&db, account).await?;
        let feed = ConflictFeed {
            db,
            account,
            connection,
            after,
            seen: std::collections::HashMap::new(),
            queue: std::collections::VecDeque::new(),
        };
        Ok(
            stream::unfold((updates, feed), |(mut updates, mut feed)| async move {
                loop {
                    if let Some(next) = feed.queue.pop_front() {
                        return Some((Conflict::from(next), (updates, feed)));
                    }
                    let update = updates.next().await?;
                    let Ok(update) = update else { continue };
                    if feed.found_more(&update.run) {
                        feed.read_new().await;
                    }
                }
            })
            .boxed(),
        )
    }

    /// Server heartbeat every `seconds` (1–60), a connectivity check for clients.
    async fn heartbeat(
        &self,
        #[graphql(default = 10, desc = "Seconds between beats (1–60, default 10).")] seconds: u64,
    ) -> impl Stream<Item = chrono::DateTime<chrono::Utc>> {
        let period = std::time::Duration::from_secs(seconds.clamp(1, 60));
        stream::unfold((), move |_| async move {
            tokio::time::sleep(period).await;
            Some((chrono::Utc::now(), ()))
        })
    }
}

/// Current state, then updates of this run in order, ending after the final state.
pub fn run_progress(
    current: entity::sync_run::Model,
    updates: BroadcastStream<std::sync::Arc<crate::jobs::bus::RunUpdate>>,
) -> BoxStream<'static, SyncRun> {
    let id = current.id;
    let finished = !current.status.is_active();
    let later = updates.filter_map(move |u| {
        futures::future::ready(u.ok().filter(|u| u.run.id == id).map(|u| u.run.clone()))
    });
    let tail: BoxStream<'static, entity::sync_run::Model> = if finished {
        stream::empty().boxed()
    } else {
        later.boxed()
    };
    let all = stream::once(futures::future::ready(current))
        .chain(tail)
        .boxed();
    // Ends right after yielding the final state (no waiting for another message).
    stream::unfold(
        (all, false, -1),
        |(mut runs, done, last_progress)| async move {
            if done {
                return None;
            }
            let mut run = runs.next().await?;
            let done = !run.status.is_active();
            // Progress never goes backwards for a subscriber, even if updates race.
            run.progress = run.progress.max(last_progress);
            let progress = run.progress;
            Some((SyncRun(run), (runs, done, progress)))
        },
    )
    .boxed()
}

/// State of one `conflictCreated` subscriber.
struct ConflictFeed {
    db: store::Db,
    account: i64,
    connection: Option<i64>,
    /// Conflicts up to this id were delivered (or predate the subscription).
    after: i64,
    /// Conflict counter last seen per run: only an increase triggers a read.
    seen: std::collections::HashMap<i64, i64>,
    queue: std::collections::VecDeque<entity::conflict::Model>,
}

impl ConflictFeed {
    fn found_more(&mut self, run: &entity::sync_run::Model) -> bool {
        if run.account_id != self.account || self.connection.is_some_and(|c| c != run.connection_id)
        {
            return false;
        }
        let last = self.seen.insert(run.id, run.conflicts).unwrap_or(0);
        run.conflicts > last
    }

    async fn read_new(&mut self) {
        match store::conflicts::open_after(&self.db, self.account, self.connection, self.after)
            .await
        {
            Ok(rows) => {
                if let Some(last) = rows.last() {
                    self.after = last.id;
                }
                self.queue.extend(rows);
            }
            Err(e) => tracing::warn!(code = e.code(), "conflict feed read failed"),
        }
    }
}
