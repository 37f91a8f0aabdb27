//! Running a future of the in-memory backend to its end without an executor.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The in-memory backend never waits, so one poll finishes its futures.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(f).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the in-memory backend never waits"),
    }
}
