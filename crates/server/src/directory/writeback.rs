//! Setting a person's password in the directory, for a self-service reset (issue #19): the
//! caller has already passed every gate and Tessera's own password rules, and changes nothing
//! in its own store unless this succeeds. OpenLDAP, 389 and FreeIPA take the Password Modify
//! extended operation (RFC 3062), so the directory hashes the password and applies its own
//! policy; Active Directory takes `unicodePwd` over TLS.

use super::ldap::{LdapDirectory, classify};
use super::ppolicy;
use super::{Directory, DirectoryError, DirectoryKind, Security};
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, Mod};
use std::collections::HashSet;
use std::time::Duration;
use tessera_core::directory::ChangeFailure;
use zeroize::Zeroizing;

/// Active Directory's `unicodePwd` value: the password in double quotes, UTF-16LE
/// ([MS-ADTS] 3.1.1.3.1.5). Zeroized on drop, like the password.
pub fn unicode_pwd(password: &str) -> Zeroizing<Vec<u8>> {
    let quoted = Zeroizing::new(format!("\"{password}\""));
    Zeroizing::new(
        quoted
            .encode_utf16()
            .flat_map(|unit| unit.to_le_bytes())
            .collect(),
    )
}

impl LdapDirectory {
    /// Sets `username`'s password to `new` as the service account (a reset: the old password
    /// is not known). A refusal by the directory's password policy is `Refused` with its reason.
    pub(super) async fn write_reset(
        &self,
        username: &str,
        new: &str,
    ) -> Result<(), DirectoryError> {
        refuse_empty(new)?;
        let config = self.config();
        if config.kind == DirectoryKind::ActiveDirectory {
            tls_for_unicode_pwd(config.security)?;
        }
        // The lookup may be tried again on a new connection; the write never is: the first
        // might have been applied, and a second would then meet the password history.
        let (mut conn, person) = loop {
            let mut conn = self.checkout().await?;
            match self.lookup(&mut conn.ldap, username).await {
                Ok(person) => break (conn, person),
                Err(e) => {
                    let failed: Result<(), _> = Err(e);
                    if !self.check_in(conn, &failed) {
                        return failed;
                    }
                }
            }
        };
        let ldap = &mut conn.ldap;
        let timeout = config.operation_timeout;
        let written = match config.kind {
            DirectoryKind::OpenLdap | DirectoryKind::FreeIpa => {
                let request = PasswordModify {
                    user_id: Some(&person.dn),
                    old_pass: None,
                    new_pass: Some(new),
                };
                password_modify(ldap, timeout, request).await
            }
            DirectoryKind::ActiveDirectory => {
                modify(ldap, timeout, &person.dn, ad_reset(new)).await
            }
        };
        self.check_in(conn, &written);
        written
    }
}

impl LdapDirectory {
    /// The person changing their own password: bound as them with the current one, so the
    /// directory checks it and applies its policy to them (history, minimum age) as it would
    /// for a change at a workstation. A wrong current password is `InvalidCredentials`.
    pub(super) async fn write_change(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<(), ChangeFailure> {
        refuse_empty(new)?;
        if current.is_empty() {
            return Err(DirectoryError::InvalidCredentials.into());
        }
        let config = self.config();
        if config.kind == DirectoryKind::ActiveDirectory {
            tls_for_unicode_pwd(config.security)?;
        }
        let person = self.find(username).await?;
        // Bound as the person on a connection of its own: the bind checks `current`.
        let mut ldap = self.connect().await?;
        let written = async {
            self.bind(&mut ldap, &person.dn, current).await?;
            // From here on `current` is known right: whatever fails, fails after the bind.
            let timeout = config.operation_timeout;
            let written = match config.kind {
                DirectoryKind::OpenLdap | DirectoryKind::FreeIpa => {
                    let request = PasswordModify {
                        user_id: None,
                        old_pass: Some(current),
                        new_pass: Some(new),
                    };
                    password_modify(&mut ldap, timeout, request).await
                }
                DirectoryKind::ActiveDirectory => {
                    modify(&mut ldap, timeout, &person.dn, ad_change(current, new)).await
                }
            };
            written.map_err(ChangeFailure::after_bind)
        }
        .await;
        let _ = ldap.unbind().await;
        written
    }
}

/// Active Directory's reset: the new `unicodePwd` replaces the old, as the service account
/// may (it needs the Reset Password right), and `lockoutTime` 0 ends a lock-out from wrong
/// passwords, as the help desk's "reset password" does.
pub fn ad_reset(new: &str) -> Vec<Mod<Vec<u8>>> {
    vec![
        Mod::Replace(
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(new).to_vec()]),
        ),
        Mod::Replace(b"lockoutTime".to_vec(), HashSet::from([b"0".to_vec()])),
    ]
}

/// Active Directory's change by the person: a delete of the old value and an add of the new
/// one in one modify ([MS-ADTS] 3.1.1.3.1.5.1), which AD takes as a change, not a reset, and
/// checks against the history and minimum age.
pub fn ad_change(current: &str, new: &str) -> Vec<Mod<Vec<u8>>> {
    vec![
        Mod::Delete(
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(current).to_vec()]),
        ),
        Mod::Add(
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(new).to_vec()]),
        ),
    ]
}

fn refuse_empty(new: &str) -> Result<(), DirectoryError> {
    if new.is_empty() {
        return Err(DirectoryError::Refused {
            reason: "empty password".into(),
        });
    }
    Ok(())
}

/// AD refuses `unicodePwd` on an unprotected connection; say why here rather than pass on its
/// cryptic "unwilling to perform".
fn tls_for_unicode_pwd(security: Security) -> Result<(), DirectoryError> {
    if security == Security::Plain {
        return Err(DirectoryError::Refused {
            reason: "Active Directory sets passwords only over TLS".into(),
        });
    }
    Ok(())
}

/// RFC 3062 Password Modify, with the password policy control so that slapd says which rule
/// refused the password.
async fn password_modify(
    ldap: &mut Ldap,
    timeout: Duration,
    request: PasswordModify<'_>,
) -> Result<(), DirectoryError> {
    ldap.with_controls(ppolicy::request())
        .with_timeout(timeout)
        .extended(request)
        .await
        .and_then(|r| r.success())
        .map(|_| ())
        .map_err(ppolicy::classify_with_policy)
}

/// One modify of the entry's password attributes (AD's `unicodePwd`).
async fn modify(
    ldap: &mut Ldap,
    timeout: Duration,
    dn: &str,
    mods: Vec<Mod<Vec<u8>>>,
) -> Result<(), DirectoryError> {
    ldap.with_timeout(timeout)
        .modify(dn, mods)
        .await
        .and_then(|r| r.success())
        .map(|_| ())
        .map_err(classify)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::config::for_tests;

    /// `unicodePwd`'s value for `password`, spelled out: quoted, UTF-16LE.
    fn quoted_utf16(password: &str) -> Vec<u8> {
        let mut value = vec![b'"', 0];
        for c in password.bytes() {
            value.extend([c, 0]);
        }
        value.extend([b'"', 0]);
        value
    }

    #[test]
    fn an_ad_reset_replaces_unicode_pwd_and_ends_the_lock_out() {
        assert_eq!(
            ad_reset("New-pw-1"),
            vec![
                Mod::Replace(
                    b"unicodePwd".to_vec(),
                    HashSet::from([quoted_utf16("New-pw-1")])
                ),
                Mod::Replace(b"lockoutTime".to_vec(), HashSet::from([b"0".to_vec()])),
            ]
        );
    }

    #[test]
    fn an_ad_change_deletes_the_old_value_and_adds_the_new_one() {
        assert_eq!(
            ad_change("Old-pw-1", "New-pw-2"),
            vec![
                Mod::Delete(
                    b"unicodePwd".to_vec(),
                    HashSet::from([quoted_utf16("Old-pw-1")])
                ),
                Mod::Add(
                    b"unicodePwd".to_vec(),
                    HashSet::from([quoted_utf16("New-pw-2")])
                ),
            ]
        );
    }

    #[tokio::test]
    async fn active_directory_passwords_are_not_sent_without_tls() {
        // A listener that would see any connection attempt: none must come.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("ldap://{}", listener.local_addr().unwrap());
        let mut config = for_tests(DirectoryKind::ActiveDirectory, &url, Security::Plain);
        config.connect_timeout = Duration::from_secs(2);
        config.operation_timeout = Duration::from_secs(2);
        config.validate().unwrap();
        let dir = LdapDirectory::new(config).unwrap();
        let only_over_tls = |e: &DirectoryError| matches!(e, DirectoryError::Refused { reason } if reason.contains("only over TLS"));
        let reset = dir.reset_password("alice", "New-pw-1").await.unwrap_err();
        assert!(only_over_tls(&reset), "{reset:?}");
        let change = dir
            .change_password("alice", "Old-pw-1", "New-pw-2")
            .await
            .unwrap_err();
        assert!(only_over_tls(&change.error), "{change:?}");
        assert!(!change.current_accepted);
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "no connection was opened"
        );
    }

    #[test]
    fn unicode_pwd_is_the_quoted_password_in_utf16_le() {
        // The value from Microsoft's own example ("newPassword"), as a capture shows it.
        let expected: Vec<u8> = [
            0x22, 0x00, 0x6e, 0x00, 0x65, 0x00, 0x77, 0x00, 0x50, 0x00, 0x61, 0x00, 0x73, 0x00,
            0x73, 0x00, 0x77, 0x00, 0x6f, 0x00, 0x72, 0x00, 0x64, 0x00, 0x22, 0x00,
        ]
        .to_vec();
        assert_eq!(*unicode_pwd("newPassword"), expected);
        // Outside the BMP: a surrogate pair, little-endian.
        assert_eq!(
            *unicode_pwd("😀"),
            vec![0x22, 0x00, 0x3d, 0xd8, 0x00, 0xde, 0x22, 0x00]
        );
    }
}
