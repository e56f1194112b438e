//! A point where a future is suspended and later resumed.

/// `Pending` once (after waking its task, so an executor polls again), then ready.
pub async fn suspend_once() {
    let mut suspended = false;
    std::future::poll_fn(|task| {
        if std::mem::replace(&mut suspended, true) {
            std::task::Poll::Ready(())
        } else {
            task.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}
