//! `tessera forward-auth …`: the access rules of forward authentication, as the admin API and
//! page manage them (docs/design/forward-auth.md). Rules are tried in order, the first that
//! matches decides, and a request matching none is denied; positions count from 0.

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome};
use crate::open::open;
use crate::output::{JsonArgs, print_json, table, timestamp};
use serde::Serialize;
use tessera_core::admin::Admin;
use tessera_core::forward_auth::{Level, NewRule, RuleError};
use tessera_core::store::forward_auth::StoredRule;
use tessera_core::{ForwardAuthRuleId, Tessera};

#[derive(Debug, clap::Subcommand)]
pub enum ForwardAuthCommand {
    /// Manage the access rules (the first that matches a request decides; no match: denied)
    #[command(subcommand)]
    Rule(RuleCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum RuleCommand {
    /// Add a rule, last or at --position
    Add(AddArgs),
    /// List the rules in order
    List(JsonArgs),
    /// Show a rule
    Show(IdArgs),
    /// Change a rule; only what is given changes, and it keeps its place
    Set(SetArgs),
    /// Move a rule to another place; the others keep their order
    Move(MoveArgs),
    /// Remove a rule
    Remove(IdArgs),
}

/// What `add` and `set` share; for `set`, absent means unchanged.
#[derive(Debug, clap::Args)]
pub struct Settings {
    /// A host name, or `*.` and a domain for every host under it; repeat for more
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// A path, or a prefix ending in `*` (`/admin/*`); repeat for more [default: every path]
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Only accounts in one of these groups (`tessera-admins`: the admins); repeat for more
    /// [default: everyone]
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// How old the second factor may be, in seconds (60 to 2592000)
    #[arg(long, value_name = "SECS")]
    pub max_age: Option<u64>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// What a request needs: bypass, one_factor, two_factor or phishing_resistant
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Level,
    /// Its place, from 0: before the rule now there [default: last]
    #[arg(long, value_name = "N")]
    pub position: Option<u32>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    pub id: String,
    /// A new level: bypass, one_factor, two_factor or phishing_resistant
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub level: Option<Level>,
    /// Every path (removes the paths)
    #[arg(long, conflicts_with = "paths")]
    pub no_paths: bool,
    /// Everyone (removes the groups)
    #[arg(long, conflicts_with = "groups")]
    pub no_groups: bool,
    /// No maximum age of the second factor
    #[arg(long, conflicts_with = "max_age")]
    pub no_max_age: bool,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    pub id: String,
    /// Its new place, from 0 (past the end: last)
    #[arg(long, value_name = "N")]
    pub position: u32,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct IdArgs {
    pub id: String,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(&s.to_ascii_lowercase().replace('-', "_"))
        .ok_or_else(|| "bypass, one_factor, two_factor or phishing_resistant".to_string())
}

impl ForwardAuthCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        let ForwardAuthCommand::Rule(c) = self;
        match c {
            RuleCommand::Add(a) => &a.settings.config,
            RuleCommand::List(a) => &a.config,
            RuleCommand::Show(a) | RuleCommand::Remove(a) => &a.config,
            RuleCommand::Set(a) => &a.settings.config,
            RuleCommand::Move(a) => &a.config,
        }
    }
}

pub async fn run(command: ForwardAuthCommand, config: &Config) -> Outcome {
    // A rule that cannot be right is refused before the database opens.
    if let ForwardAuthCommand::Rule(RuleCommand::Add(args)) = &command {
        checked(new_rule(args))?;
    }
    let opened = open(config).await?;
    let result = execute(command, &opened.tessera).await;
    opened.close().await;
    result
}

async fn execute(command: ForwardAuthCommand, tessera: &Tessera) -> Outcome {
    let admin = tessera.local_admin();
    let ForwardAuthCommand::Rule(command) = command;
    match command {
        RuleCommand::Add(args) => {
            let created = admin
                .create_forward_auth_rule(&checked(new_rule(&args))?, args.position)
                .await?;
            let (at, rule) = find(&admin, &created.id.to_string()).await?;
            if !args.settings.json {
                println!("added rule {} at position {at}", rule.id);
            }
            print_rule(&rule, at, args.settings.json)?;
        }
        RuleCommand::List(args) => {
            let rules = admin.forward_auth_rules().await?;
            print_list(&rules, args.json)?;
        }
        RuleCommand::Show(args) => {
            let (at, rule) = find(&admin, &args.id).await?;
            print_rule(&rule, at, args.json)?;
        }
        RuleCommand::Set(args) => {
            let (_, old) = find(&admin, &args.id).await?;
            let new = checked(changed(&old, &args))?;
            admin.update_forward_auth_rule(old.id, &new).await?;
            let (at, rule) = find(&admin, &args.id).await?;
            print_rule(&rule, at, args.settings.json)?;
        }
        RuleCommand::Move(args) => {
            let (_, rule) = find(&admin, &args.id).await?;
            admin.move_forward_auth_rule(rule.id, args.position).await?;
            let rules = admin.forward_auth_rules().await?;
            print_list(&rules, args.json)?;
        }
        RuleCommand::Remove(args) => {
            let (_, rule) = find(&admin, &args.id).await?;
            admin.delete_forward_auth_rule(rule.id).await?;
            if args.json {
                return print_json(&serde_json::json!({ "removed": rule.id.to_string() }));
            }
            println!("removed rule {}", rule.id);
        }
    }
    Ok(())
}

fn new_rule(args: &AddArgs) -> NewRule {
    let s = &args.settings;
    NewRule {
        domains: s.domains.clone(),
        paths: s.paths.clone(),
        level: args.level.as_str().to_string(),
        groups: s.groups.clone(),
        max_age_secs: s.max_age,
    }
}

/// `old` with what `args` gives.
fn changed(old: &StoredRule, args: &SetArgs) -> NewRule {
    let s = &args.settings;
    let or_old = |given: &[String], clear: bool, was: Vec<String>| {
        if clear {
            Vec::new()
        } else if given.is_empty() {
            was
        } else {
            given.to_vec()
        }
    };
    let rule = &old.rule;
    NewRule {
        domains: or_old(
            &s.domains,
            false,
            rule.domains.iter().map(ToString::to_string).collect(),
        ),
        paths: or_old(
            &s.paths,
            args.no_paths,
            rule.paths.iter().cloned().map(String::from).collect(),
        ),
        level: args.level.unwrap_or(rule.level).as_str().to_string(),
        groups: or_old(&s.groups, args.no_groups, rule.groups.clone()),
        max_age_secs: if args.no_max_age {
            None
        } else {
            s.max_age.or(max_age_secs(old))
        },
    }
}

fn max_age_secs(r: &StoredRule) -> Option<u64> {
    r.rule
        .max_age
        .and_then(|d| u64::try_from(d.whole_seconds()).ok())
}

/// The rule checked here, so a refusal names the flag at fault.
fn checked(new: NewRule) -> Outcome<NewRule> {
    new.validate().map(|_| new).map_err(refusal)
}

fn refusal(e: RuleError) -> Failure {
    let flag = match &e {
        RuleError::NoDomain | RuleError::Domain(_) => "--domain",
        RuleError::Path(_) => "--path",
        RuleError::Level(_) | RuleError::BypassWithConditions => "--level",
        RuleError::Group(_) => "--group",
        RuleError::TooMany { field } => match *field {
            "paths" => "--path",
            "groups" => "--group",
            _ => "--domain",
        },
        RuleError::MaxAge => "--max-age",
    };
    Failure::Usage(format!("{flag}: {e}; nothing was changed"))
}

/// The rule `raw` names and its place; a usage error naming the id otherwise.
async fn find(admin: &Admin<'_>, raw: &str) -> Outcome<(usize, StoredRule)> {
    let missing = || Failure::Usage(format!("there is no rule with id {raw}"));
    let id: ForwardAuthRuleId = raw.trim().parse().map_err(|_| missing())?;
    let rules = admin.forward_auth_rules().await.map_err(Failure::from)?;
    rules
        .into_iter()
        .enumerate()
        .find(|(_, r)| r.id == id)
        .ok_or_else(missing)
}

/// A rule as scripts see it, as the admin API answers it.
#[derive(Debug, Serialize)]
struct RuleView {
    id: String,
    position: usize,
    domains: Vec<String>,
    paths: Vec<String>,
    level: &'static str,
    groups: Vec<String>,
    max_age_secs: Option<u64>,
    created_at: String,
}

impl RuleView {
    fn new(r: &StoredRule, position: usize) -> Self {
        RuleView {
            id: r.id.to_string(),
            position,
            domains: r.rule.domains.iter().map(ToString::to_string).collect(),
            paths: r.rule.paths.iter().cloned().map(String::from).collect(),
            level: r.rule.level.as_str(),
            groups: r.rule.groups.clone(),
            max_age_secs: max_age_secs(r),
            created_at: timestamp(r.created_at),
        }
    }

    fn list(items: &[String], none: &str) -> String {
        if items.is_empty() {
            none.to_string()
        } else {
            items.join(" ")
        }
    }

    fn max_age(&self) -> String {
        self.max_age_secs
            .map_or_else(|| "-".to_string(), |s| format!("{s}s"))
    }

    fn text(&self) -> String {
        let rows = [
            ["id", &self.id],
            ["position", &self.position.to_string()],
            ["domains", &Self::list(&self.domains, "-")],
            ["paths", &Self::list(&self.paths, "(every path)")],
            ["level", self.level],
            ["groups", &Self::list(&self.groups, "(everyone)")],
            ["max age", &self.max_age()],
            ["created", &self.created_at],
        ]
        .map(|[k, v]| vec![k.to_string(), v.to_string()]);
        table(&rows)
    }
}

fn print_rule(rule: &StoredRule, at: usize, json: bool) -> Outcome {
    let view = RuleView::new(rule, at);
    if json {
        print_json(&view)
    } else {
        print!("{}", view.text());
        Ok(())
    }
}

fn print_list(rules: &[StoredRule], json: bool) -> Outcome {
    let views: Vec<RuleView> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleView::new(r, i))
        .collect();
    if json {
        return print_json(&views);
    }
    if views.is_empty() {
        eprintln!("no rules: every request to a protected site is denied");
        return Ok(());
    }
    let mut rows = vec![
        [
            "POS", "ID", "DOMAINS", "PATHS", "LEVEL", "GROUPS", "MAX AGE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for v in &views {
        rows.push(vec![
            v.position.to_string(),
            v.id.clone(),
            RuleView::list(&v.domains, "-"),
            RuleView::list(&v.paths, "*"),
            v.level.to_string(),
            RuleView::list(&v.groups, "*"),
            v.max_age(),
        ]);
    }
    print!("{}", table(&rows));
    println!("the first rule that matches decides; a request matching none is denied");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use tessera_core::forward_auth::{DomainPattern, PathPattern, Rule};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ForwardAuthCommand,
    }

    fn parse(args: &[&str]) -> Result<RuleCommand, clap::Error> {
        let mut all = vec!["forward-auth", "rule"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|c| {
            let ForwardAuthCommand::Rule(r) = c.command;
            r
        })
    }

    fn set_args(args: &[&str]) -> SetArgs {
        let mut all = vec!["set", "id"];
        all.extend_from_slice(args);
        match parse(&all).expect("parses") {
            RuleCommand::Set(a) => a,
            other => panic!("{other:?}"),
        }
    }

    fn stored() -> StoredRule {
        StoredRule {
            id: "00000000-0000-0000-0000-000000000000".parse().expect("id"),
            rule: Rule {
                domains: vec![DomainPattern::parse("wiki.example.org").expect("domain")],
                paths: vec![PathPattern::parse("/admin/*").expect("path")],
                level: Level::PhishingResistant,
                groups: vec!["ops".into()],
                max_age: Some(time::Duration::minutes(10)),
            },
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn set_changes_only_what_is_given() {
        let old = stored();
        let same = changed(&old, &set_args(&[]));
        assert_eq!(same.domains, ["wiki.example.org"]);
        assert_eq!(same.paths, ["/admin/*"]);
        assert_eq!(same.level, "phishing_resistant");
        assert_eq!(same.groups, ["ops"]);
        assert_eq!(same.max_age_secs, Some(600));

        let new = changed(
            &old,
            &set_args(&[
                "--no-paths",
                "--no-groups",
                "--no-max-age",
                "--level",
                "two-factor",
                "--domain",
                "a.example.org",
                "--domain",
                "b.example.org",
            ]),
        );
        assert_eq!(new.domains, ["a.example.org", "b.example.org"]);
        assert!(new.paths.is_empty() && new.groups.is_empty());
        assert_eq!(new.max_age_secs, None);
        assert_eq!(new.level, "two_factor");
    }

    #[test]
    fn opposite_flags_and_unknown_levels_are_refused() {
        assert!(parse(&["set", "id", "--path", "/a", "--no-paths"]).is_err());
        assert!(parse(&["set", "id", "--max-age", "60", "--no-max-age"]).is_err());
        assert!(parse(&["add", "--domain", "a.example.org", "--level", "strong"]).is_err());
        assert!(
            parse(&["add", "--domain", "a.example.org"]).is_err(),
            "a level"
        );
        assert!(parse(&["move", "id"]).is_err(), "a position");
    }

    #[test]
    fn a_refusal_names_the_flag() {
        let message = refusal(RuleError::MaxAge).to_string();
        assert!(message.starts_with("--max-age: "), "{message}");
        let message = refusal(RuleError::TooMany { field: "groups" }).to_string();
        assert!(message.starts_with("--group: "), "{message}");
    }
}
