//! Apache httpd with mod_auth_openidc for the journey: its config, pages and process, all in
//! a temporary folder, listening on 127.0.0.1.

use crate::server::TempDir;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tessera_core::oidc::Acr;

const MODULES: &str = "/usr/lib/apache2/modules";

/// The claims the protected page shows, each in an element with the claim's name as id.
pub(super) const CLAIMS: [&str; 8] = [
    "sub",
    "email",
    "preferred_username",
    "name",
    "amr",
    "acr",
    "iss",
    "auth_time",
];

/// The wiki wants a second factor from the last minute (`max_age`).
pub(super) const MAX_AGE: i64 = 60;

/// On a slow, busy machine: how long Apache may take to start or stop.
const STARTUP: Duration = Duration::from_secs(30);

pub(super) fn apache2() -> Option<PathBuf> {
    let binary = std::env::var_os("TESSERA_APACHE2")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/sbin")])
                .map(|dir| dir.join("apache2"))
                .find(|candidate| candidate.is_file())
        });
    let module = Path::new(MODULES).join("mod_auth_openidc.so");
    match binary {
        Some(binary) if module.is_file() => Some(binary),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI runs the Apache journey: install Debian's apache2 and \
             libapache2-mod-auth-openidc (see .ci/run)"
        ),
        _ => {
            // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: no apache2 with mod_auth_openidc (install Debian's apache2 and \
                 libapache2-mod-auth-openidc): the Apache relying-party journey did not run"
            );
            None
        }
    }
}

/// What Apache needs to know about its provider.
pub(super) struct Provider<'a> {
    pub(super) issuer: &'a str,
    pub(super) client_id: &'a str,
    pub(super) secret: &'a str,
}

/// Apache httpd in the foreground, stopped (and its error log shown, if the test failed) on
/// drop.
pub(super) struct Apache {
    binary: PathBuf,
    child: Child,
    pub(super) port: u16,
    dir: TempDir,
}

/// Why Apache did not start.
pub(super) enum StartError {
    /// Someone took the port between choosing it and Apache binding it: choose again.
    PortTaken,
    Failed(String),
}

impl Apache {
    pub(super) fn origin(port: u16) -> String {
        format!("http://localhost:{port}")
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", Self::origin(self.port))
    }

    /// The redirect URI and post-logout redirect URI to register for Apache on `port`.
    pub(super) fn client_uris(port: u16) -> (String, String) {
        let origin = Self::origin(port);
        (
            format!("{origin}/protected/redirect_uri"),
            format!("{origin}/signed-out.html"),
        )
    }

    pub(super) fn start(
        binary: &Path,
        port: u16,
        provider: &Provider<'_>,
    ) -> Result<Apache, StartError> {
        let dir = TempDir::new("apache");
        let root = &dir.0;
        for sub in ["htdocs/protected/admin", "run"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let (_, signed_out) = Self::client_uris(port);
        let logout = format!(
            "/protected/redirect_uri?logout={}",
            urlencoding(&signed_out)
        );
        write(root, "mime.types", "");
        write(root, "httpd.conf", &config(root, port, provider));
        write(
            root,
            "htdocs/protected/index.shtml",
            &protected_page("The wiki", &logout),
        );
        write(
            root,
            "htdocs/protected/admin/index.shtml",
            &protected_page("The wiki's settings", &logout),
        );
        write(
            root,
            "htdocs/signed-out.html",
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Signed out</title></head>\n<body><h1>Signed out of the wiki</h1>\n\
             <p><a id=\"sign-in\" href=\"/protected/\">Sign in again</a></p></body></html>\n",
        );
        // Apache started as root serves as www-data, which must be able to read the pages
        // whatever the umask.
        for sub in [
            "",
            "htdocs",
            "htdocs/protected",
            "htdocs/protected/admin",
            "run",
        ] {
            set_mode(&root.join(sub), 0o755);
        }
        for file in [
            "htdocs/protected/index.shtml",
            "htdocs/protected/admin/index.shtml",
            "htdocs/signed-out.html",
        ] {
            set_mode(&root.join(file), 0o644);
        }

        // What goes wrong before Apache opens its error log (say, a port taken) goes here.
        let stderr = std::fs::File::create(root.join("stderr.log")).unwrap();
        let child = Command::new(binary)
            .arg("-f")
            .arg(root.join("httpd.conf"))
            .arg("-DFOREGROUND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| StartError::Failed(format!("{}: {e}", binary.display())))?;
        let mut apache = Apache {
            binary: binary.to_path_buf(),
            child,
            port,
            dir,
        };
        let deadline = Instant::now() + STARTUP;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = apache.child.try_wait() {
                let log = apache.error_log();
                return Err(if log.contains("Address already in use") {
                    StartError::PortTaken
                } else {
                    StartError::Failed(format!("apache2 exited ({status}):\n{log}"))
                });
            }
            // The pid file too: stopping it (`-k stop`) reads the pid there.
            if apache.dir.0.join("run/httpd.pid").is_file()
                && TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
            {
                return Ok(apache);
            }
            if Instant::now() > deadline {
                return Err(StartError::Failed(format!(
                    "apache2 did not listen on {address}:\n{}",
                    apache.error_log()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn error_log(&self) -> String {
        self.log("stderr.log") + &self.log("error.log")
    }

    fn log(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.0.join(file)).unwrap_or_default()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        // `-k stop` signals the parent, which stops its children; killing the parent alone
        // would leave them serving.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new(&self.binary)
                .arg("-f")
                .arg(self.dir.0.join("httpd.conf"))
                .args(["-k", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + STARTUP;
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if std::thread::panicking() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "Apache's access log:\n{}\nIts error log:\n{}",
                self.log("access.log"),
                self.error_log()
            );
        }
    }
}

fn write(root: &Path, file: &str, text: &str) {
    std::fs::write(root.join(file), text).unwrap();
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn urlencoding(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(root: &Path, port: u16, p: &Provider<'_>) -> String {
    let root = root.display();
    let (redirect_uri, signed_out) = Apache::client_uris(port);
    let modules = [
        ("mpm_event", "mod_mpm_event"),
        ("authz_core", "mod_authz_core"),
        ("authz_user", "mod_authz_user"),
        ("authn_core", "mod_authn_core"),
        ("mime", "mod_mime"),
        ("dir", "mod_dir"),
        ("include", "mod_include"),
        ("auth_openidc", "mod_auth_openidc"),
    ]
    .map(|(name, file)| format!("LoadModule {name}_module {MODULES}/{file}.so\n"))
    .concat();
    // Apache refuses to serve as root: started as root, it drops to Debian's www-data.
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let user = if as_root {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let passphrase = uuid::Uuid::new_v4().simple();
    format!(
        r#"ServerRoot "{root}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
ErrorLog "{root}/error.log"
CustomLog "{root}/access.log" "%h %r %>s %{{Location}}o"
LogLevel warn auth_openidc:info
{user}{modules}
TypesConfig "{root}/mime.types"
AddType "text/html; charset=utf-8" .html .shtml
AddOutputFilter INCLUDES .shtml
DocumentRoot "{root}/htdocs"
DirectoryIndex index.shtml
<Directory "{root}/htdocs">
  Options +Includes
  Require all granted
</Directory>

OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {secret}
OIDCRedirectURI {redirect_uri}
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid email profile"
OIDCPKCEMethod S256
OIDCAuthRequestParams max_age={MAX_AGE}
OIDCPassClaimsAs environment
OIDCDefaultLoggedOutURL {signed_out}
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
# mod_auth_openidc's step-up: a session whose `acr` falls short signs in again, asking for more.
<Location /protected/admin>
  AuthType openid-connect
  Require claim acr:{phishing_resistant}
  OIDCUnAutzAction auth
  OIDCPathAuthRequestParams acr_values={phishing_resistant}
</Location>
"#,
        issuer = p.issuer,
        client_id = p.client_id,
        secret = p.secret,
        phishing_resistant = Acr::PhishingResistant.as_str(),
    )
}

/// The protected page: the claims mod_auth_openidc passes in the environment (`OIDC_CLAIM_`,
/// arrays joined with commas), and its sign-out link.
fn protected_page(title: &str, logout: &str) -> String {
    let rows: String = CLAIMS
        .iter()
        .map(|c| format!("<dt>{c}</dt><dd id=\"{c}\"><!--#echo var=\"OIDC_CLAIM_{c}\" --></dd>\n"))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head>\n<body><h1>{title}</h1>\n<p>The claims mod_auth_openidc received:</p>\n\
         <dl>\n{rows}</dl>\n<p><a id=\"sign-out\" href=\"{logout}\">Sign out</a></p>\n\
         </body></html>\n"
    )
}
