//! Log lines go to standard error, so standard output stays for what commands print.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// `RUST_LOG` picks the lines (bad directives are skipped, not fatal); `default` applies
/// when it is unset.
pub fn init(format: LogFormat, default: LevelFilter) {
    let filter = EnvFilter::builder()
        .with_default_directive(default.into())
        .from_env_lossy();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes help a terminal and garble a log file or journal.
        .with_ansi(std::io::stderr().is_terminal());
    // `try_init` only fails when a subscriber is already set, which leaves logging working.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
