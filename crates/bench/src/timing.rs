//! `tessera-bench timing`: can an attacker tell a known username from an unknown one by how
//! long a wrong password takes? Sign-ins one at a time against a release server with the
//! production Argon2id parameters, known and unknown names interleaved (the order swapped
//! every round, so drift on a busy machine touches both alike), then two tests of "same
//! distribution": Mann–Whitney U on the ranks and Welch's t on the means. Passes when
//! neither tells them apart at the 1 % level and every answer was the same.

use anyhow::{Context, Result, bail};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tessera_bench::node::{self, Node, NodeSpec, TempDir};
use tessera_bench::seed;
use tessera_store::SqlStore;

/// A difference this unlikely under "same distribution" counts as telling them apart.
const ALPHA: f64 = 0.01;

#[derive(Debug, clap::Args)]
pub struct TimingArgs {
    #[arg(long, value_name = "PATH")]
    tessera: Option<PathBuf>,
    /// Sign-ins of each kind
    #[arg(long, default_value_t = 300)]
    rounds: usize,
}

pub async fn run(args: TimingArgs) -> Result<bool> {
    let binary = args.tessera.clone().unwrap_or_else(node::default_binary);
    let dir = TempDir::new("tessera-timing")?;
    let keys = seed::write_master_key(&dir.path().join("master.key"))?;
    let store = SqlStore::connect(&tessera_store::sqlite_url(dir.path()))
        .await
        .map_err(|e| anyhow::anyhow!("opening the store: {e:?}"))?;
    let known = 100;
    seed::seed(&store, &keys, known, 0, |_| {}).await?;
    store.close().await;
    let spec = NodeSpec {
        binary,
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        env: vec![("TESSERA_SIGN_IN_LIMIT_PER_MINUTE".into(), "0".into())],
    };
    let server = Node::start(&spec)?;
    let client = tessera_bench::scenario::http_client(1)?;
    let sign_in = |username: String| {
        let request = client
            .post(server.url("/api/v1/sign-in"))
            .json(&json!({"username": username, "password": "not the password"}));
        async move {
            let started = Instant::now();
            let response = request.send().await.context("signing in")?;
            let status = response.status().as_u16();
            let body = response.text().await.context("reading the answer")?;
            Ok::<_, anyhow::Error>((started.elapsed(), format!("{status} {body}")))
        }
    };

    for n in 0..20 {
        sign_in(seed::username(n % known)).await?;
    }
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    let mut answers = std::collections::BTreeSet::new();
    for round in 0..args.rounds {
        let names = [
            (true, seed::username(round as u64 % known)),
            (false, format!("nobody{round:07}@bench.example")),
        ];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (is_known, name) = names[i].clone();
            let (took, answer) = sign_in(name).await?;
            answers.insert(answer);
            if is_known {
                known_times.push(took);
            } else {
                unknown_times.push(took);
            }
        }
    }
    drop(server);

    let known = millis(&known_times);
    let unknown = millis(&unknown_times);
    let u = mann_whitney(&known, &unknown);
    let t = welch(&known, &unknown);
    println!(
        "Tessera timing: {} wrong-password sign-ins each for known and unknown usernames, one at a time, production Argon2id",
        args.rounds
    );
    println!();
    println!("| usernames | median ms | mean ms | sd ms |");
    println!("|---|---:|---:|---:|");
    for (name, sample) in [("known", &known), ("unknown", &unknown)] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            median(sample),
            mean(sample),
            variance(sample).sqrt()
        );
    }
    println!();
    println!("Mann–Whitney U: z = {:.2}, p = {:.3}", u.z, u.p);
    println!("Welch's t: t = {:.2}, p = {:.3}", t.z, t.p);
    println!(
        "distinct answers: {} ({})",
        answers.len(),
        answers.iter().next().map(String::as_str).unwrap_or("")
    );
    if answers.len() != 1 {
        bail!("known and unknown usernames got different answers: {answers:?}");
    }
    let alike = u.p >= ALPHA && t.p >= ALPHA;
    println!(
        "{} at the {:.0} % level",
        if alike {
            "indistinguishable"
        } else {
            "DISTINGUISHABLE"
        },
        ALPHA * 100.0
    );
    Ok(alike)
}

fn millis(times: &[Duration]) -> Vec<f64> {
    times.iter().map(|d| d.as_secs_f64() * 1000.0).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

fn median(x: &[f64]) -> f64 {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// A test statistic as a standard normal deviate, and its two-sided p-value.
#[derive(Debug)]
struct Test {
    z: f64,
    p: f64,
}

/// Mann–Whitney U with average ranks for ties, by the normal approximation (fine from a few
/// dozen samples each).
fn mann_whitney(a: &[f64], b: &[f64]) -> Test {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum_a = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let rank = (i + j + 2) as f64 / 2.0;
        rank_sum_a += rank * all[i..=j].iter().filter(|(_, in_a)| *in_a).count() as f64;
        i = j + 1;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let z = (u - n1 * n2 / 2.0) / (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    Test { z, p: two_sided(z) }
}

/// Welch's t; with hundreds of samples its distribution is the normal one.
fn welch(a: &[f64], b: &[f64]) -> Test {
    let se = (variance(a) / a.len() as f64 + variance(b) / b.len() as f64).sqrt();
    let z = (mean(a) - mean(b)) / se;
    Test { z, p: two_sided(z) }
}

fn two_sided(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_tail_is_right() {
        assert!((two_sided(1.96) - 0.05).abs() < 1e-3);
        assert!((two_sided(2.576) - 0.01).abs() < 1e-3);
        assert!((two_sided(0.0) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_same_sample_is_indistinguishable_and_a_shifted_one_is_not() {
        let a: Vec<f64> = (0..200).map(|i| 10.0 + (i % 17) as f64 * 0.1).collect();
        let same = mann_whitney(&a, &a);
        assert!(same.z.abs() < 1e-9 && same.p > 0.99, "{same:?}");
        let b: Vec<f64> = a.iter().map(|v| v + 0.5).collect();
        assert!(mann_whitney(&a, &b).p < 0.001);
        assert!(welch(&a, &b).p < 0.001);
    }
}
