//! `cargo bench -p tessera-bench`: the pieces every code verification and every request pays
//! for, timed in-process. A small built-in harness (warm-up, then the median of several
//! timed batches) instead of criterion: nothing to download or compile, and the medians are
//! steady enough to compare commits.
//!
//! `cargo bench -p tessera-bench -- totp` runs only the benchmarks whose name contains `totp`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};
use tessera_core::account::Account;
use tessera_core::method::{KindContext, authenticator_code};
use tessera_core::secret::{self, Aad};
use tessera_core::{AccountId, AccountStatus, Clock, KeyRing, MethodId, OsRandom, SystemClock};

const SAMPLES: usize = 15;
const SAMPLE_TIME: Duration = Duration::from_millis(200);

fn bench(filter: &[String], name: &str, mut f: impl FnMut()) {
    if !filter.is_empty() && !filter.iter().any(|w| name.contains(w.as_str())) {
        return;
    }
    // Warm-up, and the batch size that takes about one sample's time.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed() >= SAMPLE_TIME / 4 || batch >= 1 << 30 {
            break;
        }
        batch *= 2;
    }
    let batch = batch * 4;
    let mut per_op: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    let median = per_op[SAMPLES / 2];
    let (lo, hi) = (per_op[1], per_op[SAMPLES - 2]);
    println!(
        "{name:<40} {:>12}/op   (spread {} .. {})",
        show(median),
        show(lo),
        show(hi)
    );
}

fn show(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is a name filter.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rng = OsRandom;
    let keys = KeyRing::generate(&rng);
    let now = SystemClock.now();
    let ctx = KindContext {
        rng: &rng,
        keys: &keys,
        now,
        issuer: "Bench Org",
        relying_party: None,
    };
    let account = Account {
        id: AccountId::new(&rng),
        username: "alice@example.org".into(),
        display_name: "Alice".into(),
        password_hash: String::new(),
        locale: None,
        browser_locale: None,
        status: AccountStatus::Active,
        is_admin: false,
        email: None,
        default_method: None,
        created_at: now,
        source: tessera_core::account::AccountSource::Local,
        external_id: None,
    };
    let (method, enrollment) = authenticator_code::register_begin(
        None,
        &account,
        MethodId::new(&rng),
        &ctx,
        time::Duration::minutes(10),
    )
    .unwrap();
    let seed = match enrollment {
        tessera_core::method::Enrollment::Totp { secret_base32, .. } => data_encoding::BASE32_NOPAD
            .decode(secret_base32.trim_end_matches('=').as_bytes())
            .unwrap(),
        #[allow(unreachable_patterns)]
        _ => panic!("a code method without a seed"),
    };
    let unix = now.unix_timestamp() as u64;
    let right = authenticator_code::code_at(&seed, unix).unwrap();
    let wrong = format!(
        "{:06}",
        (right.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );

    println!("hot pieces (median of {SAMPLES} samples)");
    bench(&filter, "totp: verify a right code (unseal+check)", || {
        let v = authenticator_code::verify(black_box(&method), black_box(&right), &ctx).unwrap();
        assert!(v.is_some());
    });
    bench(&filter, "totp: verify a wrong code (unseal+check)", || {
        let v = authenticator_code::verify(black_box(&method), black_box(&wrong), &ctx).unwrap();
        assert!(v.is_none());
    });
    bench(&filter, "totp: generate a code", || {
        black_box(authenticator_code::code_at(black_box(&seed), unix).unwrap());
    });
    let token = secret::new_token(&rng);
    bench(&filter, "token: hash a session token", || {
        black_box(secret::token_hash(black_box(&token)));
    });
    bench(&filter, "token: new session token", || {
        black_box(secret::new_token(&rng));
    });
    let aad = Aad {
        table: "methods",
        column: "secret",
        row: "0190f5d2-0000-7000-8000-000000000000",
    };
    bench(&filter, "seal: 20-byte seed", || {
        black_box(keys.seal(&rng, black_box(&seed), aad));
    });
    let sealed = keys.seal(&rng, &seed, aad);
    bench(&filter, "seal: open a 20-byte seed", || {
        black_box(keys.open(black_box(&sealed), aad).unwrap());
    });
    bench(&filter, "code: normalize typed input", || {
        black_box(tessera_core::method::normalize_code(black_box("123 456")));
    });
}
