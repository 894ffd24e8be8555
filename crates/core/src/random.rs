//! The only place that draws randomness. Everything else asks a [`Random`].

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's generator (through `rand`'s thread-local CSPRNG, seeded from it).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    #[allow(clippy::disallowed_methods)]
    fn fill(&self, buf: &mut [u8]) {
        rand::fill(buf);
    }
}

/// `N` random bytes.
pub fn bytes<const N: usize>(rng: &dyn Random) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill(&mut out);
    out
}

/// A uniformly distributed number below `bound` (rejection sampling, no modulo bias).
pub fn below(rng: &dyn Random, bound: u32) -> u32 {
    debug_assert!(bound > 0);
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let v = u32::from_be_bytes(bytes::<4>(rng));
        if v < zone {
            return v % bound;
        }
    }
}
