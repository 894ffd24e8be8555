//! A `tessera serve` process: started on a free loopback port over a data folder (and maybe a
//! PostgreSQL database), measured through `/proc`, and killed.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a start may take before it counts as failed: a debug build on a busy machine
/// runs migrations slowly, but never this slowly.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// What `tessera serve` prints once it listens; the address follows.
const LISTENING: &str = "tessera listening on ";

#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data folder.
    pub database_url: Option<String>,
    /// Extra environment, e.g. `TESSERA_SIGN_IN_LIMIT_PER_MINUTE=0`.
    pub env: Vec<(String, String)>,
}

pub struct Node {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: PathBuf,
}

impl Node {
    /// Starts a node and waits until it listens.
    pub fn start(spec: &NodeSpec) -> Result<Node> {
        std::fs::create_dir_all(&spec.data_dir)?;
        let log = spec
            .data_dir
            .join(format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
        let log_file = std::fs::File::create(&log)?;
        let mut command = Command::new(&spec.binary);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&spec.data_dir);
        if let Some(url) = &spec.database_url {
            command.arg("--database-url").arg(url);
        }
        // The node is configured here and nowhere else: none of the caller's TESSERA_*.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TESSERA_") {
                command.env_remove(name);
            }
        }
        command.env("RUST_LOG", "warn");
        for (k, v) in &spec.env {
            command.env(k, v);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("cannot start {}", spec.binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        // Reads to the end, so the node never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(LISTENING) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(base) => Ok(Node { child, base, log }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                bail!(
                    "tessera serve did not start within {START_TIMEOUT:?}; its log:\n{}",
                    tail(&text, 40)
                )
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The most memory the process has held at once (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Starts the peak over, so each scenario reports its own (`clear_refs` 5, Linux ≥ 4.0).
    /// False where the kernel or permissions do not allow it; the peak is then cumulative.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no shutdown, no flush; what a power cut does to the process.
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill().context("SIGKILL")?;
        self.child.wait().context("reaping the killed node")?;
        Ok(())
    }

    /// The node's log so far (standard error).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The `tessera` binary next to this executable (`target/release/tessera` beside
/// `target/release/tessera-bench`), or `tessera` on the `PATH`.
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let dir = exe.parent()?;
            // Test executables live one level down, in `deps/`.
            [dir.join("tessera"), dir.parent()?.join("tessera")]
                .into_iter()
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("tessera"))
}

/// A folder removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<TempDir> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
