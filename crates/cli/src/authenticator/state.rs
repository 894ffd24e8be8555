//! The reference authenticator's state file: its accounts, with their device keys and TOTP
//! secrets. It holds secrets, so it is created readable by its owner only (0600) and
//! replaced atomically (written beside, then renamed), so a crash never leaves half a file.

use crate::failure::{Failure, Outcome};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub accounts: Vec<Account>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// A short local name, unique in this file (`1`, `2`, …).
    pub id: String,
    /// The organization, as its server (or the otpauth URI) names it.
    pub issuer: String,
    pub username: String,
    pub totp: Totp,
    /// Present for an account activated for notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<Push>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totp {
    /// base32, without padding.
    pub secret: String,
    pub digits: u8,
    pub period: u64,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push {
    /// The server's URL, without a trailing slash.
    pub server: String,
    pub device_id: String,
    /// The bearer credential for the device API.
    pub credential: String,
    /// `ed25519` or `es256`.
    pub algorithm: String,
    /// The private key: Ed25519's 32-byte seed, or P-256's 32-byte scalar (base64url).
    pub private_key: String,
    /// The server's clock minus this machine's, in seconds, as last seen: answers are
    /// signed, and codes shown, on the server's time.
    #[serde(default)]
    pub clock_offset: i64,
}

impl Account {
    /// How lists and prompts name it.
    pub fn label(&self) -> String {
        format!("{}: {}", self.issuer, self.username)
    }

    /// Whether `wanted` names this account: its id, or a part of its label.
    pub fn matches(&self, wanted: &str) -> bool {
        let wanted = wanted.trim().to_lowercase();
        self.id == wanted || self.label().to_lowercase().contains(&wanted)
    }
}

impl State {
    /// The state at `path`; empty when the file does not exist yet.
    pub fn load(path: &Path) -> Outcome<State> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    version: VERSION,
                    accounts: Vec::new(),
                });
            }
            Err(e) => {
                return Err(Failure::Runtime(format!("{}: {e}", path.display())));
            }
        };
        let state: State = serde_json::from_str(&text)
            .map_err(|e| Failure::Usage(format!("{} is not a state file: {e}", path.display())))?;
        if state.version != VERSION {
            return Err(Failure::Usage(format!(
                "{} is version {} of the state file; this tessera reads version {VERSION}",
                path.display(),
                state.version
            )));
        }
        Ok(state)
    }

    /// Writes the state to `path`, readable by its owner only.
    pub fn save(&self, path: &Path) -> Outcome {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Failure::Runtime(format!("cannot write the state: {e}")))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::Runtime(format!("{}: {e}", dir.display())))?;
        }
        let temp = temp_path(path);
        let written = (|| -> std::io::Result<()> {
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            let mut file = open.open(&temp)?;
            // A file left by an older run may carry wider permissions: narrow them.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            Failure::Runtime(format!("{}: {e}", path.display()))
        })
    }

    /// A local id not used yet.
    pub fn next_id(&self) -> String {
        let mut n = self.accounts.len() + 1;
        while self.accounts.iter().any(|a| a.id == n.to_string()) {
            n += 1;
        }
        n.to_string()
    }

    /// The one account `wanted` names (any one when there is just one and none is named).
    pub fn find(&self, wanted: Option<&str>) -> Outcome<&Account> {
        let found: Vec<&Account> = match wanted {
            Some(w) => {
                // An exact id wins over a label that merely contains it.
                if let Some(a) = self.accounts.iter().find(|a| a.id == w.trim()) {
                    return Ok(a);
                }
                self.accounts.iter().filter(|a| a.matches(w)).collect()
            }
            None => self.accounts.iter().collect(),
        };
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(Failure::usage(
                "no such account (see `tessera authenticator list`)",
            )),
            _ => Err(Failure::usage(
                "more than one account matches; name one (see `tessera authenticator list`)",
            )),
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The default state file: `$XDG_CONFIG_HOME/tessera/authenticator.json`, else
/// `~/.config/tessera/authenticator.json`.
pub fn default_path() -> Outcome<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir)
            .join("tessera")
            .join("authenticator.json"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".config/tessera/authenticator.json"))
        .ok_or_else(|| Failure::usage("no home folder: choose a state file with --state FILE"))
}
