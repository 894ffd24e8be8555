//! The reads every request makes, on a reader (see [`super::Lite::read`]).

use rusqlite::Connection;
use tessera_core::method::Method;
use tessera_core::store::{SessionAuth, StoreResult};
use tessera_core::{AccountId, MethodId};

use super::{all, first};
use crate::rows::{AccountRow, MethodRow, SessionRow};
use crate::{methods, sessions};

pub(crate) fn session_auth(conn: &Connection, hash: &[u8]) -> StoreResult<Option<SessionAuth>> {
    let row = first(conn, sessions::SESSION_AUTH, &[&hash], |row| {
        Ok((
            SessionRow::lite(row, 0)?,
            AccountRow::lite(row, SessionRow::COLUMNS)?,
            row.get::<_, i64>(SessionRow::COLUMNS + AccountRow::COLUMNS)?,
        ))
    })?;
    row.map(sessions::session_auth_of).transpose()
}

pub(crate) fn method(conn: &Connection, id: MethodId) -> StoreResult<Option<Method>> {
    first(conn, methods::SELECT_BY_ID, &[&id.to_string()], |row| {
        MethodRow::lite(row, 0)
    })?
    .map(Method::try_from)
    .transpose()
}

pub(crate) fn methods_of(conn: &Connection, account: AccountId) -> StoreResult<Vec<Method>> {
    all(
        conn,
        methods::SELECT_OF_ACCOUNT,
        &[&account.to_string()],
        |row| MethodRow::lite(row, 0),
    )?
    .into_iter()
    .map(Method::try_from)
    .collect()
}
