//! Reading a person's entry: which attributes to ask for, the entry's stable id (`entryUUID`,
//! AD's binary `objectGUID`, `ipaUniqueID`) and whether the directory has disabled it. Kept
//! apart from the protocol work so the AD values, which cannot be produced here, are
//! unit-tested against recorded ones.

use super::{AttributeMap, DirectoryPerson};
use ldap3::SearchEntry;
use std::collections::{BTreeSet, HashMap};

/// 389 DS and FreeIPA: `TRUE` when an admin has locked the entry.
const NS_ACCOUNT_LOCK: &str = "nsaccountlock";
/// Active Directory: a bit field; ACCOUNTDISABLE is 0x2 ([MS-ADTS] 2.2.16).
const USER_ACCOUNT_CONTROL: &str = "useraccountcontrol";
const ACCOUNTDISABLE: i64 = 0x2;
/// OpenLDAP ppolicy: when the account was locked; `000001010000Z` means by an admin, for
/// good (draft-behera-ldap-password-policy §5.3.3). Any other value is a lock-out after wrong
/// passwords, which may already have lapsed (slapd clears it at the next good bind).
const PWD_ACCOUNT_LOCKED_TIME: &str = "pwdaccountlockedtime";
const LOCKED_BY_ADMIN: &str = "000001010000Z";

/// Every attribute a person's entry is read with. The three disabled markers are asked of
/// every kind: a directory ignores attribute types it does not have (RFC 4511 §4.5.1.8),
/// and an OpenLDAP tree may well carry 389's `nsAccountLock`. Operational attributes
/// (`entryUUID`, `pwdAccountLockedTime`) are only returned when named.
pub fn wanted(a: &AttributeMap) -> Vec<String> {
    let mut wanted: Vec<String> = [
        &a.username,
        &a.display_name,
        &a.mail,
        &a.mobile,
        &a.telephone,
        &a.external_id,
    ]
    .into_iter()
    .cloned()
    .collect();
    wanted.extend(a.member_of.iter().cloned());
    wanted.extend(
        [
            "nsAccountLock",
            "userAccountControl",
            "pwdAccountLockedTime",
        ]
        .map(String::from),
    );
    wanted
}

/// The person in `entry`, with `groups` found by a group search when the directory keeps no
/// `memberOf` (they are added to those of `memberOf`, if any). `asked` is the username the
/// entry was found by, for a directory that does not return the username attribute.
pub fn person(
    entry: SearchEntry,
    a: &AttributeMap,
    asked: Option<&str>,
    groups: impl IntoIterator<Item = String>,
) -> Option<DirectoryPerson> {
    let attrs = lowercase(entry.attrs);
    let bin = lowercase(entry.bin_attrs);
    let first = |name: &str| {
        attrs
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .cloned()
    };
    let mut all_groups: BTreeSet<String> = match &a.member_of {
        Some(member_of) => attrs
            .get(&member_of.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .filter_map(|dn| group_name(dn))
            .collect(),
        None => BTreeSet::new(),
    };
    all_groups.extend(groups);
    let username = first(&a.username).or_else(|| asked.map(str::to_string))?;
    Some(DirectoryPerson {
        username,
        external_id: external_id(&a.external_id, &attrs, &bin),
        display_name: first(&a.display_name),
        mail: first(&a.mail),
        mobile: first(&a.mobile),
        telephone: first(&a.telephone),
        groups: all_groups.into_iter().collect(),
        disabled: disabled(&attrs),
        dn: entry.dn,
    })
}

fn lowercase<V>(attrs: HashMap<String, V>) -> HashMap<String, V> {
    attrs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// The stable id as text. `objectGUID` is 16 bytes; ldap3 puts a value that happens to be
/// valid UTF-8 among the text attributes, so both places are looked at.
fn external_id(
    name: &str,
    attrs: &HashMap<String, Vec<String>>,
    bin: &HashMap<String, Vec<Vec<u8>>>,
) -> Option<String> {
    let key = name.to_ascii_lowercase();
    if key == "objectguid" {
        let raw = bin.get(&key).and_then(|v| v.first().cloned()).or_else(|| {
            attrs
                .get(&key)
                .and_then(|v| v.first())
                .map(|s| s.as_bytes().to_vec())
        })?;
        return guid_text(&raw);
    }
    let value = attrs.get(&key).and_then(|v| v.first())?.trim();
    // Compared case-insensitively by directories; stored one way so a rename matches.
    (!value.is_empty()).then(|| value.to_ascii_lowercase())
}

/// AD's binary `objectGUID` in the canonical text form (`Get-ADUser` shows the same):
/// the first three groups are stored little-endian, the last two as they are.
pub fn guid_text(raw: &[u8]) -> Option<String> {
    let b: &[u8; 16] = raw.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// Whether the directory has disabled the entry, by whichever marker it keeps. A lock-out
/// after wrong passwords is not a disable (as AD's LOCKOUT bit is not): the directory refuses
/// the bind while it lasts, and ending a person's sessions because someone guessed at their
/// password would hand that someone a way to sign anyone out.
fn disabled(attrs: &HashMap<String, Vec<String>>) -> bool {
    let first = |key: &str| attrs.get(key).and_then(|v| v.first()).map(|s| s.trim());
    let ns_locked = first(NS_ACCOUNT_LOCK).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let ad_disabled = first(USER_ACCOUNT_CONTROL).is_some_and(uac_disabled);
    let pwd_locked = first(PWD_ACCOUNT_LOCKED_TIME).is_some_and(|v| v == LOCKED_BY_ADMIN);
    ns_locked || ad_disabled || pwd_locked
}

/// `userAccountControl` as AD sends it: a decimal 32-bit value (some tools show it signed).
/// Unreadable is not disabled: the entry is still checked by its bind.
pub fn uac_disabled(value: &str) -> bool {
    value
        .trim()
        .parse::<i64>()
        .is_ok_and(|v| v & ACCOUNTDISABLE != 0)
}

/// `cn=staff,ou=groups,dc=example,dc=org` → `staff`: the name the policy and access rules use.
pub fn group_name(dn: &str) -> Option<String> {
    let first = dn.split(',').next()?;
    let (attr, value) = first.split_once('=')?;
    (attr.trim().eq_ignore_ascii_case("cn") && !value.is_empty()).then(|| value.trim().to_string())
}

/// A DN in one spelling, for comparing a group's `member` values with a person's DN without
/// a search per person: attribute names and values compare case-insensitively in the
/// directories Tessera supports, and spaces around `,` and `=` do not count.
pub fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| match rdn.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim(), v.trim()),
            None => rdn.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_come_from_the_first_cn() {
        assert_eq!(
            group_name("cn=staff,ou=groups,dc=example,dc=org").as_deref(),
            Some("staff")
        );
        assert_eq!(
            group_name("CN=Domain Admins,CN=Users,DC=corp").as_deref(),
            Some("Domain Admins")
        );
        assert_eq!(group_name("ou=groups,dc=example"), None);
    }

    #[test]
    fn object_guid_is_read_with_the_first_three_groups_little_endian() {
        // Microsoft's documented layout: {00010203-0405-0607-0809-0a0b0c0d0e0f} is stored as
        // these bytes.
        let stored = [
            0x03, 0x02, 0x01, 0x00, 0x05, 0x04, 0x07, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
            0x0e, 0x0f,
        ];
        assert_eq!(
            guid_text(&stored).as_deref(),
            Some("00010203-0405-0607-0809-0a0b0c0d0e0f")
        );
        // The same rule on a value as `ldapsearch` prints it (`objectGUID::
        // 9Q+YxuBeKU2cC+YyyIHNQw==`, these bytes), in the text form `Get-ADUser` and
        // `[guid]` use. (No AD runs here: the layout is Microsoft's, the bytes are ours.)
        let captured = [
            0xf5, 0x0f, 0x98, 0xc6, 0xe0, 0x5e, 0x29, 0x4d, 0x9c, 0x0b, 0xe6, 0x32, 0xc8, 0x81,
            0xcd, 0x43,
        ];
        assert_eq!(
            guid_text(&captured).as_deref(),
            Some("c6980ff5-5ee0-4d29-9c0b-e632c881cd43")
        );
        assert_eq!(guid_text(&stored[..15]), None);
    }

    #[test]
    fn an_object_guid_that_happens_to_be_text_is_read_the_same() {
        let a = super::super::DirectoryKind::ActiveDirectory.attributes();
        // Sixteen ASCII bytes: ldap3 files the value under the text attributes.
        let ascii = "ABCDEFGHIJKLMNOP";
        let entry = SearchEntry {
            dn: "CN=Ann,CN=Users,DC=corp,DC=example".into(),
            attrs: HashMap::from([
                ("sAMAccountName".into(), vec!["ann".into()]),
                ("objectGUID".into(), vec![ascii.into()]),
            ]),
            bin_attrs: HashMap::new(),
        };
        let ann = person(entry, &a, None, []).unwrap();
        assert_eq!(ann.external_id, guid_text(ascii.as_bytes()));
        assert_eq!(
            ann.external_id.as_deref(),
            Some("44434241-4645-4847-494a-4b4c4d4e4f50")
        );
    }

    #[test]
    fn user_account_control_disables_by_bit_two() {
        // Recorded values: 512 NORMAL_ACCOUNT, 514 the same disabled, 66048 with
        // DONT_EXPIRE_PASSWORD, 66050 that disabled, 544 PASSWD_NOTREQD, 546 that disabled,
        // 16 LOCKOUT (a lock-out is not a disable; AD refuses the bind with data 775).
        for (value, disabled) in [
            ("512", false),
            ("514", true),
            ("66048", false),
            ("66050", true),
            ("544", false),
            ("546", true),
            ("528", false),
            ("-2147483646", true),
            ("garbage", false),
        ] {
            assert_eq!(uac_disabled(value), disabled, "{value}");
        }
    }

    fn entry(attrs: &[(&str, &str)]) -> SearchEntry {
        SearchEntry {
            dn: "uid=ann,ou=people,dc=example,dc=org".into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
                .collect(),
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn the_disabled_markers_of_each_directory_are_read() {
        let a = super::super::DirectoryKind::OpenLdap.attributes();
        let person_of = |attrs: &[(&str, &str)]| person(entry(attrs), &a, None, []).unwrap();
        let ann = person_of(&[
            ("uid", "ann"),
            ("entryUUID", "69416DB2-8591-1041-854B-FDE0B087C260"),
        ]);
        assert!(!ann.disabled);
        assert_eq!(
            ann.external_id.as_deref(),
            Some("69416db2-8591-1041-854b-fde0b087c260")
        );
        assert!(person_of(&[("uid", "ann"), ("pwdAccountLockedTime", "000001010000Z")]).disabled);
        // Locked out after wrong passwords (a time): the bind answers for that, not a disable.
        assert!(
            !person_of(&[("uid", "ann"), ("pwdAccountLockedTime", "20261206081500Z")]).disabled
        );
        assert!(person_of(&[("uid", "ann"), ("nsAccountLock", "TRUE")]).disabled);
        assert!(person_of(&[("uid", "ann"), ("nsaccountlock", "true")]).disabled);
        assert!(!person_of(&[("uid", "ann"), ("nsAccountLock", "FALSE")]).disabled);
        assert!(person_of(&[("uid", "ann"), ("userAccountControl", "514")]).disabled);
        assert_eq!(person_of(&[("uid", "ann")]).external_id, None);
        // No username attribute and nothing asked: not a person Tessera can name.
        assert!(person(entry(&[("cn", "x")]), &a, None, []).is_none());
    }

    #[test]
    fn dns_compare_in_one_spelling() {
        assert_eq!(
            dn_key("UID=Ann, ou=People,dc=Example, dc=org"),
            dn_key("uid=ann,ou=people,dc=example,dc=org")
        );
        assert_ne!(
            dn_key("uid=ann,ou=people,dc=example,dc=org"),
            dn_key("uid=anne,ou=people,dc=example,dc=org")
        );
    }
}
