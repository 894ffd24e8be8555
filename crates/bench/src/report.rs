//! The table: one row per scenario, each figure with its ratio to the ceiling measured in the
//! same run; [`Run::summary`] hands the figures to the targets (`targets.rs`).

use crate::argon::Argon2Bound;
use crate::load::Outcome;
use crate::scenario::{Bound, Scenario};
use crate::summary::{Figures, Store, Summary};
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

    /// The run's figures as data: what the targets judge and `--json` writes.
    pub fn summary(&self, clients: usize) -> Summary {
        Summary {
            store: if self.postgres {
                Store::Postgres
            } else {
                Store::Sqlite
            },
            nodes: self.nodes,
            accounts: self.accounts,
            clients,
            scenarios: self
                .rows
                .iter()
                .map(|row| Figures {
                    scenario: row.scenario.name().to_string(),
                    per_second: row.outcome.per_second(),
                    p50_ms: row.outcome.percentile_ms(50.0),
                    p99_ms: row.outcome.percentile_ms(99.0),
                    ratio: self.ratio(row).0,
                    ok: row.outcome.ok,
                    unexpected: row.outcome.unexpected,
                    exhausted: row.outcome.exhausted,
                    peak_rss_kib: row.peak_rss_kib,
                })
                .collect(),
        }
    }
}
