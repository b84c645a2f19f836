//! Bounded per-member queues and what happens when one is full.
//!
//! The room never waits for a member: routing pushes into the member's queue
//! and returns; a pump task per member drains it at the member's own pace. A
//! member that stops taking deliveries therefore fills only its own queue,
//! and the [`OverflowPolicy`] decides what is lost — never silently: the room
//! reports every overflow as a [`super::RoomEvent::Overflow`].

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// What to do when a member's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// Drop the oldest queued delivery to make room (the member hears the
    /// most recent audio; good for live speech).
    DropOldest,
    /// Drop the new delivery (the member hears a gapless prefix).
    DropNewest,
    /// Give up on the member: drop its queue, close it and remove it from
    /// the room.
    Disconnect,
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    /// Queued; nothing lost.
    Queued,
    /// Queued after dropping the oldest item (returned).
    DroppedOldest(T),
    /// Not queued: the queue was full (the item is returned).
    DroppedNewest(T),
    /// The queue was full and the policy is `Disconnect`: the queue is now
    /// closed and empty; every item it held and the new one are returned.
    Disconnected(Vec<T>),
    /// The queue was already closed; the item is returned.
    Closed(T),
}

/// A bounded FIFO with an overflow policy (plain data, no locking).
#[derive(Debug)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
    policy: OverflowPolicy,
    closed: bool,
    dropped: u64,
}

impl<T> BoundedQueue<T> {
    /// A queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        let capacity = capacity.max(1);
        BoundedQueue {
            items: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            policy,
            closed: false,
            dropped: 0,
        }
    }

    /// Adds `item`, applying the overflow policy if the queue is full.
    pub fn push(&mut self, item: T) -> Pushed<T> {
        if self.closed {
            return Pushed::Closed(item);
        }
        if self.items.len() < self.capacity {
            self.items.push_back(item);
            return Pushed::Queued;
        }
        self.dropped += 1;
        match self.policy {
            OverflowPolicy::DropOldest => {
                let oldest = self.items.pop_front().expect("a full queue has an item");
                self.items.push_back(item);
                Pushed::DroppedOldest(oldest)
            }
            OverflowPolicy::DropNewest => Pushed::DroppedNewest(item),
            OverflowPolicy::Disconnect => {
                self.closed = true;
                let mut lost: Vec<T> = self.items.drain(..).collect();
                lost.push(item);
                Pushed::Disconnected(lost)
            }
        }
    }

    /// Takes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Overflows so far (deliveries lost under `DropOldest`/`DropNewest`; 1
    /// under `Disconnect`).
    pub fn overflows(&self) -> u64 {
        self.dropped
    }

    /// Closes the queue: later pushes are refused, waiting items are dropped.
    pub fn close(&mut self) {
        self.closed = true;
        self.items.clear();
    }

    /// Whether the queue is closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The policy.
    pub fn policy(&self) -> OverflowPolicy {
        self.policy
    }
}

/// A [`BoundedQueue`] shared by the room (pushing) and a member's pump
/// (popping, waiting when empty).
#[derive(Debug)]
pub(crate) struct SharedQueue<T> {
    queue: Mutex<BoundedQueue<T>>,
    ready: Notify,
}

impl<T> SharedQueue<T> {
    pub(crate) fn new(capacity: usize, policy: OverflowPolicy) -> Arc<Self> {
        Arc::new(SharedQueue {
            queue: Mutex::new(BoundedQueue::new(capacity, policy)),
            ready: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoundedQueue<T>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pushes without waiting; returns what happened and the overflow count.
    pub(crate) fn push(&self, item: T) -> (Pushed<T>, u64) {
        let (pushed, overflows) = {
            let mut queue = self.lock();
            let pushed = queue.push(item);
            (pushed, queue.overflows())
        };
        self.ready.notify_one();
        (pushed, overflows)
    }

    /// Waits for the next item; `None` once the queue is closed.
    pub(crate) async fn pop(&self) -> Option<T> {
        loop {
            let notified = self.ready.notified();
            {
                let mut queue = self.lock();
                if let Some(item) = queue.pop() {
                    return Some(item);
                }
                if queue.is_closed() {
                    return None;
                }
            }
            notified.await;
        }
    }

    pub(crate) fn close(&self) {
        self.lock().close();
        self.ready.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(policy: OverflowPolicy) -> BoundedQueue<u32> {
        let mut q = BoundedQueue::new(3, policy);
        for i in 0..3 {
            assert_eq!(q.push(i), Pushed::Queued);
        }
        q
    }

    fn drain(q: &mut BoundedQueue<u32>) -> Vec<u32> {
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn drop_oldest_keeps_the_latest() {
        let mut q = fill(OverflowPolicy::DropOldest);
        assert_eq!(q.push(3), Pushed::DroppedOldest(0));
        assert_eq!(q.push(4), Pushed::DroppedOldest(1));
        assert_eq!(q.overflows(), 2);
        assert_eq!(drain(&mut q), [2, 3, 4]);
    }

    #[test]
    fn drop_newest_keeps_the_prefix() {
        let mut q = fill(OverflowPolicy::DropNewest);
        assert_eq!(q.push(3), Pushed::DroppedNewest(3));
        assert_eq!(q.push(4), Pushed::DroppedNewest(4));
        assert_eq!(q.overflows(), 2);
        assert_eq!(drain(&mut q), [0, 1, 2]);
    }

    #[test]
    fn disconnect_closes_and_returns_everything() {
        let mut q = fill(OverflowPolicy::Disconnect);
        assert_eq!(q.push(3), Pushed::Disconnected(vec![0, 1, 2, 3]));
        assert!(q.is_closed() && q.is_empty());
        assert_eq!(q.push(4), Pushed::Closed(4));
        assert_eq!(q.overflows(), 1);
    }

    #[test]
    fn capacity_is_at_least_one() {
        let mut q = BoundedQueue::new(0, OverflowPolicy::DropNewest);
        assert_eq!(q.push(1), Pushed::Queued);
        assert_eq!(q.push(2), Pushed::DroppedNewest(2));
    }

    #[tokio::test]
    async fn the_shared_queue_wakes_its_reader_and_ends_when_closed() {
        let q = SharedQueue::new(4, OverflowPolicy::DropNewest);
        let reader = {
            let q = Arc::clone(&q);
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(i) = q.pop().await {
                    got.push(i);
                }
                got
            })
        };
        for i in 0..3 {
            q.push(i);
            tokio::task::yield_now().await;
        }
        // Let the reader drain before closing (closing drops waiting items).
        while !q.lock().is_empty() {
            tokio::task::yield_now().await;
        }
        q.close();
        assert_eq!(reader.await.unwrap(), [0, 1, 2]);
    }
}
