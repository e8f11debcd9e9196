//! Where connections live: the accept loop every listener shares
//! ([`accept`]), the gateway's listener and worker threads
//! ([`server`]), each connection's protocol and graceful shutdown
//! ([`connection`]), each worker's coarse clock ([`timer`]), and TLS ([`tls`]).
//! The per-worker lists of wakers behind [`timer`] and [`connection`] are
//! `slab`s: an entry keeps its index while it lives, so registering and
//! leaving are O(1).

pub mod accept;
pub mod connection;
pub mod server;
pub mod timer;
pub mod tls;

use std::task::Waker;

/// Makes `stored` wake the task `current` wakes (cloning only when it is
/// another task).
fn refresh(stored: &mut Waker, current: &Waker) {
    if !stored.will_wake(current) {
        *stored = current.clone();
    }
}
