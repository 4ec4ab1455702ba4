//! Subscriptions (progress and run events arrive with the job system).

use async_graphql::Subscription;
use futures::Stream;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Server heartbeat every `seconds` (1–60), a connectivity check for clients.
    async fn heartbeat(
        &self,
        #[graphql(default = 10)] seconds: u64,
    ) -> impl Stream<Item = chrono::DateTime<chrono::Utc>> {
        let period = std::time::Duration::from_secs(seconds.clamp(1, 60));
        futures::stream::unfold((), move |_| async move {
            tokio::time::sleep(period).await;
            Some((chrono::Utc::now(), ()))
        })
    }
}
