//! The per-account limit on password guesses: a growing wait (exponential backoff), not a
//! lock.
//!
//! Every check of an account password (sign-in, the verification API, changing one's own
//! password) first asks the store to count one more guess for the typed username. The first
//! ten failures in a row cost nothing; from the tenth on, each failure earns a wait, 30
//! seconds doubling up to 15 minutes, and a guess during the wait is answered `429
//! rate_limited` (with `retry_after`) *without the password being checked*, so a right
//! password is refused too. After the wait one more guess is checked. The right password
//! clears the count; a day without guesses forgets it.
//!
//! ```text
//!              wrong, n < 10                   guess before t: 429 rate_limited,
//!             ┌─────────┐                      not checked; t does not move
//!             ▼         │                           ┌──────────┐
//!          [open] ──────┘     wrong, n ≥ 10         ▼          │
//!           │  ▲  ───────────────────────────► [wait until t] ─┘
//!     right │  │                                    │
//!  password │  └────────────────────────────────────┘ t passes: the next guess is
//!           ▼                                          counted and checked
//!     count cleared (n = 0)          a day without guesses: n starts again at 0
//!
//!  n = failures in a row;  t = the failure's time + min(30 s · 2^(n − 10), 15 min)
//!  n:     1 … 9    10     11     12     13     14     ≥ 15
//!  wait:  none     30 s   1 min  2 min  4 min  8 min  15 min
//! ```
//!
//! An attacker who takes every guess the moment it is allowed gets 10 at once, 7 more in the
//! first hour (17 in all), then 4 an hour: about 110 in the first day, 96 a day after that.
//!
//! Why this scheme:
//!
//! - **Not a lock.** A lock after N failures (or NIST SP 800-63B §5.2.2's "no more than 100
//!   consecutive failed attempts" read as a lock) gives anyone who knows a username a button
//!   that locks its owner out. NIST lists a wait that grows as failures mount as the way to
//!   keep the attacker slow without that; at 4 guesses an hour the 100th failure in a row
//!   comes only after about a day, and each wait is at most 15 minutes.
//! - **The person keeps a way in.** The wait runs from the last *checked* failure and refused
//!   guesses do not move it, so hammering cannot push it further away: whoever guesses after
//!   the wait is checked, and the right password clears everything. Someone who mistypes a
//!   few times never waits at all.
//! - **Across addresses and nodes.** The per-address limits (`tessera_server::limits`) stop a
//!   flood from one address; 400 addresses walk past them. This count lives in the store,
//!   keyed by the typed username, so every address and every node shares it.
//! - **Parallel guesses cannot slip past.** As in [`crate::lockout`], a guess is counted as a
//!   failure *in advance*, in the one statement that decides whether it may go ahead; 64
//!   guesses at once at the ninth failure let exactly one through to the tenth.
//! - **No enumeration.** The key is a keyed hash (HMAC-SHA256 under a key derived from the
//!   master key) of the normalized typed username, known or not: an unknown name is counted,
//!   waits and answers exactly like a known one, and the table names nobody, not even a
//!   password typed into the username field.
//! - **A disabled account's right password counts as a failure.** It is answered as a wrong
//!   one (`invalid_credentials`); clearing the count would tell, by the next answer, that
//!   the password was right.
//! - **App passwords are not counted.** They are 16 random letters (about 2^75), so guessing
//!   one through the verification API's per-username budget is hopeless anyway, while a
//!   legacy app still trying a deleted one would otherwise keep its owner waiting at sign-in.
//!
//! What the audit keeps of a typed username follows the same rule: the username when it names
//! an account, otherwise only a short tag of the same keyed hash (`username_hash`, 16 hex
//! digits). A tag, not a truncation such as `pa…(12)`: people type passwords into the username
//! field, and a truncation would keep its first letters and its length. The tag keeps nothing
//! of the text, yet repeated attempts on one unknown name still show as one tag.

use crate::account::{Account, normalize_username};
use crate::error::{Error, Result};
use crate::service::Tessera;
use data_encoding::HEXLOWER;
use time::OffsetDateTime;

/// Failures in a row before the first wait (the tenth failure earns it).
pub const FREE_FAILURES: u32 = 10;
/// The wait the tenth failure earns; each later failure doubles it …
pub const FIRST_WAIT_SECS: i64 = 30;
/// … up to this.
pub const MAX_WAIT_SECS: i64 = 15 * 60;
/// A count whose last guess is this old starts again.
pub const FORGET_AFTER_SECS: i64 = 24 * 60 * 60;

const KEY_PURPOSE: &[u8] = b"password guesses: username";
/// Bytes of the keyed hash the audit keeps for an unknown username.
const AUDIT_TAG_BYTES: usize = 8;

/// When guesses must wait (the constants above, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessSchedule {
    /// The failure in a row that earns the first wait.
    pub free: u32,
    pub first_wait_secs: i64,
    pub max_wait_secs: i64,
    pub forget_after_secs: i64,
}

impl Default for GuessSchedule {
    fn default() -> Self {
        Self {
            free: FREE_FAILURES,
            first_wait_secs: FIRST_WAIT_SECS,
            max_wait_secs: MAX_WAIT_SECS,
            forget_after_secs: FORGET_AFTER_SECS,
        }
    }
}

impl GuessSchedule {
    /// The wait, in seconds, that the `failures`-th failure in a row earns. The store computes
    /// the same by doubling the previous wait.
    pub fn wait_after(&self, failures: u64) -> i64 {
        let max = self.max_wait_secs.max(0);
        let Some(doublings) = failures.checked_sub(u64::from(self.free)) else {
            return 0;
        };
        let mut wait = self.first_wait_secs.clamp(0, max);
        for _ in 0..doublings {
            if wait * 2 >= max {
                return max;
            }
            wait *= 2;
        }
        wait
    }
}

/// What the store answers when a guess asks to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuessGate {
    /// Counted in advance as the `failures`-th failure in a row; a right password clears it.
    Open { failures: u64 },
    /// Refused, unchecked, until the wait ends.
    Wait { until: OffsetDateTime },
}

/// What guesses are counted under: a keyed hash of the normalized typed username.
#[derive(Clone, PartialEq, Eq)]
pub struct GuessKey(Vec<u8>);

impl GuessKey {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for GuessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = &self.0[..self.0.len().min(4)];
        write!(f, "GuessKey({}…)", HEXLOWER.encode(head))
    }
}

/// A guess that was let through: it is a failure until [`Tessera::password_was_right`].
#[derive(Debug)]
pub(crate) struct PasswordGuess {
    key: GuessKey,
    /// This guess's place among the failures in a row, should it fail.
    pub(crate) failures: u64,
}

impl Tessera {
    /// The keyed hash of a typed username: normalized as usernames are, and as typed (trimmed,
    /// lowercase) when it is no valid username, so every string has one.
    fn username_mac(&self, typed: &str) -> Vec<u8> {
        use hmac::{KeyInit as _, Mac};
        let name = normalize_username(typed).unwrap_or_else(|_| typed.trim().to_lowercase());
        let key = self.keys.derive(KEY_PURPOSE);
        match hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_slice()) {
            Ok(mut mac) => {
                mac.update(name.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes a key of any length.
            Err(_) => Vec::new(),
        }
    }

    /// A short tag of the typed username that names nothing (see the module's header).
    pub(crate) fn username_tag(&self, typed: &str) -> String {
        let mac = self.username_mac(typed);
        HEXLOWER.encode(&mac[..mac.len().min(AUDIT_TAG_BYTES)])
    }

    /// What the audit keeps of a typed username: `{"username": …}` when it is `account`'s,
    /// `{"username_hash": …}` otherwise.
    pub(crate) fn typed_username_detail(
        &self,
        typed: &str,
        account: Option<&Account>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut detail = serde_json::Map::new();
        match account {
            Some(account) => detail.insert("username".into(), account.username.clone().into()),
            None => detail.insert("username_hash".into(), self.username_tag(typed).into()),
        };
        detail
    }

    /// Counts one guess at the password of `typed` (a username as typed) before it is
    /// checked. `RateLimited` while the wait of an earlier failure runs: the password must
    /// then not be checked at all.
    pub(crate) async fn begin_password_guess(&self, typed: &str) -> Result<PasswordGuess> {
        let key = GuessKey(self.username_mac(typed));
        let now = self.now();
        match self
            .store
            .begin_password_guess(&key, now, &GuessSchedule::default())
            .await?
        {
            GuessGate::Open { failures } => Ok(PasswordGuess { key, failures }),
            GuessGate::Wait { until } => Err(Error::RateLimited {
                retry_after: (until - now).whole_seconds().max(1) as u64,
            }),
        }
    }

    /// A new password was set (a reset, or an admin's temporary one): the guesses at the old
    /// one no longer keep its owner waiting.
    pub(crate) async fn forget_password_guesses(&self, username: &str) -> Result<()> {
        let key = GuessKey(self.username_mac(username));
        self.store.clear_password_guesses(&key).await?;
        Ok(())
    }

    /// The guess was the right password (of an account that may use it): the count clears.
    pub(crate) async fn password_was_right(&self, guess: &PasswordGuess) -> Result<()> {
        self.store.clear_password_guesses(&guess.key).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_tenth_failure_up_to_fifteen_minutes() {
        let s = GuessSchedule::default();
        let waits: Vec<i64> = (1..=17).map(|n| s.wait_after(n)).collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900
            ]
        );
        assert_eq!(s.wait_after(u64::MAX), 900);
    }

    #[test]
    fn an_attacker_gets_far_fewer_than_a_hundred_guesses_an_hour() {
        let s = GuessSchedule::default();
        // Every guess taken the moment it is allowed, all wrong.
        let (mut t, mut n, mut in_first_hour) = (0_i64, 0_u64, 0);
        while t < 3600 {
            n += 1;
            in_first_hour += 1;
            t += s.wait_after(n);
        }
        assert_eq!(in_first_hour, 17);
        let mut in_second_hour = 0;
        while t < 7200 {
            n += 1;
            in_second_hour += 1;
            t += s.wait_after(n);
        }
        assert_eq!(in_second_hour, 4);
    }
}
