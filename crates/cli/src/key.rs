//! `tessera key status|add|rotate|retire`: master key rotation while servers run
//! (docs/design/key-rotation.md). The key file lists the keys (all open); the database names
//! the one that seals, so every node agrees; running servers read both again every few
//! seconds (`key_reload`).

use crate::config::{Config, ConfigArgs};
use crate::failure::{Failure, Outcome, chain};
use crate::key_reload::write_key_file;
use crate::open::{Opened, open};
use crate::output::{JsonArgs, print_json, table};
use serde::Serialize;
use std::path::Path;
use tessera_core::audit::AuditAction;
use tessera_core::key_rotation::{
    KeyUsage, Pass, RELOAD_EVERY, Sealing, apply_sealing, reseal_all, usage,
};
use tessera_core::store::audit::AuditStore;
use tessera_core::store::sealed::SealedStore;
use tessera_core::{KeyRing, OsRandom, StoreError};

/// Values per transaction: short enough that sign-ins never wait long behind one.
const DEFAULT_BATCH: u32 = 200;
/// A pass that keeps finding changed values gives up after this many (it reports them).
const MAX_PASSES: usize = 10;

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Show the keys in the key file, which one seals, and how many values each still seals
    Status(JsonArgs),
    /// Add a new key that opens but does not seal yet; copy the key file to every node next
    Add(JsonArgs),
    /// Make the newest key seal and re-seal every sealed value with it, in batches, while
    /// servers run. With no key added before, one is added first (one node)
    Rotate(RotateArgs),
    /// Remove a key from the key file, once nothing is sealed with it any more
    Retire(RetireArgs),
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Values re-sealed per transaction
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH)]
    pub batch: u32,
    /// On PostgreSQL with no key added before: add one here and use it at once. Only when
    /// this is the only node; other nodes could not open what it seals
    #[arg(long)]
    pub single_node: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, clap::Args)]
pub struct RetireArgs {
    /// The key's id (as `tessera key status` lists it)
    pub id: u32,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl KeyCommand {
    pub fn config_args(&self) -> &ConfigArgs {
        match self {
            KeyCommand::Status(a) | KeyCommand::Add(a) => &a.config,
            KeyCommand::Rotate(a) => &a.config,
            KeyCommand::Retire(a) => &a.config,
        }
    }
}

pub async fn run(command: KeyCommand, config: &Config) -> Outcome {
    let opened = open(config).await?;
    let path = config.master_key_file();
    let result = execute(command, &opened, &path).await;
    opened.close().await;
    result
}

fn db(e: StoreError) -> Failure {
    Failure::Runtime(format!("database: {}", chain(&e)))
}

/// The key file as it is now, sealing with the key the database names. A database that
/// names a key this file lacks is refused: acting on it would mix up keys.
async fn ring_now(store: &dyn SealedStore, path: &Path) -> Outcome<(KeyRing, Sealing)> {
    let ring = crate::data_dir::load_key(path)?;
    let sealing = apply_sealing(store, &ring).await.map_err(db)?;
    if let Sealing::Missing { missing, .. } = sealing {
        return Err(Failure::Runtime(format!(
            "the database says key {missing} seals, but {} holds keys {}: copy the key file \
             from the node where `tessera key add` ran, then try again",
            path.display(),
            ids_text(&ring.ids())
        )));
    }
    Ok((ring, sealing))
}

fn ids_text(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn execute(command: KeyCommand, opened: &Opened, path: &Path) -> Outcome {
    let store: &dyn SealedStore = opened.store.as_ref();
    match command {
        KeyCommand::Status(args) => status(opened, store, path, args.json).await,
        KeyCommand::Add(args) => {
            let (ring, sealing) = ring_now(store, path).await?;
            let id = add_key(opened, path, ring, sealing).await?;
            if args.json {
                return print_json(
                    &serde_json::json!({ "added": id, "sealing": sealing_id(sealing) }),
                );
            }
            println!(
                "added key {id} to {}; it opens but does not seal yet.\n\
                 Copy this file to every node (running servers read it again within {} s), \
                 then run `tessera key rotate`.",
                path.display(),
                RELOAD_EVERY.as_secs()
            );
            Ok(())
        }
        KeyCommand::Rotate(args) => rotate(opened, store, path, &args).await,
        KeyCommand::Retire(args) => retire(opened, store, path, args.id).await,
    }
}

fn sealing_id(sealing: Sealing) -> u32 {
    match sealing {
        Sealing::Highest(id) | Sealing::Chosen(id) => id,
        Sealing::Missing { sealing, .. } => sealing,
    }
}

/// Appends a fresh key to the file. The database is told which key seals first, so that
/// servers reading the file (where the highest id would otherwise seal) keep sealing with it.
async fn add_key(
    opened: &Opened,
    path: &Path,
    mut ring: KeyRing,
    sealing: Sealing,
) -> Outcome<u32> {
    if let Sealing::Highest(id) = sealing {
        set_sealing(opened, id, None).await?;
    }
    let id = ring.add(&OsRandom);
    write_key_file(path, &ring)?;
    let event = opened.tessera.key_event(
        AuditAction::MasterKeyAdded,
        serde_json::json!({ "key": id }),
    );
    opened.store.append_audit(&event).await.map_err(db)?;
    Ok(id)
}

/// Names the sealing key in the database, with its audit event.
async fn set_sealing(opened: &Opened, id: u32, was: Option<u32>) -> Outcome {
    let event = opened.tessera.key_event(
        AuditAction::SealingKeyChanged,
        serde_json::json!({ "key": id, "was": was }),
    );
    opened
        .store
        .set_sealing_key_id(id, &event)
        .await
        .map_err(db)
}

#[derive(Serialize)]
struct KeyRow {
    id: u32,
    in_key_file: bool,
    seals: bool,
    sealed_values: u64,
    valid_sent_codes: u64,
}

async fn status(opened: &Opened, store: &dyn SealedStore, path: &Path, json: bool) -> Outcome {
    let ring = crate::data_dir::load_key(path)?;
    let sealing = apply_sealing(store, &ring).await.map_err(db)?;
    let used = usage(store, opened.tessera.now()).await.map_err(db)?;
    let sealing_key = match sealing {
        Sealing::Highest(id) | Sealing::Chosen(id) => id,
        Sealing::Missing { missing, .. } => missing,
    };
    let mut ids: std::collections::BTreeSet<u32> = ring.ids().into_iter().collect();
    ids.extend(used.key_ids());
    ids.insert(sealing_key);
    let rows: Vec<KeyRow> = ids
        .into_iter()
        .map(|id| KeyRow {
            id,
            in_key_file: ring.contains(id),
            seals: id == sealing_key,
            sealed_values: used.sealed(id),
            valid_sent_codes: used.codes(id),
        })
        .collect();
    if json {
        let columns: Vec<serde_json::Value> = used
            .columns
            .iter()
            .map(|(c, counts)| serde_json::json!({ "column": c.name(), "by_key": counts }))
            .collect();
        return print_json(&serde_json::json!({
            "key_file": path.display().to_string(),
            "sealing": sealing_key,
            "sealing_set_in_database": !matches!(sealing, Sealing::Highest(_)),
            "keys": rows,
            "columns": columns,
        }));
    }
    println!("key file: {}", path.display());
    match sealing {
        Sealing::Highest(id) => println!("sealing key: {id} (the highest in the key file)"),
        Sealing::Chosen(id) => println!("sealing key: {id} (set in the database)"),
        Sealing::Missing { missing, .. } => println!(
            "sealing key: {missing} (set in the database), NOT IN THIS KEY FILE: copy the key \
             file from the node where `tessera key add` ran"
        ),
    }
    let mut lines = vec![
        [
            "KEY",
            "IN KEY FILE",
            "SEALS",
            "SEALED VALUES",
            "VALID SENT CODES",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    for r in &rows {
        lines.push(vec![
            r.id.to_string(),
            yes_no(r.in_key_file),
            yes_no(r.seals),
            r.sealed_values.to_string(),
            r.valid_sent_codes.to_string(),
        ]);
    }
    print!("{}", table(&lines));
    for (column, counts) in &used.columns {
        if counts.is_empty() {
            continue;
        }
        let by_key: Vec<String> = counts
            .iter()
            .map(|(k, n)| format!("key {k}: {n}"))
            .collect();
        println!("  {}: {}", column.name(), by_key.join(", "));
    }
    Ok(())
}

async fn rotate(
    opened: &Opened,
    store: &dyn SealedStore,
    path: &Path,
    args: &RotateArgs,
) -> Outcome {
    let (ring, sealing) = ring_now(store, path).await?;
    let current = sealing_id(sealing);
    let before = usage(store, opened.tessera.now()).await.map_err(db)?;
    let (ring, target) = if ring.highest_id() > current {
        // `tessera key add` ran (and the file was copied to the other nodes).
        let target = ring.highest_id();
        (ring, target)
    } else if before.sealed_elsewhere(current) > 0 && matches!(sealing, Sealing::Chosen(_)) {
        // An earlier rotation stopped half-way: finish it with the same key.
        println!(
            "resuming: {} values are not sealed with key {current} yet",
            before.sealed_elsewhere(current)
        );
        (ring, current)
    } else {
        if opened.store.is_postgres() && !args.single_node {
            return Err(Failure::Usage(
                "on PostgreSQL, other nodes must hold the new key before it seals: run \
                 `tessera key add`, copy the key file to every node, then `tessera key rotate` \
                 (or pass --single-node if this is the only node)"
                    .into(),
            ));
        }
        let target = add_key(opened, path, ring, sealing).await?;
        println!("added key {target} to {}", path.display());
        (crate::data_dir::load_key(path)?, target)
    };
    if !ring.set_sealing(target) {
        return Err(Failure::Runtime(format!(
            "key {target} is not in {}",
            path.display()
        )));
    }
    // Servers read the key file and the sealing key id every RELOAD_EVERY; two of those are
    // enough for each to have run its reload once, even a little late on a busy machine.
    let settle = RELOAD_EVERY * 2;
    // First every server reads the file (copied before this command, or just written by it),
    // so none is asked to open a value sealed with a key it does not hold yet.
    println!(
        "waiting {} s for running servers to read key {target} from their key files",
        settle.as_secs()
    );
    tokio::time::sleep(settle).await;
    if current != target || !matches!(sealing, Sealing::Chosen(_)) {
        set_sealing(opened, target, Some(current)).await?;
    }
    let chosen = std::time::Instant::now();
    println!("key {target} seals from now on; re-sealing every value sealed with another key");

    let mut report = |p: &Pass| {
        println!(
            "  {}: {} re-sealed{}",
            p.column.name(),
            p.resealed,
            if p.unreadable > 0 {
                format!(", {} do not open", p.unreadable)
            } else {
                String::new()
            }
        );
    };
    let mut passes = 0;
    let mut unreadable;
    loop {
        passes += 1;
        let done = reseal_all(store, &ring, &OsRandom, args.batch, &mut report)
            .await
            .map_err(db)?;
        unreadable = done.iter().map(|p| p.unreadable).sum::<u64>();
        let busy = done.iter().any(|p| p.resealed > 0 || p.changed > 0);
        // Until every server has learned the new sealing key, one may still seal with the
        // old one: the last pass starts only after that.
        if chosen.elapsed() < settle {
            let wait = settle - chosen.elapsed();
            println!(
                "waiting {} s for running servers to seal with key {target}",
                wait.as_secs().max(1)
            );
            tokio::time::sleep(wait).await;
            continue;
        }
        if !busy || passes >= MAX_PASSES {
            break;
        }
    }
    let after = usage(store, opened.tessera.now()).await.map_err(db)?;
    let left = after.sealed_elsewhere(target);
    for id in ring.ids().into_iter().filter(|id| *id != target) {
        let (sealed, codes) = (after.sealed(id), after.codes(id));
        if sealed == 0 && codes == 0 {
            println!("key {id} seals nothing now: `tessera key retire {id}` removes it");
        } else if sealed == 0 {
            println!(
                "key {id} seals nothing now; {codes} sent codes checked with it are still \
                 valid: retire it once they lapse (10 minutes at most)"
            );
        }
    }
    if left > 0 {
        return Err(Failure::Runtime(format!(
            "{left} values are still sealed with other keys than {target} ({unreadable} did \
             not open: sealed with a key this file lacks, or damaged); `tessera key status` \
             lists them"
        )));
    }
    println!("done: every sealed value is sealed with key {target}");
    Ok(())
}

async fn retire(opened: &Opened, store: &dyn SealedStore, path: &Path, id: u32) -> Outcome {
    let (ring, sealing) = ring_now(store, path).await?;
    if !ring.contains(id) {
        return Err(Failure::Usage(format!(
            "{} holds no key {id} (it holds {})",
            path.display(),
            ids_text(&ring.ids())
        )));
    }
    if id == sealing_id(sealing) {
        return Err(Failure::Usage(format!(
            "key {id} seals: run `tessera key rotate` first"
        )));
    }
    let used: KeyUsage = usage(store, opened.tessera.now()).await.map_err(db)?;
    if used.sealed(id) > 0 {
        return Err(Failure::Usage(format!(
            "{} values are still sealed with key {id}: run `tessera key rotate` first \
             (`tessera key status` shows where they are)",
            used.sealed(id)
        )));
    }
    if used.codes(id) > 0 {
        return Err(Failure::Usage(format!(
            "{} sent codes still valid are checked with key {id}: try again once they lapse \
             (10 minutes at most)",
            used.codes(id)
        )));
    }
    let Some(next) = ring.without(id) else {
        return Err(Failure::Usage(format!("key {id} is the only key")));
    };
    write_key_file(path, &next)?;
    let event = opened.tessera.key_event(
        AuditAction::MasterKeyRetired,
        serde_json::json!({ "key": id }),
    );
    opened.store.append_audit(&event).await.map_err(db)?;
    println!(
        "retired key {id}: {} now holds keys {}. Copy it to every node (running servers read \
         it again within {} s). Backups made before the rotation need the old key file.",
        path.display(),
        ids_text(&next.ids()),
        RELOAD_EVERY.as_secs()
    );
    Ok(())
}
