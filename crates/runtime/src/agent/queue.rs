//! The bounded queue between the sampling tasks and a pipeline.
//!
//! Sampling must never wait for a pipeline (a slow model would otherwise shift the sampling
//! schedule), so pushing never blocks. When the pipeline falls behind and the queue is full,
//! the OLDEST batch is dropped and counted: a pipeline that catches up then works on the
//! freshest data, which is what a monitoring rule should see; the drop is visible in
//! `/metrics` (`edgewise_pipeline_dropped_batches_total`) and in the log.
//!
//! The consumer is a pipeline's own OS thread (its work is CPU-bound), so it waits on a
//! condition variable rather than an async notification.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// A bounded multi-producer, single-consumer queue that drops its oldest item when full.
#[derive(Debug)]
pub struct DropOldestQueue<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
    capacity: usize,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> DropOldestQueue<T> {
    /// A queue holding at most `capacity` items (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `item`; returns whether an older item was dropped to make room. After
    /// [`close`](Self::close) the item is discarded.
    pub fn push(&self, item: T) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        let dropped = state.items.len() >= self.capacity;
        if dropped {
            state.items.pop_front();
        }
        state.items.push_back(item);
        drop(state);
        self.ready.notify_one();
        dropped
    }

    /// The next item, waiting for one; `None` once the queue is closed and empty.
    pub fn pop(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Some(item);
            }
            if state.closed {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Refuses further items; the consumer still gets those queued, then `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn when_full_the_oldest_item_goes_and_the_drop_is_reported() {
        let queue = DropOldestQueue::new(3);
        assert!(!queue.push(1));
        assert!(!queue.push(2));
        assert!(!queue.push(3));
        assert!(queue.push(4));
        queue.close();
        assert!(!queue.push(5), "closed: discarded, not a drop");
        let drained: Vec<i32> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(drained, [2, 3, 4]);
    }

    #[test]
    fn a_waiting_consumer_wakes_for_items_and_for_close() {
        let queue = Arc::new(DropOldestQueue::new(8));
        let consumer = {
            let queue = Arc::clone(&queue);
            std::thread::spawn(move || std::iter::from_fn(|| queue.pop()).collect::<Vec<_>>())
        };
        for i in 0..5 {
            queue.push(i);
        }
        queue.close();
        let got = consumer.join().unwrap_or_default();
        assert_eq!(got, [0, 1, 2, 3, 4]);
    }
}
