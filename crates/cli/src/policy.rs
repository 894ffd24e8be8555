//! `tessera policy …`: the organization's rules, read and changed as `KEY=VALUE`.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::print_json;
use tessera_core::Policy;
use tessera_core::policy::PolicyError;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the policy in force, as JSON
    Show(ShowArgs),
    /// Change keys, all or nothing (e.g. registration_required=false
    /// mfa_kinds=authenticator_code,security_key); print the new policy
    Set(SetArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Lists are comma-separated; `policy show` prints every key
    #[arg(value_name = "KEY=VALUE", required = true, num_args = 1..)]
    pub changes: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl PolicyCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            PolicyCommand::Show(a) => &a.config,
            PolicyCommand::Set(a) => &a.config,
        }
    }
}

pub async fn run(command: PolicyCommand, config: &Config) -> Outcome {
    // Malformed pairs are refused before the database is opened.
    let changes = match &command {
        PolicyCommand::Show(_) => None,
        PolicyCommand::Set(args) => Some(parse_changes(&args.changes)?),
    };
    let opened = open(config).await?;
    let admin = opened.tessera.local_admin();
    let result = match changes {
        None => admin.policy().await.map_err(Failure::from),
        Some(changes) => match admin.set_policy(&changes).await {
            Ok(Ok(policy)) => Ok(policy),
            Ok(Err(refused)) => Err(refusal(refused)),
            Err(e) => Err(Failure::from(e)),
        },
    };
    drop(admin);
    opened.close().await;
    let policy = result?;
    if policy.allows_reset(tessera_core::Kind::SecurityQuestions) {
        // The admin page says the same: they are off by default for a reason.
        eprintln!(
            "note: security questions are on for password reset. NIST SP 800-63B and OWASP \
             ASVS 5.0 (6.4.2) advise against them: answers are often public or guessable."
        );
    }
    print_json(&policy)
}

fn parse_changes(pairs: &[String]) -> Outcome<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_string(), value.to_string()))
            }
            _ => Err(Failure::Usage(format!(
                "`{pair}` is not KEY=VALUE (e.g. registration_required=false)"
            ))),
        })
        .collect()
}

fn refusal(e: PolicyError) -> Failure {
    match e {
        PolicyError::UnknownKey(key) => Failure::Usage(format!(
            "unknown policy key `{key}`; the keys are {}; nothing was changed",
            known_keys().join(", ")
        )),
        PolicyError::Invalid { .. } => Failure::Usage(format!("{e}; nothing was changed")),
    }
}

/// The policy's keys, read off its JSON so the list cannot fall behind the type.
fn known_keys() -> Vec<String> {
    match serde_json::to_value(Policy::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_at_the_first_equals_sign() {
        let parsed = parse_changes(&["a=b=c".to_string(), " k =v".to_string()]);
        assert_eq!(
            parsed.ok(),
            Some(vec![
                ("a".to_string(), "b=c".to_string()),
                ("k".to_string(), "v".to_string())
            ])
        );
        assert!(parse_changes(&["novalue".to_string()]).is_err());
        assert!(parse_changes(&["=1".to_string()]).is_err());
    }

    #[test]
    fn an_unknown_key_lists_the_known_ones() {
        let message = refusal(PolicyError::UnknownKey("nope".into())).to_string();
        assert!(message.contains("`nope`"), "{message}");
        assert!(message.contains("registration_required"), "{message}");
    }
}
