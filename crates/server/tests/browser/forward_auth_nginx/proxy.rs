//! nginx for the journey: a protected site whose `auth_request` asks Tessera's forward-auth
//! endpoint, in front of a small upstream that shows the `Remote-User` it received; config,
//! logs, pid and temp files in a temporary folder, listening on 127.0.0.1.

use crate::server::TempDir;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// On a slow, busy machine: how long nginx may take to start or stop.
const STARTUP: Duration = Duration::from_secs(30);

/// The upstream's page shows the header in this element.
pub(super) const REMOTE_USER_ID: &str = "remote-user";

pub(super) fn nginx() -> Option<PathBuf> {
    let binary = std::env::var_os("TESSERA_NGINX")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/sbin")])
                .map(|dir| dir.join("nginx"))
                .find(|candidate| candidate.is_file())
        });
    match binary {
        Some(binary) => Some(binary),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI runs the nginx forward-auth journey: install Debian's nginx (see .ci/run)")
        }
        None => {
            // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: no nginx (install Debian's nginx, or set TESSERA_NGINX): the nginx \
                 forward-auth journey did not run"
            );
            None
        }
    }
}

/// nginx in the foreground, stopped (and its logs shown, if the test failed) on drop.
pub(super) struct Nginx {
    binary: PathBuf,
    child: Child,
    /// The protected site's port.
    pub(super) port: u16,
    dir: TempDir,
}

/// Why nginx did not start.
pub(super) enum StartError {
    /// Someone took a port between choosing it and nginx binding it: choose again.
    PortTaken,
    Failed(String),
}

impl Nginx {
    pub(super) fn origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The site on `port`, its upstream on `upstream`, both in front of Tessera listening on
    /// `tessera_port` (whose 401 names its public start page).
    pub(super) fn start(
        binary: &Path,
        port: u16,
        upstream: u16,
        tessera_port: u16,
    ) -> Result<Nginx, StartError> {
        let dir = TempDir::new("nginx");
        let root = &dir.0;
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::write(
            root.join("nginx.conf"),
            config(root, port, upstream, tessera_port),
        )
        .unwrap();
        // What goes wrong before nginx opens its error log (say, a port taken) goes here.
        let stderr = std::fs::File::create(root.join("stderr.log")).unwrap();
        let child = Command::new(binary)
            .args(Self::where_(root))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| StartError::Failed(format!("{}: {e}", binary.display())))?;
        let mut nginx = Nginx {
            binary: binary.to_path_buf(),
            child,
            port,
            dir,
        };
        let deadline = Instant::now() + STARTUP;
        let listening = |p: u16| {
            TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], p)),
                Duration::from_secs(1),
            )
            .is_ok()
        };
        loop {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let log = nginx.error_log();
                return Err(if log.contains("Address already in use") {
                    StartError::PortTaken
                } else {
                    StartError::Failed(format!("nginx exited ({status}):\n{log}"))
                });
            }
            // The pid file too: stopping it (`-s stop`) reads the pid there.
            if nginx.dir.0.join("nginx.pid").is_file() && listening(port) && listening(upstream) {
                return Ok(nginx);
            }
            if Instant::now() > deadline {
                return Err(StartError::Failed(format!(
                    "nginx did not listen on {port} and {upstream}:\n{}",
                    nginx.error_log()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// nginx's prefix, config and first error log: all in the folder, none of the package's.
    fn where_(root: &Path) -> [std::ffi::OsString; 6] {
        [
            "-p".into(),
            root.into(),
            "-c".into(),
            root.join("nginx.conf").into(),
            "-e".into(),
            root.join("error.log").into(),
        ]
    }

    fn error_log(&self) -> String {
        self.log("stderr.log") + &self.log("error.log")
    }

    fn log(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.0.join(file)).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `-s stop` signals the master, which stops its workers; killing the master alone
        // would leave them serving.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new(&self.binary)
                .args(Self::where_(&self.dir.0))
                .args(["-s", "stop"])
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
                "nginx's access log:\n{}\nIts error log:\n{}",
                self.log("access.log"),
                self.error_log()
            );
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's configuration (the `server` block of the protected site), with a second
/// `server` block as its upstream.
fn config(root: &Path, port: u16, upstream: u16, tessera_port: u16) -> String {
    let root = root.display();
    format!(
        r#"daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {root}/access.log;
  client_body_temp_path {root}/tmp/body;
  proxy_temp_path {root}/tmp/proxy;
  fastcgi_temp_path {root}/tmp/fastcgi;
  uwsgi_temp_path {root}/tmp/uwsgi;
  scgi_temp_path {root}/tmp/scgi;

  # The protected site.
  server {{
    listen 127.0.0.1:{port};
    server_name localhost;

    location / {{
      auth_request /_tessera;
      auth_request_set $tessera_user $upstream_http_remote_user;
      auth_request_set $tessera_name $upstream_http_remote_name;
      auth_request_set $tessera_email $upstream_http_remote_email;
      auth_request_set $tessera_groups $upstream_http_remote_groups;
      # Overwrites whatever the client sent under these names.
      proxy_set_header Remote-User $tessera_user;
      proxy_set_header Remote-Name $tessera_name;
      proxy_set_header Remote-Email $tessera_email;
      proxy_set_header Remote-Groups $tessera_groups;
      proxy_pass http://127.0.0.1:{upstream};
      # Tessera's 401 names its start page, with this URL encoded to come back to.
      auth_request_set $tessera_sign_in $upstream_http_location;
      error_page 401 =302 $tessera_sign_in;
    }}

    location = /_tessera {{
      internal;
      proxy_pass http://127.0.0.1:{tessera_port}/api/v1/authz/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }}

  }}

  # The upstream: a page showing the Remote-User it received.
  server {{
    listen 127.0.0.1:{upstream};
    location / {{
      default_type "text/html; charset=utf-8";
      return 200 '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The wiki</title></head><body><h1>The wiki</h1><p>Remote-User: <span id="{REMOTE_USER_ID}">$http_remote_user</span></p></body></html>';
    }}
  }}
}}
"#
    )
}
