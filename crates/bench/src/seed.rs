//! An organization made directly through the store: N accounts, each with an active
//! authenticator code method whose seed is sealed with the master key the server will read,
//! and sessions for a "hot" subset that the load uses.

use anyhow::{Context, Result};
use data_encoding::BASE32_NOPAD;
use sqlx::Executor;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tessera_core::account::Account;
use tessera_core::method::{Enrollment, Kind, KindContext, MethodStatus, authenticator_code};
use tessera_core::password::Argon2Passwords;
use tessera_core::session::{Session, SessionKind};
use tessera_core::{
    AccountId, AccountStatus, Clock, KeyRing, MethodId, OsRandom, SessionId, SystemClock, secret,
};
use tessera_store::{SeedRow, SqlStore};
use time::Duration;

/// Every seeded account's password.
pub const PASSWORD: &str = "bench: correct horse battery staple";

/// Rows per transaction: big enough that commits do not dominate, small enough to keep
/// memory flat at a million accounts.
const BATCH: u64 = 2_000;

pub fn username(index: u64) -> String {
    format!("user{index:07}@bench.example")
}

/// One hash with the server's default Argon2id parameters, shared by every account, so
/// seeding a million accounts does not cost a million hashes.
pub fn password_hash() -> Result<String> {
    Argon2Passwords::default()
        .hash_now(PASSWORD)
        .map_err(|e| anyhow::anyhow!("hashing the seed password: {e}"))
}

/// Writes a fresh master key file (mode 600) and returns its ring; the server reads it.
pub fn write_master_key(path: &Path) -> Result<KeyRing> {
    let ring = KeyRing::generate(&OsRandom);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(ring.to_file_text().as_bytes())?;
    file.sync_all()?;
    Ok(ring)
}

/// A seeded account the load signs in as and verifies codes for.
#[derive(Debug)]
pub struct HotAccount {
    pub index: u64,
    pub account_id: AccountId,
    pub method_id: MethodId,
    pub seed: Vec<u8>,
    /// A full session's bearer token.
    pub token: String,
    /// That session, which the forward-auth scenario's cookie is bound to.
    pub session_id: SessionId,
    /// The highest TOTP step used so far; a step is never sent twice.
    pub last_step: AtomicI64,
    /// Wrong codes sent so far.
    pub wrong: AtomicI64,
    /// A right code is on its way (see [`HotAccount::begin_verify`]).
    pub verifying: AtomicBool,
}

impl HotAccount {
    /// The next step this account can prove now (one step of skew each way, never one it
    /// used): `None` when it has used all three the server accepts at this moment. Near the
    /// end of a step the one before is skipped: it may have lapsed by the time the server
    /// checks it.
    pub fn claim_step(&self, unix_now: i64) -> Option<i64> {
        let step_secs = authenticator_code::STEP_SECS as i64;
        let now = unix_now / step_secs;
        let lowest = if unix_now % step_secs >= step_secs - 5 {
            now
        } else {
            now - 1
        };
        loop {
            let last = self.last_step.load(Ordering::Acquire);
            let next = (last + 1).max(lowest);
            if next > now + 1 {
                return None;
            }
            if self
                .last_step
                .compare_exchange(last, next, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(next);
            }
        }
    }

    /// As [`HotAccount::claim_step`], for an account with no code on its way; it has one then
    /// until [`HotAccount::end_verify`]. A person sends one code at a time: two in flight
    /// could arrive in the other order (the later step first), and the server rightly answers
    /// the earlier one as a replay.
    pub fn begin_verify(&self, unix_now: i64) -> Option<i64> {
        if self.verifying.swap(true, Ordering::AcqRel) {
            return None;
        }
        let step = self.claim_step(unix_now);
        if step.is_none() {
            self.end_verify();
        }
        step
    }

    pub fn end_verify(&self) {
        self.verifying.store(false, Ordering::Release);
    }

    /// The code an app shows for `step`.
    pub fn code(&self, step: i64) -> Result<String> {
        authenticator_code::code_at(
            &self.seed,
            (step * authenticator_code::STEP_SECS as i64) as u64,
        )
        .map_err(|e| anyhow::anyhow!("computing a code: {e}"))
    }

    /// A code that is surely wrong for every step the server accepts now.
    pub fn wrong_code(&self, unix_now: i64) -> Result<String> {
        let step = unix_now / authenticator_code::STEP_SECS as i64;
        let near: Vec<String> = (step - 1..=step + 1)
            .map(|s| self.code(s))
            .collect::<Result<_>>()?;
        let mut guess: u32 = near[1].parse().unwrap_or(0);
        loop {
            guess = (guess + 500_009) % 1_000_000;
            let candidate = format!("{guess:06}");
            if !near.contains(&candidate) {
                return Ok(candidate);
            }
        }
    }
}

#[derive(Debug)]
pub struct Org {
    pub accounts: u64,
    pub hot: Vec<HotAccount>,
}

/// Seeds `accounts` accounts; every `accounts / hot`-th one also gets a session and is
/// returned, so the load touches rows spread over the whole table.
pub async fn seed(
    store: &SqlStore,
    keys: &KeyRing,
    accounts: u64,
    hot: u64,
    mut progress: impl FnMut(u64),
) -> Result<Org> {
    let hash = password_hash()?;
    let clock = SystemClock;
    let rng = OsRandom;
    let stride = (accounts / hot.max(1)).max(1);
    let mut hot_accounts = Vec::new();
    let mut sessions = Vec::new();
    let mut start = 0;
    while start < accounts {
        let end = (start + BATCH).min(accounts);
        let now = clock.now();
        let ctx = KindContext {
            rng: &rng,
            keys,
            now,
            issuer: "Tessera bench",
            relying_party: None,
        };
        let mut rows = Vec::with_capacity((end - start) as usize);
        for index in start..end {
            let mut account = Account {
                id: AccountId::new(&rng),
                username: username(index),
                display_name: format!("User {index}"),
                password_hash: hash.clone(),
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
            // The real registration seals the seed, so a seeded method is the row a person
            // registering an app would have made.
            let (mut method, enrollment) = authenticator_code::register_begin(
                None,
                &account,
                MethodId::new(&rng),
                &ctx,
                Duration::minutes(10),
            )
            .map_err(|e| anyhow::anyhow!("registering a method: {e}"))?;
            method.status = MethodStatus::Active;
            method.expires_at = None;
            account.default_method = Some(method.id);
            if index % stride == 0 && (hot_accounts.len() as u64) < hot {
                let secret_base32 = match enrollment {
                    Enrollment::Totp { secret_base32, .. } => secret_base32,
                    #[allow(unreachable_patterns)]
                    _ => anyhow::bail!("an authenticator code registration without a seed"),
                };
                let seed = BASE32_NOPAD
                    .decode(secret_base32.trim_end_matches('=').as_bytes())
                    .context("decoding a seed")?;
                let token = secret::new_token(&rng);
                let session_id = SessionId::new(&rng);
                sessions.push((session_id, account.id, secret::token_hash(&token)));
                hot_accounts.push(HotAccount {
                    index,
                    account_id: account.id,
                    method_id: method.id,
                    seed,
                    token: token.to_string(),
                    session_id,
                    last_step: AtomicI64::new(i64::MIN / 2),
                    wrong: AtomicI64::new(0),
                    verifying: AtomicBool::new(false),
                });
            }
            rows.push(SeedRow {
                account,
                methods: vec![method],
            });
        }
        store
            .seed(&rows)
            .await
            .map_err(|e| anyhow::anyhow!("seeding accounts: {e:?}"))?;
        progress(end);
        start = end;
    }
    let now = clock.now();
    let sessions: Vec<Session> = sessions
        .into_iter()
        .map(|(id, account_id, token_hash)| Session {
            id,
            token_hash,
            account_id,
            kind: SessionKind::Full,
            flow_id: None,
            created_at: now,
            expires_at: now + Duration::hours(12),
            last_seen_at: now,
            // Signed in with a password and a code, as the token scenario's apps require.
            second_factor_at: Some(now),
            second_factor_kind: Some(Kind::AuthenticatorCode),
        })
        .collect();
    for chunk in sessions.chunks(BATCH as usize) {
        store
            .seed_sessions(chunk)
            .await
            .map_err(|e| anyhow::anyhow!("seeding sessions: {e:?}"))?;
    }
    Ok(Org {
        accounts,
        hot: hot_accounts,
    })
}

/// A fresh PostgreSQL database next to the one `admin_url` names; dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str, prefix: &str) -> Result<PgDatabase> {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url)
            .await
            .context("connecting to PostgreSQL")?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .context("creating the database")?;
        Ok(PgDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    pub async fn drop_now(&self) -> Result<()> {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&self.admin_url).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .await?;
        Ok(())
    }
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map(|(b, q)| (b, Some(q)))
        .unwrap_or((url, None));
    let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(base);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}
