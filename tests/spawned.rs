//! Spawned work keeps its parent: `traced::spawn`, `traced::spawn_blocking`,
//! `traced::thread::spawn` and `.in_current_context()`.

use traced::testing::{capture, capture_future};
use traced::{FutureExt as _, traced};

#[traced]
async fn task(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n
}

#[traced]
fn blocking(n: u32) -> u32 {
    n * 10
}

#[traced]
async fn fan_out() -> u32 {
    let handles: Vec<_> = (0..4).map(|n| traced::spawn(task(n))).collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await.unwrap();
    }
    total + traced::spawn_blocking(|| blocking(1)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tasks_on_a_multi_thread_runtime_keep_their_parent() {
    let (total, spans) = capture_future(fan_out()).await;
    assert_eq!(total, 16);
    let parent = spans.one("fan_out");
    let children = spans.children_of(parent);
    assert_eq!(children.len(), 5, "{}", spans.tree());
    assert_eq!(spans.named("task").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_tokio_spawn_loses_the_parent_but_in_current_context_keeps_it() {
    let ((lost, kept), spans) = capture_future(async {
        let lost = tokio::spawn(async { traced::current_span().span_context() })
            .await
            .unwrap();
        let kept =
            tokio::spawn(async { traced::current_span().span_context() }.in_current_context())
                .await
                .unwrap();
        (lost, kept)
    })
    .await;
    assert!(spans.is_empty());
    assert!(
        !lost.is_valid(),
        "tokio::spawn alone starts with an empty context"
    );
    assert!(
        kept.is_valid() && kept.is_remote(),
        "the capture's parent came along"
    );
}

#[traced]
fn spawn_threads() -> u32 {
    let handles: Vec<_> = (0..3)
        .map(|n| traced::thread::spawn(move || blocking(n)))
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .sum()
}

#[test]
fn std_threads_keep_their_parent() {
    let (total, spans) = capture(spawn_threads);
    assert_eq!(total, 30);
    let parent = spans.one("spawn_threads");
    assert_eq!(spans.children_of(parent).len(), 3);
}
