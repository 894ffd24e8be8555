//! Argon2id's working memory (19 MiB with the default parameters), kept between hashes.
//!
//! Allocated afresh for every hash, the memory went back to glibc's per-thread arenas, which
//! keep it: a server whose checks had run on many blocking threads held one block per thread
//! (490 MB peak RSS measured under a sign-in flood, for two hashes at a time). Reused, the
//! process holds one block per hash that runs at once, which the server bounds to its cores.

use argon2::Block;
use std::sync::Mutex;
use zeroize::Zeroize;

#[derive(Debug)]
pub(super) struct MemoryPool {
    free: Mutex<Vec<Vec<Block>>>,
    keep: usize,
}

impl MemoryPool {
    /// Keeps at most `keep` idle blocks; more are freed when they come back.
    pub(super) fn new(keep: usize) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// Runs `f` on at least `blocks` blocks of memory, which are wiped before they are kept:
    /// they held values derived from the password.
    pub(super) fn with<R>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut memory = self.take(blocks);
        let result = f(&mut memory);
        memory.iter_mut().for_each(Zeroize::zeroize);
        self.give_back(memory);
        result
    }

    fn take(&self, blocks: usize) -> Vec<Block> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        match free.iter().position(|m| m.len() == blocks) {
            Some(i) => free.swap_remove(i),
            None => {
                drop(free);
                vec![Block::new(); blocks]
            }
        }
    }

    fn give_back(&self, memory: Vec<Block>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.keep {
            free.push(memory);
        }
    }

    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
