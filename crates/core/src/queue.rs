//! A bounded many-to-one queue that takes memory only for what it holds.
//!
//! tokio's `mpsc` allocates a block of 32 slots when a channel is made; a long-lived live
//! connection has three such channels (its send queue, its subscriptions' completions and
//! each subscription's feed route), about 4 KiB per idle connection before anything is
//! sent. This queue is a `VecDeque` behind a lock with a [`Notify`]: empty, it holds no
//! buffer, and it gives back what a burst grew once it has drained.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Items kept allocated after a queue drains (a burst's buffer beyond this is freed).
const KEEP: usize = 8;

struct Shared<T> {
    items: Mutex<VecDeque<T>>,
    /// Wakes the receiver (a permit is kept when it is not waiting).
    ready: Notify,
    senders: AtomicUsize,
    receiver_gone: AtomicBool,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why [`Sender::try_send`] refused an item (it is handed back).
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The queue holds `capacity` items.
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued now.
    Empty,
    /// Nothing queued, and every sender is gone.
    Disconnected,
}

/// The sending side (cloneable).
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A queue holding at most `capacity` items (at least one).
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        items: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
        receiver_gone: AtomicBool::new(false),
        capacity: capacity.max(1),
    });
    (Sender { shared: shared.clone() }, Receiver { shared })
}

impl<T> Sender<T> {
    /// Queues `item` unless the queue is full or the receiver is gone.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.push(item, true)
    }

    /// Queues `item` whatever the queue holds (for rare control items that must not be
    /// refused); fails only when the receiver is gone.
    pub fn send_beyond_capacity(&self, item: T) -> Result<(), TrySendError<T>> {
        self.push(item, false)
    }

    fn push(&self, item: T, bounded: bool) -> Result<(), TrySendError<T>> {
        if self.shared.receiver_gone.load(Ordering::Acquire) {
            return Err(TrySendError::Closed(item));
        }
        {
            let mut items = self.shared.lock();
            if bounded && items.len() >= self.shared.capacity {
                return Err(TrySendError::Full(item));
            }
            items.push_back(item);
        }
        self.shared.ready.notify_one();
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl<T> Receiver<T> {
    /// The next item, if one is queued now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut items = self.shared.lock();
        match items.pop_front() {
            Some(item) => {
                if items.is_empty() && items.capacity() > KEEP {
                    items.shrink_to(KEEP);
                }
                Ok(item)
            }
            None if self.shared.senders.load(Ordering::Acquire) == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// The next item, waiting for one; `None` once the queue is empty and every sender
    /// is gone. Cancel-safe: an item is taken only when this returns it.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            match self.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                // A push or the last sender's drop after the check leaves a permit.
                Err(TryRecvError::Empty) => self.shared.ready.notified().await,
            }
        }
    }

    /// Refuses further items; what is queued can still be taken.
    pub fn close(&mut self) {
        self.shared.receiver_gone.store(true, Ordering::Release);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Queued items are dropped with the receiver, not kept alive by senders.
        self.shared.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn items_arrive_in_order_and_a_full_queue_refuses() {
        let (tx, mut rx) = bounded(2);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.try_send(2), Ok(()));
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        assert_eq!(tx.send_beyond_capacity(4), Ok(()), "control items go beyond the capacity");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send_from_another_task() {
        let (tx, mut rx) = bounded::<u32>(4);
        let waiting = tokio::spawn(async move { rx.recv().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.try_send(7).expect("send");
        let got = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").expect("task");
        assert_eq!(got, Some(7));
    }

    #[tokio::test]
    async fn the_receiver_ends_when_the_last_sender_is_gone() {
        let (tx, mut rx) = bounded::<u32>(4);
        let tx2 = tx.clone();
        tx.try_send(1).expect("send");
        drop(tx);
        let waiting = tokio::spawn(async move { (rx.recv().await, rx.recv().await) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "one sender is left");
        drop(tx2);
        let got = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").expect("task");
        assert_eq!(got, (Some(1), None), "what was queued first, then the end");
    }

    #[test]
    fn senders_see_a_closed_receiver() {
        let (tx, mut rx) = bounded::<u32>(4);
        rx.close();
        assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
        drop(rx);
        assert_eq!(tx.send_beyond_capacity(2), Err(TrySendError::Closed(2)));
    }

    #[test]
    fn a_drained_queue_gives_its_burst_buffer_back() {
        let (tx, mut rx) = bounded::<u64>(1000);
        for i in 0..500 {
            tx.try_send(i).expect("send");
        }
        while rx.try_recv().is_ok() {}
        assert!(rx.shared.lock().capacity() <= KEEP, "capacity {}", rx.shared.lock().capacity());
    }
}
