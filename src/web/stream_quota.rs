//! How many long-lived streams (subscription WebSockets, server-sent event streams) one
//! credential may hold open at once on this instance.
//!
//! Each open stream costs memory and a task for as long as the client keeps it, so without a
//! cap one viewer's key could open sockets until the server runs out. The count is per user
//! session (all of a user's tokens together) or per API key; a stream's [`StreamPermit`] gives
//! its place back when the stream ends, however it ends. Holders with no open stream leave the
//! map, so its size is bounded by the streams actually open.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use std::sync::Arc;

/// Whose streams are counted together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Holder {
    User(i64),
    ApiKey(i64),
}

impl Holder {
    fn of(caller: &Caller) -> Holder {
        match caller.api_key_id {
            Some(key) => Holder::ApiKey(key),
            None => Holder::User(caller.user_id),
        }
    }
}

pub struct StreamQuota {
    limit: usize,
    open: DashMap<Holder, usize>,
}

impl StreamQuota {
    pub fn new(limit: usize) -> Arc<StreamQuota> {
        Arc::new(StreamQuota {
            limit: limit.max(1),
            open: DashMap::new(),
        })
    }

    /// A place for one more stream of `caller`, or `RATE_LIMITED` when they hold the limit.
    pub fn open(self: &Arc<Self>, caller: &Caller) -> AppResult<StreamPermit> {
        let holder = Holder::of(caller);
        let mut count = self.open.entry(holder).or_insert(0);
        if *count >= self.limit {
            return Err(AppError::RateLimited(format!(
                "this credential already holds {} open subscription or event streams; close one first",
                self.limit
            )));
        }
        *count += 1;
        Ok(StreamPermit {
            quota: self.clone(),
            holder,
        })
    }

    /// Streams `caller` holds open now.
    pub fn held_by(&self, caller: &Caller) -> usize {
        self.open.get(&Holder::of(caller)).map_or(0, |c| *c)
    }
}

/// One open stream's place; dropping it frees the place.
pub struct StreamPermit {
    quota: Arc<StreamQuota>,
    holder: Holder,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        if let Entry::Occupied(mut count) = self.quota.open.entry(self.holder) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::Role;

    fn caller(user_id: i64, api_key_id: Option<i64>) -> Caller {
        Caller {
            user_id,
            account_id: 1,
            email: "a@example.com".into(),
            role: Role::Viewer,
            api_key_id,
        }
    }

    #[test]
    fn each_credential_holds_at_most_the_limit_and_dropping_frees_a_place() {
        let quota = StreamQuota::new(2);
        let user = caller(7, None);
        let key = caller(7, Some(3));
        let a = quota.open(&user).unwrap();
        let _b = quota.open(&user).unwrap();
        let refused = quota.open(&user).err().unwrap();
        assert_eq!(refused.code(), "RATE_LIMITED");
        // The user's API key is a credential of its own.
        let _k = quota.open(&key).unwrap();
        drop(a);
        assert_eq!(quota.held_by(&user), 1);
        let _c = quota.open(&user).unwrap();
    }

    #[test]
    fn holders_without_streams_leave_the_map() {
        let quota = StreamQuota::new(5);
        for id in 0..100 {
            drop(quota.open(&caller(id, None)).unwrap());
        }
        assert!(quota.open.is_empty());
    }
}
