//! Admission control for GraphQL over HTTP: at most `concurrency` operations execute at
//! once, up to `queue` more wait (each at most `queue_timeout`), and beyond that an
//! operation is refused at once with `503`, code `RATE_LIMITED` and `Retry-After` instead
//! of adding to everyone's latency. A burst of dashboards then costs a bounded share of
//! the CPU and of the read pool, and the sync workers keep theirs.

use crate::config::Settings;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u64 = 1;

pub struct Admission {
    slots: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
    queue_timeout: Duration,
    concurrency: usize,
}

/// Why an operation was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The queue was full.
    QueueFull,
    /// It waited `queue_timeout` without a slot.
    Waited,
}

impl From<Refusal> for crate::error::AppError {
    fn from(refusal: Refusal) -> Self {
        crate::error::AppError::Overloaded(refusal.message().into())
    }
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::QueueFull => {
                "the server is busy (too many GraphQL requests queued); retry shortly"
            }
            Refusal::Waited => {
                "the server is busy (no GraphQL execution slot in time); retry shortly"
            }
        }
    }
}

impl Admission {
    pub fn new(concurrency: usize, queue: usize, queue_timeout: Duration) -> Self {
        let concurrency = concurrency.max(1);
        Admission {
            slots: Semaphore::new(concurrency),
            waiting: AtomicUsize::new(0),
            queue,
            queue_timeout,
            concurrency,
        }
    }

    /// From the settings; a concurrency of 0 means 2 × CPU cores, at least 4.
    pub fn from_settings(settings: &Settings) -> Self {
        let concurrency = match settings.graphql_concurrency {
            0 => {
                let cores = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2);
                (cores * 2).max(4)
            }
            n => n,
        };
        Self::new(
            concurrency,
            settings.graphql_queue,
            Duration::from_millis(settings.graphql_queue_timeout_ms),
        )
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// An execution slot, held until the permit drops: at once when one is free, after a
    /// bounded wait in the queue, or a [`Refusal`].
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Refusal> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(permit);
        }
        // Reserve a queue place; give it back if the queue was already full.
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("graphql_refused_total", "reason" => "queue_full").increment(1);
            return Err(Refusal::QueueFull);
        }
        let waited = tokio::time::timeout(self.queue_timeout, self.slots.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                metrics::counter!("graphql_refused_total", "reason" => "queue_timeout")
                    .increment(1);
                Err(Refusal::Waited)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_up_to_concurrency_then_queues_then_refuses() {
        let a = Admission::new(1, 1, Duration::from_millis(50));
        let held = a.enter().await.expect("a free slot");
        // The queue has one place: the first waiter times out, it is not refused at once.
        let started = std::time::Instant::now();
        assert_eq!(a.enter().await.err(), Some(Refusal::Waited));
        assert!(started.elapsed() >= Duration::from_millis(50));
        // With the one place taken, the next is refused without waiting.
        let queued = a.enter();
        tokio::pin!(queued);
        assert!(futures::poll!(&mut queued).is_pending());
        assert_eq!(a.enter().await.err(), Some(Refusal::QueueFull));
        // A released slot goes to the waiter.
        drop(held);
        assert!(queued.await.is_ok());
    }
}
