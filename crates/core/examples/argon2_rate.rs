//! Pure Argon2id verifications per second, at the given parameters, on every core: the
//! ceiling a password login through the API is measured against (`bench/passwords.py`).
//!
//! Usage: cargo run --release -p roster-core --example argon2_rate -- [SECONDS] [M_KIB] [T] [P]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_core::password::{verify, HashParams, Password};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = args.first().copied().unwrap_or(10);
    let d = HashParams::default();
    let params = HashParams {
        memory_kib: args.get(1).map_or(d.memory_kib, |v| *v as u32),
        iterations: args.get(2).map_or(d.iterations, |v| *v as u32),
        parallelism: args.get(3).map_or(d.parallelism, |v| *v as u32),
    };
    let password = Password::new("Str0ng!Passw0rd-x".into());
    let hash = params.hash(&password).expect("hash");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..cores)
        .map(|_| {
            let (hash, password, done) = (hash.clone(), password.clone(), done.clone());
            std::thread::spawn(move || {
                while Instant::now() < until {
                    assert!(verify(&hash, &password));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    println!(
        "{{\"verifications\": {n}, \"seconds\": {seconds}, \"per_second\": {:.1}, \"threads\": {cores}, \"memory_kib\": {}, \"iterations\": {}, \"parallelism\": {}}}",
        n as f64 / seconds as f64,
        params.memory_kib,
        params.iterations,
        params.parallelism
    );
}
