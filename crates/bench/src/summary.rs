//! A run's figures as plain data: what the targets are judged on, and what `--json` writes
//! and `--baseline` reads back, so two runs (10 000 and 1 000 000 accounts, say) made at
//! different times can still be compared.

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// The store a run used, as the targets are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    pub fn name(&self) -> &'static str {
        match self {
            Store::Sqlite => "sqlite",
            Store::Postgres => "postgres",
        }
    }

    pub fn parse(s: &str) -> Option<Store> {
        [Store::Sqlite, Store::Postgres]
            .into_iter()
            .find(|x| x.name() == s)
    }
}

/// One scenario's figures in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The scenario's name, as on the command line.
    pub scenario: String,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// To the scenario's bound (`/healthz` or Argon2id) in the same run; `None` when that
    /// bound was not measured or the scenario has none.
    pub ratio: Option<f64>,
    pub ok: u64,
    pub unexpected: u64,
    /// Some client ran out of valid requests before the time was up.
    pub exhausted: bool,
    /// The highest peak over the nodes during this scenario, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// One run: one store, one size.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub store: Store,
    pub nodes: usize,
    pub accounts: u64,
    pub clients: usize,
    pub scenarios: Vec<Figures>,
}

impl Summary {
    pub fn figures(&self, scenario: &str) -> Option<&Figures> {
        self.scenarios.iter().find(|f| f.scenario == scenario)
    }

    /// The highest peak RSS over the run's scenarios, KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.scenarios.iter().filter_map(|f| f.peak_rss_kib).max()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "store": self.store.name(),
            "nodes": self.nodes,
            "accounts": self.accounts,
            "clients": self.clients,
            "scenarios": self.scenarios.iter().map(|f| json!({
                "scenario": f.scenario,
                "per_second": f.per_second,
                "p50_ms": f.p50_ms,
                "p99_ms": f.p99_ms,
                "ratio": f.ratio,
                "ok": f.ok,
                "unexpected": f.unexpected,
                "exhausted": f.exhausted,
                "peak_rss_kib": f.peak_rss_kib,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn from_json(v: &Value) -> Result<Summary> {
        let store = v["store"]
            .as_str()
            .and_then(Store::parse)
            .context("`store` is not sqlite or postgres")?;
        let scenarios = v["scenarios"]
            .as_array()
            .context("no `scenarios` list")?
            .iter()
            .map(|f| {
                Ok(Figures {
                    scenario: f["scenario"]
                        .as_str()
                        .context("a scenario without a name")?
                        .to_string(),
                    per_second: number(&f["per_second"], "per_second")?,
                    p50_ms: number(&f["p50_ms"], "p50_ms")?,
                    p99_ms: number(&f["p99_ms"], "p99_ms")?,
                    ratio: f["ratio"].as_f64(),
                    ok: f["ok"].as_u64().unwrap_or(0),
                    unexpected: f["unexpected"].as_u64().unwrap_or(0),
                    exhausted: f["exhausted"].as_bool().unwrap_or(false),
                    peak_rss_kib: f["peak_rss_kib"].as_u64(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Summary {
            store,
            nodes: v["nodes"].as_u64().context("no `nodes`")? as usize,
            accounts: v["accounts"].as_u64().context("no `accounts`")?,
            clients: v["clients"].as_u64().unwrap_or(0) as usize,
            scenarios,
        })
    }
}

fn number(v: &Value, name: &str) -> Result<f64> {
    v.as_f64()
        .with_context(|| format!("`{name}` is not a number"))
}

/// What `--json` writes: every run of the invocation.
pub fn runs_to_json(runs: &[Summary]) -> Value {
    json!({ "runs": runs.iter().map(Summary::to_json).collect::<Vec<_>>() })
}

pub fn runs_from_json(text: &str) -> Result<Vec<Summary>> {
    let v: Value = serde_json::from_str(text).context("not JSON")?;
    v["runs"]
        .as_array()
        .context("no `runs` list")?
        .iter()
        .enumerate()
        .map(|(i, r)| Summary::from_json(r).with_context(|| format!("run {}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_as_written() {
        let run = Summary {
            store: Store::Postgres,
            nodes: 1,
            accounts: 10_000,
            clients: 64,
            scenarios: vec![
                Figures {
                    scenario: "healthz".into(),
                    per_second: 70_000.5,
                    p50_ms: 0.8,
                    p99_ms: 1.9,
                    ratio: Some(1.0),
                    ok: 700_005,
                    unexpected: 0,
                    exhausted: false,
                    peak_rss_kib: Some(50_000),
                },
                Figures {
                    scenario: "push".into(),
                    per_second: 500.0,
                    p50_ms: 80.0,
                    p99_ms: 110.0,
                    ratio: None,
                    ok: 5_000,
                    unexpected: 2,
                    exhausted: true,
                    peak_rss_kib: None,
                },
            ],
        };
        let text = runs_to_json(std::slice::from_ref(&run)).to_string();
        assert_eq!(runs_from_json(&text).unwrap(), vec![run]);
    }

    #[test]
    fn a_file_that_is_not_a_report_is_refused() {
        assert!(runs_from_json("not json").is_err());
        assert!(runs_from_json(r#"{"runs": [{"store": "oracle"}]}"#).is_err());
        assert!(runs_from_json(r#"{"other": 1}"#).is_err());
    }
}
