//! Rows as the database returns them, and their conversion to and from the domain types.
//!
//! Columns are portable: ids are uuid TEXT, times are BIGINT unix seconds, flags are BIGINT
//! 0/1 and enums are their `as_str()` names. Anything that does not read back is `Corrupt`,
//! named after the column, so a log line says where to look.

use std::str::FromStr;

use tessera_core::account::{Account, AccountSource, AccountStatus};
use tessera_core::audit::{AuditAction, AuditEvent};
use tessera_core::flow::{FlowState, SignInFlow};
use tessera_core::method::way::Way;
use tessera_core::method::{Kind, Method, MethodData, MethodStatus};
use tessera_core::session::{Session, SessionKind};
use tessera_core::store::StoreResult;
use tessera_core::{AccountId, StoreError};
use time::OffsetDateTime;

/// Unix seconds, the stored form of every time.
pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(column)
}

pub(crate) fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn secs_opt(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(secs)
}

pub(crate) fn time(secs: i64, column: &'static str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::Corrupt(column))
}

fn time_opt(secs: Option<i64>, column: &'static str) -> StoreResult<Option<OffsetDateTime>> {
    secs.map(|s| time(s, column)).transpose()
}

pub(crate) fn lock_end(secs: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
    time_opt(secs, "methods.locked_until")
}

pub(crate) fn id<T: FromStr>(text: &str, column: &'static str) -> StoreResult<T> {
    text.parse().map_err(|_| StoreError::Corrupt(column))
}

fn id_opt<T: FromStr>(text: Option<&str>, column: &'static str) -> StoreResult<Option<T>> {
    text.map(|t| id(t, column)).transpose()
}

fn kind_opt(text: Option<&str>, column: &'static str) -> StoreResult<Option<Kind>> {
    text.map(|t| parsed(Kind::parse(t), column)).transpose()
}

fn parsed<T>(value: Option<T>, column: &'static str) -> StoreResult<T> {
    value.ok_or(StoreError::Corrupt(column))
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Serialising our own types to JSON cannot fail in practice; if it ever did, it is ours.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// A row as the database returns it: read by column name through sqlx (`FromRow`), and by
/// position, from `first` on in the field order, out of a wider row (`at`, a join through
/// sqlx) or out of SQLite directly (`lite`, see `crate::lite`).
macro_rules! row {
    ($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[derive(sqlx::FromRow)]
        pub(crate) struct $name {
            $($field: $ty),*
        }

        #[allow(dead_code, reason = "not every row is read out of a wider one")]
        impl $name {
            /// How many columns it takes.
            pub(crate) const COLUMNS: usize = [$(stringify!($field)),*].len();

            pub(crate) fn at(row: &sqlx::any::AnyRow, first: usize) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                let mut next = first;
                Ok(Self {
                    $($field: {
                        next += 1;
                        row.try_get::<$ty, _>(next - 1)?
                    }),*
                })
            }

            pub(crate) fn lite(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
                let mut next = first;
                Ok(Self {
                    $($field: {
                        next += 1;
                        row.get::<_, $ty>(next - 1)?
                    }),*
                })
            }
        }
    };
}

row! {
    AccountRow {
        id: String,
        username: String,
        display_name: String,
        password_hash: String,
        locale: Option<String>,
        browser_locale: Option<String>,
        status: String,
        is_admin: i64,
        email: Option<String>,
        default_method_id: Option<String>,
        created_at: i64,
        source: String,
        external_id: Option<String>,
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> StoreResult<Account> {
        Ok(Account {
            id: id(&row.id, "accounts.id")?,
            username: row.username,
            display_name: row.display_name,
            password_hash: row.password_hash,
            locale: row.locale,
            browser_locale: row.browser_locale,
            status: parsed(AccountStatus::parse(&row.status), "accounts.status")?,
            is_admin: row.is_admin != 0,
            email: row.email,
            default_method: id_opt(
                row.default_method_id.as_deref(),
                "accounts.default_method_id",
            )?,
            created_at: time(row.created_at, "accounts.created_at")?,
            source: parsed(AccountSource::parse(&row.source), "accounts.source")?,
            external_id: row.external_id,
        })
    }
}

row! {
    MethodRow {
        id: String,
        account_id: String,
        kind: String,
        status: String,
        name: Option<String>,
        data: String,
        sealed_secret: Option<Vec<u8>>,
        created_at: i64,
        last_used_at: Option<i64>,
        expires_at: Option<i64>,
        last_step: Option<i64>,
        failures: i64,
        locked_until: Option<i64>,
        registered_by: Option<String>,
        way: Option<String>,
    }
}

impl TryFrom<MethodRow> for Method {
    type Error = StoreError;

    fn try_from(row: MethodRow) -> StoreResult<Method> {
        let data: MethodData =
            serde_json::from_str(&row.data).map_err(|_| StoreError::Corrupt("methods.data"))?;
        Ok(Method {
            id: id(&row.id, "methods.id")?,
            account_id: id(&row.account_id, "methods.account_id")?,
            kind: parsed(Kind::parse(&row.kind), "methods.kind")?,
            status: parsed(MethodStatus::parse(&row.status), "methods.status")?,
            name: row.name,
            data,
            sealed_secret: row.sealed_secret,
            created_at: time(row.created_at, "methods.created_at")?,
            last_used_at: time_opt(row.last_used_at, "methods.last_used_at")?,
            expires_at: time_opt(row.expires_at, "methods.expires_at")?,
            last_step: row.last_step,
            failures: u32::try_from(row.failures)
                .map_err(|_| StoreError::Corrupt("methods.failures"))?,
            locked_until: lock_end(row.locked_until)?,
            registered_by: id_opt(row.registered_by.as_deref(), "methods.registered_by")?,
            way: row
                .way
                .map(|w| parsed(Way::parse(&w), "methods.way"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FlowRow {
    id: String,
    account_id: String,
    state: String,
    created_at: i64,
    expires_at: i64,
    approved_kind: Option<String>,
}

impl TryFrom<FlowRow> for SignInFlow {
    type Error = StoreError;

    fn try_from(row: FlowRow) -> StoreResult<SignInFlow> {
        Ok(SignInFlow {
            id: id(&row.id, "sign_in_flows.id")?,
            account_id: id(&row.account_id, "sign_in_flows.account_id")?,
            state: parsed(FlowState::parse(&row.state), "sign_in_flows.state")?,
            created_at: time(row.created_at, "sign_in_flows.created_at")?,
            expires_at: time(row.expires_at, "sign_in_flows.expires_at")?,
            approved_kind: kind_opt(row.approved_kind.as_deref(), "sign_in_flows.approved_kind")?,
        })
    }
}

row! {
    SessionRow {
        id: String,
        token_hash: Vec<u8>,
        account_id: String,
        kind: String,
        flow_id: Option<String>,
        created_at: i64,
        expires_at: i64,
        last_seen_at: i64,
        second_factor_at: Option<i64>,
        second_factor_kind: Option<String>,
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> StoreResult<Session> {
        Ok(Session {
            id: id(&row.id, "sessions.id")?,
            token_hash: row.token_hash,
            account_id: id(&row.account_id, "sessions.account_id")?,
            kind: parsed(SessionKind::parse(&row.kind), "sessions.kind")?,
            flow_id: id_opt(row.flow_id.as_deref(), "sessions.flow_id")?,
            created_at: time(row.created_at, "sessions.created_at")?,
            expires_at: time(row.expires_at, "sessions.expires_at")?,
            last_seen_at: time(row.last_seen_at, "sessions.last_seen_at")?,
            second_factor_at: time_opt(row.second_factor_at, "sessions.second_factor_at")?,
            second_factor_kind: kind_opt(
                row.second_factor_kind.as_deref(),
                "sessions.second_factor_kind",
            )?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: String,
    at: i64,
    account_id: Option<String>,
    action: String,
    method_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> StoreResult<AuditEvent> {
        let account_id: Option<AccountId> =
            id_opt(row.account_id.as_deref(), "audit_events.account_id")?;
        Ok(AuditEvent {
            id: id(&row.id, "audit_events.id")?,
            at: time(row.at, "audit_events.at")?,
            account_id,
            action: parsed(AuditAction::parse(&row.action), "audit_events.action")?,
            method_id: id_opt(row.method_id.as_deref(), "audit_events.method_id")?,
            ip: row.ip,
            user_agent: row.user_agent,
            detail: serde_json::from_str(&row.detail)
                .map_err(|_| StoreError::Corrupt("audit_events.detail"))?,
        })
    }
}
