//! Importing from CSV: accounts, and hardware OATH TOTP tokens in the layout most token
//! vendors ship (`upn,serial number,secret key,time interval,manufacturer,model`).
//!
//! Every row stands alone: a bad row is reported (with its line) and the others go ahead, so
//! an admin fixes the few rows that failed and imports those again. Parsing is separate from
//! importing, so a command line can show progress row by row.
//!
//! An imported token is a pending `authenticator_code` method of its account; the person
//! activates it on the security info page by typing one code from it.

use crate::account::{self, Account};
use crate::admin::{Admin, NewTemporaryAccount};
use crate::audit::AuditAction;
use crate::error::{Error, Problem, Result, StoreError};
use crate::ids::MethodId;
use crate::method::authenticator_code;
use crate::password::validate_new_password;
use crate::store::admin::HardwareToken;
use data_encoding::{BASE32_NOPAD_NOCASE, Encoding};
use std::sync::LazyLock;
use zeroize::Zeroizing;

/// Why one row was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// Not readable as CSV: a different number of fields than the header, or bad quoting.
    Unreadable,
    /// A field is wrong; `field` is the column.
    Field {
        field: &'static str,
        problem: Problem,
    },
    /// No account has this username.
    UnknownAccount,
    /// An account with this username exists already.
    UsernameTaken,
    /// A token with this serial number is already assigned (maybe by an earlier row).
    SerialTaken,
}

impl RowProblem {
    /// A stable code, for the API's per-row report.
    pub fn code(&self) -> &'static str {
        match self {
            RowProblem::Unreadable => "unreadable",
            RowProblem::Field { .. } => "bad_field",
            RowProblem::UnknownAccount => "unknown_account",
            RowProblem::UsernameTaken => "username_taken",
            RowProblem::SerialTaken => "serial_taken",
        }
    }

    fn from_error(e: Error) -> Result<Self> {
        match e {
            Error::BadRequest { field, problem } => Ok(RowProblem::Field { field, problem }),
            Error::NotFound => Ok(RowProblem::UnknownAccount),
            other => Err(other),
        }
    }
}

/// One data row: its line in the file, what it is about (the username), and what was read.
#[derive(Debug)]
pub struct Row<T> {
    pub line: u64,
    pub key: String,
    pub record: std::result::Result<T, RowProblem>,
}

/// A hardware token as the file describes it.
pub struct TokenRecord {
    pub upn: String,
    pub serial: String,
    pub seed: Zeroizing<Vec<u8>>,
    pub step_secs: u64,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("upn", &self.upn)
            .field("serial", &self.serial)
            .finish()
    }
}

/// An account as the file describes it.
#[derive(Debug)]
pub struct AccountRecord {
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub is_admin: bool,
    /// A temporary password; one is generated when the column is empty.
    pub password: Option<Zeroizing<String>>,
}

/// Column names as written, folded: `Serial_Number` and `serial number` are one column.
fn fold(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A row's fields in the order of the columns asked for, or why it could not be read.
type Fields = std::result::Result<Vec<Option<String>>, RowProblem>;

/// The rows of `text` as (line, fields by column name), or a missing required column.
fn read(
    text: &str,
    columns: &[(&'static str, &[&str])],
    required: &[&'static str],
) -> Result<Vec<(u64, Fields)>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| Error::bad("csv", Problem::Invalid))?
        .iter()
        .map(fold)
        .collect();
    let index: Vec<Option<usize>> = columns
        .iter()
        .map(|(_, names)| header.iter().position(|h| names.contains(&h.as_str())))
        .collect();
    for (name, at) in columns.iter().map(|(n, _)| n).zip(&index) {
        if at.is_none() && required.contains(name) {
            return Err(Error::bad(name, Problem::Required));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields = index
                    .iter()
                    .map(|at| {
                        at.and_then(|i| record.get(i))
                            .map(str::to_string)
                            .filter(|v| !v.is_empty())
                    })
                    .collect();
                rows.push((line, Ok(fields)));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                rows.push((line, Err(RowProblem::Unreadable)));
            }
        }
    }
    Ok(rows)
}

/// RFC 4648 Base32, as typed: case, spaces, dashes and padding ignored. `None` when another
/// character appears. Trailing bits are dropped, as token vendors' files often carry some.
pub fn decode_base32(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut symbols: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '='))
            .collect(),
    );
    // A length no Base32 text has (1, 3 or 6 past a block of 8) ends in a symbol that
    // completes no byte: it is trailing bits too, dropped once known to be a symbol.
    if matches!(symbols.len() % 8, 1 | 3 | 6) {
        let last = symbols.pop()?;
        if !last.is_ascii_alphabetic() && !('2'..='7').contains(&last) {
            return None;
        }
    }
    LENIENT_BASE32
        .as_ref()?
        .decode(symbols.as_bytes())
        .ok()
        .map(Zeroizing::new)
}

/// RFC 4648 Base32 in either case, without padding, keeping no trailing bits.
static LENIENT_BASE32: LazyLock<Option<Encoding>> = LazyLock::new(|| {
    let mut spec = BASE32_NOPAD_NOCASE.specification();
    spec.check_trailing_bits = false;
    spec.encoding().ok()
});

const TOKEN_COLUMNS: [(&str, &[&str]); 6] = [
    ("upn", &["upn", "username", "user"]),
    (
        "serial_number",
        &["serial number", "serial", "serialnumber"],
    ),
    ("secret_key", &["secret key", "secret", "secretkey", "seed"]),
    (
        "time_interval",
        &["time interval", "timeinterval", "interval", "period"],
    ),
    ("manufacturer", &["manufacturer"]),
    ("model", &["model"]),
];

/// Reads a token file. A header row is required, with at least `upn`, `serial number` and
/// `secret key` (Base32); `time interval` is 30 or 60 seconds (30 when absent).
pub fn parse_tokens(text: &str) -> Result<Vec<Row<TokenRecord>>> {
    let rows = read(
        text,
        &TOKEN_COLUMNS,
        &["upn", "serial_number", "secret_key"],
    )?;
    Ok(rows
        .into_iter()
        .map(|(line, fields)| {
            let key = fields
                .as_ref()
                .ok()
                .and_then(|f| f.first().cloned().flatten())
                .unwrap_or_default();
            Row {
                line,
                key,
                record: fields.and_then(token_record),
            }
        })
        .collect())
}

fn token_record(f: Vec<Option<String>>) -> std::result::Result<TokenRecord, RowProblem> {
    let field = |i: usize| f.get(i).cloned().flatten();
    let required = |i: usize, name: &'static str| {
        field(i).ok_or(RowProblem::Field {
            field: name,
            problem: Problem::Required,
        })
    };
    let upn = required(0, "upn")?;
    let serial = required(1, "serial_number")?;
    let invalid = |field: &'static str| RowProblem::Field {
        field,
        problem: Problem::Invalid,
    };
    if serial.chars().count() > 64 || serial.chars().any(char::is_control) {
        return Err(invalid("serial_number"));
    }
    let seed = decode_base32(&required(2, "secret_key")?).ok_or(invalid("secret_key"))?;
    let step_secs = match field(3) {
        None => 30,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|s| authenticator_code::HARDWARE_STEPS.contains(s))
            .ok_or(invalid("time_interval"))?,
    };
    Ok(TokenRecord {
        upn,
        serial,
        seed,
        step_secs,
        manufacturer: field(4),
        model: field(5),
    })
}

const ACCOUNT_COLUMNS: [(&str, &[&str]); 5] = [
    ("username", &["username", "upn", "user"]),
    ("display_name", &["display name", "displayname", "name"]),
    ("email", &["email", "e mail", "mail"]),
    ("admin", &["admin", "is admin"]),
    ("password", &["password", "temporary password"]),
];

/// Reads an account file: a header row with `username` (or `upn`), and optionally
/// `display name`, `email`, `admin` (yes/no) and `password` (a temporary one).
pub fn parse_accounts(text: &str) -> Result<Vec<Row<AccountRecord>>> {
    let rows = read(text, &ACCOUNT_COLUMNS, &["username"])?;
    Ok(rows
        .into_iter()
        .map(|(line, fields)| {
            let key = fields
                .as_ref()
                .ok()
                .and_then(|f| f.first().cloned().flatten())
                .unwrap_or_default();
            Row {
                line,
                key,
                record: fields.and_then(account_record),
            }
        })
        .collect())
}

fn account_record(f: Vec<Option<String>>) -> std::result::Result<AccountRecord, RowProblem> {
    let field = |i: usize| f.get(i).cloned().flatten();
    let username = field(0).ok_or(RowProblem::Field {
        field: "username",
        problem: Problem::Required,
    })?;
    let is_admin = match field(3).map(|v| v.to_lowercase()).as_deref() {
        None | Some("no" | "false" | "0" | "n") => false,
        Some("yes" | "true" | "1" | "y") => true,
        Some(_) => {
            return Err(RowProblem::Field {
                field: "admin",
                problem: Problem::Invalid,
            });
        }
    };
    Ok(AccountRecord {
        username,
        display_name: field(1),
        email: field(2),
        is_admin,
        password: field(4).map(Zeroizing::new),
    })
}

/// The name a token goes by in lists: `Contoso HardwareKey 1234567`.
fn token_name(record: &TokenRecord) -> String {
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(record.manufacturer.as_deref());
    parts.extend(record.model.as_deref());
    parts.push(&record.serial);
    let name = parts.join(" ");
    name.chars().take(authenticator_code::NAME_MAX).collect()
}

impl Admin<'_> {
    /// Assigns one token to its account, pending until the person types a code from it.
    /// `Ok(Err(_))` is a problem with the row; `Err(_)` a failure of the server.
    pub async fn import_token(
        &self,
        record: &TokenRecord,
    ) -> Result<std::result::Result<MethodId, RowProblem>> {
        let t = self.tessera();
        let account: Account = match self.account(&record.upn).await {
            Ok(a) => a,
            Err(e) => return RowProblem::from_error(e).map(Err),
        };
        let id = MethodId::new(t.rng.as_ref());
        let method = match authenticator_code::hardware_token(
            &record.seed,
            &record.serial,
            record.step_secs,
            Some(token_name(record)),
            &account,
            id,
            &t.kind_context(),
        ) {
            Ok(m) => m,
            Err(e) => return RowProblem::from_error(e).map(Err),
        };
        let token = HardwareToken {
            serial: record.serial.clone(),
            manufacturer: record.manufacturer.clone(),
            model: record.model.clone(),
            imported_at: t.now(),
        };
        let audit = self
            .audit_with(
                Some(account.id),
                AuditAction::HardwareTokenAssigned,
                serde_json::json!({ "serial": record.serial, "time_interval": record.step_secs }),
            )
            .method(id);
        match t.store.insert_hardware_token(&method, &token, &audit).await {
            Ok(()) => Ok(Ok(id)),
            Err(StoreError::Conflict(_)) => Ok(Err(RowProblem::SerialTaken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates one account with a temporary password (the file's, or a generated one, which
    /// is returned to hand over). `Ok(Err(_))` is a problem with the row.
    pub async fn import_account(
        &self,
        record: &AccountRecord,
    ) -> Result<std::result::Result<(Account, Zeroizing<String>), RowProblem>> {
        if let Some(password) = &record.password {
            let username = account::normalize_username(&record.username).unwrap_or_default();
            if let Err(e) = validate_new_password(password, &username) {
                return RowProblem::from_error(e).map(Err);
            }
        }
        let new = NewTemporaryAccount {
            username: record.username.clone(),
            display_name: record.display_name.clone(),
            email: record.email.clone(),
            is_admin: record.is_admin,
            password: record.password.clone(),
        };
        match self.create_account_with_temporary_password(new).await {
            Ok(created) => Ok(Ok(created)),
            Err(Error::BadRequest {
                field: "username",
                problem: Problem::Taken,
            }) => Ok(Err(RowProblem::UsernameTaken)),
            Err(e) => RowProblem::from_error(e).map(Err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_read_leniently() {
        let seed = decode_base32("2234567abcdef2234567abcdef").map(|s| s.to_vec());
        assert_eq!(seed.as_ref().map(Vec::len), Some(16));
        assert_eq!(
            decode_base32("GEZD GNBV-GY3T QOJQ====").map(|s| s.to_vec()),
            Some(b"1234567890".to_vec())
        );
        assert!(decode_base32("not base32!").is_none());
        // Lengths no encoder makes: the last symbol's bits complete no byte.
        let odd = |t: &str| decode_base32(t).map(|s| s.to_vec());
        assert_eq!(odd("A"), Some(vec![]));
        assert_eq!(odd("gez"), Some(vec![b'1']));
        assert_eq!(odd("GEZDGN"), Some(b"123".to_vec()));
        assert_eq!(odd("GE!"), None);
    }

    #[test]
    fn the_vendor_layout_reads_with_any_case_and_a_byte_order_mark() {
        let text = "\u{feff}UPN,Serial Number,Secret Key,Time Interval,Manufacturer,Model\n\
                    helga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
                    bob@contoso.com,7654321,2234567abcdef2234567abcdef,45,Contoso,HardwareKey\n\
                    carol@contoso.com,1111111,***,30,Contoso,HardwareKey\n\
                    dave@contoso.com,2222222\n";
        let rows = parse_tokens(text).unwrap_or_default();
        assert_eq!(rows.len(), 4);
        let first = rows[0].record.as_ref().ok();
        assert_eq!(first.map(|r| (r.step_secs, r.seed.len())), Some((60, 16)));
        assert_eq!(
            first.map(token_name).as_deref(),
            Some("Contoso HardwareKey 1234567")
        );
        assert_eq!(
            (rows[0].line, rows[0].key.as_str()),
            (2, "helga@contoso.com")
        );
        let problem = |i: usize| rows[i].record.as_ref().err().cloned();
        assert_eq!(
            problem(1),
            Some(RowProblem::Field {
                field: "time_interval",
                problem: Problem::Invalid
            })
        );
        assert_eq!(
            problem(2),
            Some(RowProblem::Field {
                field: "secret_key",
                problem: Problem::Invalid
            })
        );
        assert_eq!(problem(3), Some(RowProblem::Unreadable));
        assert_eq!(rows[3].line, 5);
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused_whole() {
        assert!(matches!(
            parse_tokens("user,serial number\nx,1\n"),
            Err(Error::BadRequest {
                field: "secret_key",
                ..
            })
        ));
        assert!(matches!(
            parse_accounts("name,email\nA,a@example.org\n"),
            Err(Error::BadRequest {
                field: "username",
                ..
            })
        ));
    }

    #[test]
    fn account_rows_read_the_admin_flag() {
        let rows = parse_accounts(
            "username,display name,email,admin,password\n\
             ann@example.org,Ann,ann@example.org,yes,\n\
             ben@example.org,,,maybe,\n",
        )
        .unwrap_or_default();
        assert_eq!(
            rows[0]
                .record
                .as_ref()
                .ok()
                .map(|r| (r.is_admin, r.password.is_none())),
            Some((true, true))
        );
        assert!(rows[1].record.is_err());
    }
}
