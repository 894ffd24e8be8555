//! A throwaway OpenLDAP `slapd` for the directory tests: its own slapd.conf and database in a
//! temporary folder, listening on 127.0.0.1 at a port the test picks, loaded with a small tree
//! by `slapadd` before it starts, with the `ppolicy` overlay (a minimum length, a history), and
//! killed when the value drops. Without Debian's `slapd` the tests say so and pass, except
//! under CI, which installs it (`.ci/run`) and must run them.

use crate::common::TempDir;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SLAPD: &str = "/usr/sbin/slapd";
pub const SLAPADD: &str = "/usr/sbin/slapadd";
pub const SUFFIX: &str = "dc=example,dc=org";
pub const SERVICE_DN: &str = "cn=tessera,ou=services,dc=example,dc=org";
pub const SERVICE_PASSWORD: &str = "service-account-secret";
pub const ALICE_PASSWORD: &str = "Alice-directory-pw1";
pub const BOB_PASSWORD: &str = "Bob-directory-pw2";
pub const DAVE_PASSWORD: &str = "Dave-directory-pw3";
pub const ERIN_PASSWORD: &str = "Erin-directory-pw4";
/// The directory's own administrator (`rootdn`), for tests that change the tree while
/// Tessera runs: remove, lock or rename a person.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "directory-admin-secret";
/// slapd answers at most this many entries to one search that is not paged; the test tree
/// has more people than that (alice, bob, dave, erin).
pub const SIZE_LIMIT: usize = 3;
/// The directory's own password policy (ppolicy): at least this long, not one of the last 3.
pub const MIN_LENGTH: usize = 12;

/// Whether slapd is installed; under CI its absence fails the test.
pub fn have_slapd() -> bool {
    let found = Path::new(SLAPD).exists() && Path::new(SLAPADD).exists();
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs the directory tests: install slapd and ldap-utils (see .ci/run)");
        }
        eprintln!("slapd not installed: skipping (apt-get install slapd ldap-utils)");
    }
    found
}

/// The test tree: four people (Alice with a mobile and groups, Bob with neither, Dave locked by
/// an admin through ppolicy, Erin), two groups, the service account Tessera binds as, and the
/// password policy.
fn tree() -> String {
    format!(
        "dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: person
cn: tessera
sn: Tessera service
userPassword: {SERVICE_PASSWORD}

dn: uid=alice,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: alice
cn: Alice Andersen
sn: Andersen
mail: alice@example.org
mobile: +31 6 12345678
telephoneNumber: +31 20 1234567
userPassword: {ALICE_PASSWORD}

dn: uid=bob,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob Bakker
sn: Bakker
userPassword: {BOB_PASSWORD}

dn: uid=dave,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: dave
cn: Dave de Vries
sn: de Vries
userPassword: {DAVE_PASSWORD}
pwdAccountLockedTime: 000001010000Z

dn: uid=erin,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: erin
cn: Erin Evers
sn: Evers
userPassword: {ERIN_PASSWORD}

dn: cn=staff,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,{SUFFIX}
member: uid=bob,ou=people,{SUFFIX}

dn: ou=policies,{SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{SUFFIX}
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: {MIN_LENGTH}
pwdCheckQuality: 2
pwdInHistory: 3

dn: cn=admins,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,{SUFFIX}
"
    )
}

/// The service account reads people and groups and may set passwords (for writeback); a
/// person may authenticate with their own password and read their own entry; nobody else
/// sees anything. Searches that are not paged stop at `SIZE_LIMIT` entries, as a real
/// directory's do (AD: 1000); paged ones may read everything.
fn slapd_conf(dir: &Path, tls: bool) -> String {
    let d = dir.display();
    // Global, so both StartTLS on ldap:// and ldaps:// use it.
    let tls = if tls {
        format!(
            "TLSCACertificateFile {d}/ca.pem\nTLSCertificateFile {d}/server.pem\nTLSCertificateKeyFile {d}/server.key\n"
        )
    } else {
        String::new()
    };
    format!(
        "{tls}include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited
pidfile {d}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
database mdb
maxsize 16777216
suffix \"{SUFFIX}\"
rootdn \"{ADMIN_DN}\"
rootpw {ADMIN_PASSWORD}
directory {d}/db
overlay ppolicy
ppolicy_default \"cn=default,ou=policies,{SUFFIX}\"
access to attrs=userPassword
  by dn.exact=\"{SERVICE_DN}\" write
  by self write
  by anonymous auth
  by * none
access to *
  by dn.exact=\"{SERVICE_DN}\" read
  by self read
  by * none
"
    )
}

/// A test CA and a certificate for 127.0.0.1 and localhost signed by it, in `dir`.
fn write_certificates(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Tessera test directory CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &Issuer::new(ca, ca_key))
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

fn free_port() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()
}

pub struct Slapd {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// With TLS: the ldaps:// address (StartTLS works on `addr`) and the CA to trust.
    pub ldaps_addr: Option<SocketAddr>,
    /// Holds the database and config; removed after slapd has stopped.
    dir: TempDir,
}

impl Slapd {
    /// Starts slapd with the test tree and waits until it accepts connections.
    pub fn start() -> Slapd {
        Slapd::start_with(false)
    }

    /// As `start`, with a certificate from a test CA (`ca_file`): StartTLS on `addr` and
    /// ldaps:// on `ldaps_addr`.
    pub fn start_tls() -> Slapd {
        Slapd::start_with(true)
    }

    fn start_with(tls: bool) -> Slapd {
        let dir = TempDir::new();
        std::fs::create_dir_all(dir.0.join("db")).unwrap();
        if tls {
            write_certificates(&dir.0);
        }
        let conf = dir.0.join("slapd.conf");
        std::fs::write(&conf, slapd_conf(&dir.0, tls)).unwrap();
        let ldif = dir.0.join("tree.ldif");
        std::fs::write(&ldif, tree()).unwrap();
        let out = Command::new(SLAPADD)
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Free ports: bind to port 0, note them, release them for slapd.
        let (plain, secure) = (free_port(), free_port());
        let addr = plain.local_addr().unwrap();
        let ldaps_addr = tls.then(|| secure.local_addr().unwrap());
        drop((plain, secure));
        let mut slapd = Slapd {
            child: None,
            addr,
            ldaps_addr,
            dir,
        };
        slapd.spawn();
        slapd
    }

    /// Runs slapd on this folder's config and database, on the ports chosen at the start.
    fn spawn(&mut self) {
        let mut urls = format!("ldap://{}/", self.addr);
        if let Some(ldaps) = self.ldaps_addr {
            urls.push_str(&format!(" ldaps://{ldaps}/"));
        }
        // `-d 0` keeps slapd in the foreground, so it stays this test's child and dies with it.
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(self.dir.0.join("slapd.conf"))
            .arg("-h")
            .arg(urls)
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_until_listening();
    }

    /// Stops slapd and starts it again on the same port and database: a directory restarted
    /// under a running Tessera, whose pooled connections it closed.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.take().unwrap().stderr {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("slapd exited ({status}) before listening: {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("slapd did not listen on {} within 10 s", self.addr);
    }

    pub fn url(&self) -> String {
        format!("ldap://{}", self.addr)
    }

    /// The test CA's certificate, for `ca_file` (`start_tls` only).
    pub fn ca_file(&self) -> std::path::PathBuf {
        self.dir.0.join("ca.pem")
    }

    /// A connection bound as the directory's administrator, to change the tree.
    pub async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = ldap3::LdapConnAsync::new(&self.url()).await.unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ADMIN_DN, ADMIN_PASSWORD)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }

    /// Freezes slapd (SIGSTOP): its sockets stay open and new connections are still taken
    /// by the kernel, but nothing is answered: a hung directory, unlike a stopped one.
    /// Returns once every thread of slapd has stopped: `kill` returns when the signal is
    /// sent, and a thread still running on another core could answer one more request.
    pub fn hang(&self) {
        self.signal("-STOP");
        self.wait_for_threads(true);
    }

    /// Lets a hung slapd go on (SIGCONT), and returns once its threads run again.
    pub fn resume(&self) {
        self.signal("-CONT");
        self.wait_for_threads(false);
    }

    fn signal(&self, signal: &str) {
        let pid = self.pid().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Waits until every thread's state in `/proc` is "stopped" (`T`), or none is.
    fn wait_for_threads(&self, stopped: bool) {
        let tasks = format!("/proc/{}/task", self.pid());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let states: Vec<bool> = std::fs::read_dir(&tasks)
                .unwrap()
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
                // The state follows the command name in parentheses, which may hold spaces.
                .filter_map(|stat| Some(stat[stat.rfind(')')? + 2..].starts_with('T')))
                .collect();
            if !states.is_empty() && states.iter().all(|&t| t == stopped) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("slapd's threads did not become stopped={stopped} within 10 s");
    }

    /// Stops slapd now (the directory going down under a running Tessera).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
