//! Answering requests: `pending` (JSON lines, for scripts), `respond` (one signed answer),
//! and `watch` (waits, shows each request, and asks for the number shown on the sign-in
//! screen).

use super::device::{Client, Request};
use super::state::{Account, State};
use crate::failure::{Failure, Outcome};
use std::collections::HashSet;
use std::path::Path;
use tessera_core::method::authenticator_app::Decision;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long one long poll waits on the server.
const POLL_SECS: u64 = 25;

/// The accounts activated for notifications (only `wanted`, when named).
fn push_accounts(state: &State, wanted: Option<&str>) -> Outcome<Vec<Account>> {
    let accounts: Vec<Account> = match wanted {
        Some(_) => vec![state.find(wanted)?.clone()],
        None => state.accounts.clone(),
    };
    let accounts: Vec<Account> = accounts.into_iter().filter(|a| a.push.is_some()).collect();
    if accounts.is_empty() {
        return Err(Failure::usage(
            "no account is activated for notifications (add one with `tessera authenticator add`)",
        ));
    }
    Ok(accounts)
}

/// Keeps what the server said of the clock, so later codes and answers use its time.
fn remember(path: &Path, account: &Account) -> Outcome {
    let mut state = State::load(path)?;
    if let Some(slot) = state.accounts.iter_mut().find(|a| a.id == account.id) {
        slot.push = account.push.clone();
    }
    state.save(path)
}

#[derive(serde::Serialize)]
struct PendingLine<'a> {
    /// The account in this authenticator (the id `tessera authenticator list` shows); not
    /// `account`, which the request itself has: the person at the server.
    local_account: &'a str,
    #[serde(flatten)]
    request: &'a Request,
}

pub async fn pending(path: &Path, wanted: Option<&str>, wait: u64) -> Outcome {
    let state = State::load(path)?;
    let client = Client::new()?;
    for mut account in push_accounts(&state, wanted)? {
        let Some(push) = account.push.as_mut() else {
            continue;
        };
        let found = client.pending(push, wait.min(POLL_SECS)).await?;
        for request in &found {
            let line = PendingLine {
                local_account: &account.id,
                request,
            };
            let text = serde_json::to_string(&line)
                .map_err(|e| Failure::Runtime(format!("cannot write JSON: {e}")))?;
            println!("{text}");
        }
        remember(path, &account)?;
    }
    Ok(())
}

/// Finds the account a request belongs to by asking each server.
async fn owner(client: &Client, state: &State, id: &str) -> Outcome<(Account, Request)> {
    let mut last = Failure::usage("no account is activated for notifications");
    for mut account in push_accounts(state, None)? {
        let Some(push) = account.push.as_mut() else {
            continue;
        };
        match client.request(push, id).await {
            Ok(request) => return Ok((account, request)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

pub async fn respond(path: &Path, id: &str, decision: &str, number: Option<u8>) -> Outcome {
    let decision = Decision::parse(decision)
        .ok_or_else(|| Failure::usage("decide approve, deny or report"))?;
    if decision == Decision::Approve && number.is_none() {
        return Err(Failure::usage(
            "to approve, give the number shown on the sign-in screen with --number",
        ));
    }
    let state = State::load(path)?;
    let client = Client::new()?;
    let (account, _) = owner(&client, &state, id).await?;
    remember(path, &account)?;
    let Some(push) = account.push.as_ref() else {
        return Err(Failure::usage(
            "that account is not activated for notifications",
        ));
    };
    let number = number.filter(|_| decision == Decision::Approve);
    let status = client.answer(push, id, decision, number).await?;
    println!("{status}");
    Ok(())
}

/// What a person needs to decide: who, what, where from, when.
fn describe(request: &Request) -> String {
    let what = match request.purpose.as_str() {
        "sign_in" => "Sign-in request",
        "step_up" => "Request to verify it's you (to change security info)",
        "register" => "Test notification (setting up this app)",
        "reset" => "Password reset request",
        _ => "Request",
    };
    let from = match (&request.ip, &request.user_agent) {
        (Some(ip), Some(ua)) => format!("{ip}, {ua}"),
        (Some(ip), None) => ip.clone(),
        (None, Some(ua)) => ua.clone(),
        (None, None) => "unknown".into(),
    };
    format!(
        "{what} for {} ({}) at {}\n  from: {from}\n  at:   {} (expires {})",
        request.account.username,
        request.account.display_name,
        request.app,
        request.created_at,
        request.expires_at,
    )
}

/// A line typed at the prompt: a number approves, `d` denies, `r` denies and reports.
fn decide(line: &str) -> Option<(Decision, Option<u8>)> {
    let line = line.trim().to_lowercase();
    match line.as_str() {
        "d" | "deny" => Some((Decision::Deny, None)),
        "r" | "report" => Some((Decision::Report, None)),
        n => n.parse::<u8>().ok().map(|n| (Decision::Approve, Some(n))),
    }
}

pub async fn watch(path: &Path, wanted: Option<&str>) -> Outcome {
    let state = State::load(path)?;
    let mut accounts = push_accounts(&state, wanted)?;
    let client = Client::new()?;
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut seen: HashSet<String> = HashSet::new();
    println!("Waiting for requests (Ctrl-C to stop)…");
    loop {
        // Each account waits in turn while it has nothing; several accounts share the time.
        let wait = POLL_SECS / accounts.len().max(1) as u64;
        for account in accounts.iter_mut() {
            let label = account.label();
            let Some(push) = account.push.as_mut() else {
                continue;
            };
            let found = match client.pending(push, wait.max(1)).await {
                Ok(found) => found,
                Err(Failure::Runtime(m)) => {
                    eprintln!("{label}: {m}; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let fresh: Vec<Request> = found
                .into_iter()
                .filter(|r| seen.insert(r.id.clone()))
                .collect();
            for request in fresh {
                println!("\n{}", describe(&request));
                println!(
                    "Type the number shown on the sign-in screen to approve, d to deny, or r to deny and report:"
                );
                let Some(line) = stdin
                    .next_line()
                    .await
                    .map_err(|e| Failure::Runtime(format!("reading the answer: {e}")))?
                else {
                    println!("No more input; stopping.");
                    return Ok(());
                };
                let Some((decision, number)) = decide(&line) else {
                    println!("Not answered: type a number, d or r. The request stays pending.");
                    seen.remove(&request.id);
                    continue;
                };
                // The answer is signed on the server's clock, as just seen.
                match account.push.as_ref() {
                    Some(push) => match client.answer(push, &request.id, decision, number).await {
                        Ok(status) => println!("{}", outcome(&status)),
                        Err(e) => println!("Not accepted: {e}"),
                    },
                    None => continue,
                }
            }
            remember(path, account)?;
        }
    }
}

fn outcome(status: &str) -> &'static str {
    match status {
        "approved" => "Approved.",
        "denied" => "Denied.",
        "reported" => "Denied and reported.",
        _ => "Answered.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_answers_read_as_decisions() {
        assert_eq!(decide(" 42 "), Some((Decision::Approve, Some(42))));
        assert_eq!(decide("d"), Some((Decision::Deny, None)));
        assert_eq!(decide("Report"), Some((Decision::Report, None)));
        assert_eq!(decide("yes"), None);
        assert_eq!(decide("420"), None);
    }
}
