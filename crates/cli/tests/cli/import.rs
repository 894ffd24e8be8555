//! `tessera import tokens|accounts FILE`: every row is reported, the good ones are in, and
//! the exit code says whether some were not.

use crate::harness::{TempDir, add_user, run, tessera};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn tokens_import_reports_every_row_and_exits_2_when_some_fail() {
    let dir = TempDir::new("import-tokens");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    assert_eq!(
        add_user(
            &dir.path,
            dir.join("data").as_path(),
            "alice@example.org",
            PASSWORD,
            &[]
        )
        .code,
        Some(0)
    );
    let csv = "upn,serial number,secret key,time interval,manufacturer,model\n\
               alice@example.org,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
               nobody@example.org,7654321,2234567abcdef2234567abcdef,30,Contoso,HardwareKey\n\
               alice@example.org,1234567,2234567abcdef2234567abcdef,30,Contoso,HardwareKey\n";
    std::fs::write(dir.join("tokens.csv"), csv).unwrap();
    let ran = run(
        tessera(
            &dir.path,
            &["import", "tokens", "tokens.csv", "--data-dir", data],
        ),
        "",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stdout.contains("line 2: alice@example.org: imported"),
        "{ran:?}"
    );
    assert!(
        ran.stdout.contains(
            "line 3: nobody@example.org: not imported: there is no account with this username"
        ),
        "{ran:?}"
    );
    assert!(
        ran.stdout.contains("line 4: alice@example.org: not imported: a token with this serial number is already assigned"),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("1 imported, 2 not imported"), "{ran:?}");
    assert!(
        ran.stderr.contains("2 of 3 rows were not imported"),
        "{ran:?}"
    );

    // The assigned token is pending on Alice's account.
    let ran = run(
        tessera(
            &dir.path,
            &[
                "user",
                "show",
                "alice@example.org",
                "--json",
                "--data-dir",
                data,
            ],
        ),
        "",
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains("Contoso HardwareKey 1234567"),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("pending"), "{ran:?}");

    // A file that cannot be read changes nothing and says so.
    let ran = run(
        tessera(
            &dir.path,
            &["import", "tokens", "missing.csv", "--data-dir", data],
        ),
        "",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(ran.stderr.contains("cannot read missing.csv"), "{ran:?}");
    let ran = run(
        tessera(&dir.path, &["import", "tokens", "-", "--data-dir", data]),
        "name,serial\nx,1\n",
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stderr.contains("upn"),
        "a missing column is named: {ran:?}"
    );
}

#[test]
fn accounts_import_from_standard_input_prints_temporary_passwords() {
    let dir = TempDir::new("import-accounts");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let csv = "username,display name,email,admin\n\
               ann@example.org,Ann Smith,ann@home.example,no\n\
               bob@example.org,,,yes\n";
    let ran = run(
        tessera(
            &dir.path,
            &["import", "accounts", "-", "--json", "--data-dir", data],
        ),
        csv,
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let report: Value = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(
        (report["imported"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(0))
    );
    let password = report["rows"][0]["temporary_password"].as_str().unwrap();
    assert_eq!(password.len(), 19, "{report}");
    assert_eq!(report["rows"][1]["username"], "bob@example.org");

    let ran = run(
        tessera(&dir.path, &["user", "list", "--json", "--data-dir", data]),
        "",
    );
    let users: Value = serde_json::from_str(&ran.stdout).expect("JSON");
    let bob = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob@example.org")
        .cloned()
        .unwrap();
    assert_eq!(bob["is_admin"], true, "{bob}");

    // Importing the same file again: every row is already there.
    let ran = run(
        tessera(&dir.path, &["import", "accounts", "-", "--data-dir", data]),
        csv,
    );
    assert_eq!(ran.code, Some(2), "{ran:?}");
    assert!(
        ran.stdout.contains(
            "line 2: ann@example.org: not imported: an account with this username already exists"
        ),
        "{ran:?}"
    );
}
