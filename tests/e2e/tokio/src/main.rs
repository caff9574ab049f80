// SPDX-License-Identifier: GPL-2.0-only
// Ground truth for rt-bpf async on tokio: one task blocks the runtime's
// only worker with std::thread::sleep(60 ms) (with a second argument
// "spin": a 60 ms busy loop; "sleep" is the default) every 250 ms, ten
// times, after a first wait of 500 ms (or a third argument's ms), and
// logs each sleep as "block START_NS DURATION_NS" (CLOCK_MONOTONIC) to the
// file argv[1]; 300 light tasks wake on timers every 20-100 ms; one task
// runs 2 ms CPU slices between sleeps.  The blocker starts after 0.5 s:
// the tracer attaches after the program starts.
use std::io::Write;
use std::time::{Duration, Instant};

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[inline(never)]
fn spin_for(d: Duration) {
    let end = Instant::now() + d;
    let mut n: u64 = 0;
    while Instant::now() < end {
        n = n.wrapping_add(1);
    }
    std::hint::black_box(n);
}

async fn blocker(path: String, spin: bool, delay_ms: u64) {
    let mut log = std::fs::File::create(path).expect("log file");
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    for _ in 0..10 {
        let t0 = monotonic_ns();
        if spin {
            spin_for(Duration::from_millis(60));
        } else {
            std::thread::sleep(Duration::from_millis(60));
        }
        writeln!(log, "block {} {}", t0, monotonic_ns() - t0).expect("log");
        tokio::time::sleep(Duration::from_millis(190)).await;
    }
}

async fn light(i: u64) {
    loop {
        tokio::time::sleep(Duration::from_millis(20 + (i * 37) % 80)).await;
    }
}

async fn cpu_slices() {
    let mut n: u64 = 0;
    loop {
        let end = Instant::now() + Duration::from_millis(2);
        while Instant::now() < end {
            n = n.wrapping_add(1);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: tokground LOG [spin|sleep [DELAY_MS]]");
    let spin = std::env::args().nth(2).as_deref() == Some("spin");
    let delay_ms = std::env::args().nth(3).map_or(500, |s| s.parse().expect("DELAY_MS"));
    for i in 0..300 {
        tokio::spawn(light(i));
    }
    tokio::spawn(cpu_slices());
    tokio::spawn(blocker(path, spin, delay_ms)).await.expect("blocker");
}
