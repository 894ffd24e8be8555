//! `tessera directory sync` end to end against a throwaway slapd (a smaller cousin of the
//! server tests' harness: no TLS, no password policy), on SQLite and on PostgreSQL when
//! `TESSERA_TEST_POSTGRES_URL` is set: `--create`, the report lines and counts, `--dry-run`,
//! `--json`, and a person removed from the directory disabled.

use crate::harness::{TempDir, run, tessera};
use crate::postgres::{Database, URL_VAR};
use serde_json::Value;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const SERVICE_DN: &str = "cn=tessera,dc=example,dc=org";

fn have_slapd() -> bool {
    let found = Path::new(SLAPD).exists() && Path::new(SLAPADD).exists();
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs the directory tests: install slapd and ldap-utils (see .ci/run)");
        }
        eprintln!("slapd not installed: skipping (apt-get install slapd ldap-utils)");
    }
    found
}

/// A person's entry, with an `entryUUID` of its own that stays the same when the tree is
/// loaded again (slapadd would make a new one: a new entry, to the sync a new person).
fn person(uid: &str, name: &str) -> String {
    let hex: String = uid.bytes().take(6).map(|b| format!("{b:02x}")).collect();
    format!(
        "dn: uid={uid},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: {uid}\n\
         cn: {name}\nsn: {name}\nuserPassword: {uid}-password-1234\n\
         entryUUID: 00000000-0000-4000-8000-{hex:0>12}\n\n"
    )
}

fn tree(people: &[(&str, &str)]) -> String {
    let mut tree = format!(
        "dn: dc=example,dc=org\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n\
         o: Example\n\ndn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\n\
         ou: people\n\ndn: {SERVICE_DN}\nobjectClass: person\ncn: tessera\nsn: Tessera\n\
         userPassword: service-secret\n\n"
    );
    for (uid, name) in people {
        tree.push_str(&person(uid, name));
    }
    tree
}

/// slapd on 127.0.0.1, its database loaded from a tree; killed when dropped.
struct Slapd {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Slapd {
    fn start(dir: PathBuf, people: &[(&str, &str)]) -> Slapd {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut slapd = Slapd {
            child: None,
            port,
            dir,
        };
        slapd.load(people);
        slapd
    }

    /// (Re)loads the database with `people` and runs slapd on the same port.
    fn load(&mut self, people: &[(&str, &str)]) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let d = self.dir.display();
        let db = self.dir.join("db");
        let _ = std::fs::remove_dir_all(&db);
        std::fs::create_dir_all(&db).unwrap();
        let conf = self.dir.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\npidfile {d}/slapd.pid\n\
                 modulepath /usr/lib/ldap\nmoduleload back_mdb\ndatabase mdb\n\
                 maxsize 16777216\nsuffix \"dc=example,dc=org\"\ndirectory {d}/db\n\
                 access to * by dn.exact=\"{SERVICE_DN}\" read by anonymous auth by * none\n"
            ),
        )
        .unwrap();
        std::fs::write(self.dir.join("tree.ldif"), tree(people)).unwrap();
        let out = Command::new(SLAPADD)
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(self.dir.join("tree.ldif"))
            .output()
            .unwrap();
        assert!(out.status.success(), "slapadd: {out:?}");
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{}/", self.port))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = (Ipv4Addr::LOCALHOST, self.port).into();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "slapd did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The folder's `tessera.toml`: `[directory]` on `slapd`, SQLite in `data` or `database_url`.
fn configure(dir: &TempDir, slapd: &Slapd, database_url: Option<&str>) {
    std::fs::write(dir.join("ldap-password"), "service-secret\n").unwrap();
    let database = database_url
        .map(|u| format!("database_url = \"{u}\"\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.join("tessera.toml"),
        format!(
            "data_dir = \"data\"\n{database}[directory]\nkind = \"openldap\"\n\
             url = \"ldap://127.0.0.1:{}\"\nsecurity = \"plain\"\nbind_dn = \"{SERVICE_DN}\"\n\
             bind_password_file = \"{}\"\nuser_base = \"ou=people,dc=example,dc=org\"\n",
            slapd.port,
            dir.join("ldap-password").display()
        ),
    )
    .unwrap();
}

fn sync(dir: &TempDir, extra: &[&str]) -> crate::harness::Ran {
    let mut args = vec!["directory", "sync", "--config", "tessera.toml"];
    args.extend(extra);
    run(tessera(&dir.path, &args), "")
}

fn scenario(name: &str, database_url: Option<&str>) {
    let dir = TempDir::new(name);
    let mut slapd = Slapd::start(
        dir.join("slapd"),
        &[("alice", "Alice Andersen"), ("bob", "Bob Bakker")],
    );
    configure(&dir, &slapd, database_url);

    // Nobody has signed in yet: nothing to do without --create.
    let ran = sync(&dir, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout
            .contains("2 people in the directory, 0 directory accounts")
            && ran.stdout.contains("2 not signed in yet"),
        "{ran:?}"
    );

    let ran = sync(&dir, &["--create", "--dry-run"]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains("alice: would be created")
            && ran.stdout.contains("dry run: nothing was changed"),
        "{ran:?}"
    );
    let ran = sync(&dir, &["--create"]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains("alice: created") && ran.stdout.contains("bob: created"),
        "{ran:?}"
    );
    assert!(ran.stdout.contains("2 created"), "{ran:?}");

    // Bob leaves the organization.
    slapd.load(&[("alice", "Alice Andersen")]);
    let ran = sync(&dir, &["--dry-run", "--json"]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    let report: Value = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["disabled"], 1);
    let ran = sync(&dir, &[]);
    assert_eq!(ran.code, Some(0), "{ran:?}");
    assert!(
        ran.stdout.contains(
            "bob: disabled: removed from the directory: account disabled, every session ended"
        ),
        "{ran:?}"
    );
    assert!(
        ran.stdout
            .contains("1 disabled, 0 enabled again, 1 unchanged"),
        "{ran:?}"
    );
    let ran = sync(&dir, &["--json"]);
    let report: Value = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(
        (report["disabled"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{report}"
    );

    // A directory listing nobody is refused, and changes nothing.
    slapd.load(&[]);
    let ran = sync(&dir, &[]);
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert!(ran.stderr.contains("--allow-empty"), "{ran:?}");
    let ran = run(
        tessera(
            &dir.path,
            &["user", "list", "--json", "--config", "tessera.toml"],
        ),
        "",
    );
    assert!(ran.stdout.contains("\"alice\""), "{ran:?}");
}

#[test]
fn sync_creates_reports_and_disables_against_a_real_directory() {
    if !have_slapd() {
        return;
    }
    scenario("directory-sync", None);
    match std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) {
        Some(base) => {
            let db = Database::create(&base, "directory_sync");
            scenario("directory-sync-pg", Some(&db.url));
        }
        None => eprintln!("{URL_VAR} not set: skipping the PostgreSQL run"),
    }
}
