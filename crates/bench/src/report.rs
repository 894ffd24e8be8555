//! The table: one row per scenario, each figure with its ratio to the ceiling measured in the
//! same run, and the targets checked against it.

use crate::argon::Argon2Bound;
use crate::load::Outcome;
use crate::scenario::{Bound, Scenario};
use std::fmt::Write;

pub struct Row {
    pub scenario: Scenario,
    pub outcome: Outcome,
    /// The highest peak over the nodes, KiB.
    pub peak_rss_kib: Option<u64>,
}

pub struct Run {
    pub title: String,
    pub postgres: bool,
    /// Nodes on the one store.
    pub nodes: usize,
    pub accounts: u64,
    pub argon2: Option<Argon2Bound>,
    pub rows: Vec<Row>,
}

impl Run {
    fn row(&self, s: Scenario) -> Option<&Row> {
        self.rows.iter().find(|r| r.scenario == s)
    }

    fn ceiling(&self) -> Option<f64> {
        self.row(Scenario::Healthz).map(|r| r.outcome.per_second())
    }

    /// The ratio column of `row`, as a number and as words.
    fn ratio(&self, row: &Row) -> (Option<f64>, String) {
        let rate = row.outcome.per_second();
        match row.scenario.bound() {
            Bound::Healthz if row.scenario == Scenario::Healthz => (Some(1.0), "ceiling".into()),
            Bound::Healthz => match self.ceiling() {
                Some(c) if c > 0.0 => (Some(rate / c), format!("{:.2} of /healthz", rate / c)),
                _ => (None, "no ceiling run".into()),
            },
            Bound::None => (None, "—".into()),
            Bound::Argon2 => match self.argon2 {
                Some(b) if b.per_second() > 0.0 => (
                    Some(rate / b.per_second()),
                    format!("{:.2} of Argon2id bound", rate / b.per_second()),
                ),
                _ => (None, "no bound measured".into()),
            },
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title);
        if let Some(b) = self.argon2 {
            let _ = writeln!(
                out,
                "Argon2id bound (server parameters, in-process): {:.1}/s on 1 thread × {} \
                 cores = {:.1}/s (measured on {} threads at once: {:.1}/s)",
                b.single_per_second,
                b.threads,
                b.per_second(),
                b.threads,
                b.all_threads_per_second
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| scenario | req/s | p50 ms | p99 ms | peak RSS MB | ratio | unexpected |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|");
        for row in &self.rows {
            let o = &row.outcome;
            let rss = row
                .peak_rss_kib
                .map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
            let exhausted = if o.exhausted { " (pool ran dry)" } else { "" };
            let _ = writeln!(
                out,
                "| {}{exhausted} | {:.0} | {:.2} | {:.2} | {rss} | {} | {} |",
                row.scenario.name(),
                o.per_second(),
                o.percentile_ms(50.0),
                o.percentile_ms(99.0),
                self.ratio(row).1,
                o.unexpected,
            );
        }
        for row in &self.rows {
            if let Some(what) = &row.outcome.first_unexpected {
                let _ = writeln!(
                    out,
                    "first unexpected answer in {}: {what}",
                    row.scenario.name()
                );
            }
        }
        out
    }

    /// The targets that this run can judge: (target, met).
    pub fn targets(&self) -> Vec<(String, bool)> {
        let mut checks = Vec::new();
        if let Some(row) = self.row(Scenario::Verify) {
            let floor = if self.postgres { 0.25 } else { 0.40 };
            if let (Some(r), _) = self.ratio(row) {
                checks.push((
                    format!("code verification ≥ {floor:.2} of /healthz (got {r:.2})"),
                    r >= floor,
                ));
            }
            let p99 = row.outcome.percentile_ms(99.0);
            checks.push((
                format!("code verification p99 < 10 ms (got {p99:.2} ms)"),
                p99 < 10.0,
            ));
        }
        if let Some(row) = self.row(Scenario::SignIn)
            && let (Some(r), _) = self.ratio(row)
        {
            checks.push((
                format!("password sign-in ≥ 0.85 of the Argon2id bound (got {r:.2})"),
                r >= 0.85,
            ));
        }
        if let Some(row) = self.row(Scenario::Push) {
            // The targets: delivery on one node, and across two (a NOTIFY between them).
            let limit = if self.nodes > 1 { 50.0 } else { 20.0 };
            let p99 = row.outcome.percentile_ms(99.0);
            checks.push((
                format!("push delivery p99 < {limit:.0} ms (got {p99:.2} ms)"),
                p99 < limit && row.outcome.ok > 0,
            ));
        }
        let peak = self.rows.iter().filter_map(|r| r.peak_rss_kib).max();
        if let Some(kib) = peak {
            let mb = kib as f64 / 1024.0;
            checks.push((format!("peak RSS < 150 MB (got {mb:.1} MB)"), mb < 150.0));
        }
        checks
    }
}

/// Across sizes: code verification's p99 may grow by at most 1.5×.
pub fn growth(runs: &[Run]) -> Option<(String, bool)> {
    let p99 = |r: &Run| {
        r.row(Scenario::Verify)
            .map(|row| row.outcome.percentile_ms(99.0))
    };
    let (small, large) = (runs.first()?, runs.last()?);
    if runs.len() < 2 {
        return None;
    }
    let (a, b) = (p99(small)?, p99(large)?);
    let ratio = if a > 0.0 { b / a } else { f64::INFINITY };
    Some((
        format!(
            "verification p99 from {} to {} accounts grows ≤ 1.5× (got {a:.2} → {b:.2} ms, {ratio:.2}×)",
            small.accounts, large.accounts
        ),
        ratio <= 1.5,
    ))
}
