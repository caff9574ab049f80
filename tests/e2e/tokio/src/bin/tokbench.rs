// SPDX-License-Identifier: GPL-2.0-only
// A poll-heavy tokio workload for tests/bench/async_overhead.sh: TASKS tasks
// each yield POLLS times (tokio::task::yield_now: one poll each time) on a
// current_thread runtime.  Waits half a second first (the tracer attaches
// after the program starts), then prints "polls WALL_S" of the polling.
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let tasks: u64 = args.next().and_then(|a| a.parse().ok()).expect("usage: tokbench TASKS POLLS");
    let polls: u64 = args.next().and_then(|a| a.parse().ok()).expect("usage: tokbench TASKS POLLS");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..polls {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    println!("{} {}", tasks * (polls + 1), t0.elapsed().as_secs_f64());
}
