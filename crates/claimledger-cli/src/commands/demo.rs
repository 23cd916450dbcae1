//! `claims demo`: a short tour on real claims, on a fresh temporary ledger (or --ledger).

use super::compare::{comparison, write_comparison};
use super::history::write_history;
use crate::cli::CompareSort;
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::{CliError, CliResult, Exit};
use crate::output;
use claimledger_core::input::parse_command;
use claimledger_core::Archived;
use claimledger_core::Subject;
use claimledger_store::{forge, EvidenceStore, Ledger, SledStorage, Storage};
use std::io::Write;
use std::path::Path;

/// Every claim in two news reports on war casualties, in the claim input format.
pub const SEED_CLAIMS: &str = include_str!("../../../../examples/seed-claims.jsonl");

/// A saved copy of the second news report, the source of the followed claim's new figure.
pub const SAVED_REPORT: &str =
    include_str!("../../../../examples/evidence/casualties-report-2025-08-13.txt");
const SAVED_REPORT_PATH: &str = "examples/evidence/casualties-report-2025-08-13.txt";

/// The claim whose revision the tour follows.
const FOLLOWED_KEY: &str = "mediazona-named-dead";

fn rule(out: &mut dyn Write, title: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "\n── {title} {}",
        "─".repeat(76usize.saturating_sub(title.chars().count()))
    )
}

pub fn cmd_demo<T: Storage>(ctx: &mut Ctx<'_, T>) -> CliResult<Exit> {
    let Ctx { env, io, .. } = ctx;
    let temporary = match env.ledger_named {
        true => None,
        false => Some(
            tempfile::tempdir()
                .map_err(|e| CliError::io(format!("cannot make a temporary directory: {e}")))?,
        ),
    };
    let dir = temporary
        .as_ref()
        .map_or(env.ledger_dir.clone(), |t| t.path().join("ledger"));
    let out = &mut *io.out;

    rule(out, "1. A new ledger, and the claims of two news reports")?;
    let mut ledger = Ledger::open(SledStorage::create(&dir, env.wait)?)?;
    let commands = SEED_CLAIMS
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            parse_command(line)
                .map_err(|e| CliError::input(format!("seed claims line {}: {e}", i + 1)))
        })
        .collect::<CliResult<Vec<_>>>()?;
    let receipts = ledger.submit(&commands, &env.submit_context()?)?;
    writeln!(out, "ledger: {}", dir.display())?;
    writeln!(
        out,
        "imported {} from examples/seed-claims.jsonl (AFP, 25 Feb 2025; a report of 13 Aug 2025)",
        output::plural(receipts.len() as u64, "entry", "entries")
    )?;

    rule(
        out,
        "2. Who says how many Russian soldiers died?  claims compare russia/military-deaths --exact",
    )?;
    let subject = Subject::parse("russia/military-deaths").expect("a valid subject");
    write_comparison(
        out,
        &subject,
        &comparison(&ledger, &subject, true, CompareSort::Stated, None)?,
    )?;

    rule(
        out,
        &format!("3. How one figure changed, and why  claims history {FOLLOWED_KEY}"),
    )?;
    let followed = ledger
        .resolve(FOLLOWED_KEY)?
        .ok_or_else(|| CliError::input(format!("the seed claims lack {FOLLOWED_KEY}")))?;
    let history = ledger.history(followed)?;
    write_history(out, FOLLOWED_KEY, &history)?;

    rule(out, "4. Proving nothing was quietly edited  claims verify")?;
    let report = ledger.verify(&mut |_| {})?;
    if let Some(problem) = &report.problem {
        return Err(CliError::integrity(format!(
            "the demo ledger failed verification: {problem}"
        )));
    }
    writeln!(
        out,
        "verify: OK, {}, {}",
        output::plural(report.entries_checked, "entry", "entries"),
        output::plural(report.claim_count, "claim", "claims")
    )?;
    writeln!(
        out,
        "head:   {}   (claims head: write it down, or publish it)",
        report.head
    )?;

    evidence_step(out, env, &mut ledger, &dir, followed)?;

    rule(
        out,
        "6. Someone edits one stored byte of a copy: 95,300 becomes 85,300",
    )?;
    let original = history
        .first()
        .ok_or_else(|| CliError::integrity("the followed claim has no revisions"))?;
    let bytes = ledger
        .storage()
        .entry(original.seq)?
        .ok_or_else(|| CliError::integrity("an entry is missing"))?;
    drop(ledger);
    let copy = dir.with_file_name("ledger-altered-copy");
    copy_dir(&dir, &copy).map_err(|e| {
        CliError::io(format!(
            "cannot copy {} to {}: {e}",
            dir.display(),
            copy.display()
        ))
    })?;
    let edited = String::from_utf8_lossy(&bytes).replacen("\"95300\"", "\"85300\"", 1);
    let mut storage = SledStorage::open(&copy, env.wait)?;
    forge::overwrite_entry(&mut storage, original.seq, edited.as_bytes())?;
    let altered = Ledger::open(storage)?;
    match altered.verify(&mut |_| {})?.problem {
        Some(problem) => writeln!(out, "verify of the copy:     FAILED: {problem}")?,
        None => return Err(CliError::integrity("verify missed a forged entry")),
    }
    drop(altered);
    if temporary.is_none() {
        std::fs::remove_dir_all(&copy)
            .map_err(|e| CliError::io(format!("cannot remove {}: {e}", copy.display())))?;
    }
    let ledger = Ledger::open(SledStorage::open(&dir, env.wait)?)?;
    match ledger.verify(&mut |_| {})?.problem {
        None => writeln!(out, "verify of the original: OK, head {}", ledger.head())?,
        Some(problem) => {
            return Err(CliError::integrity(format!(
                "the original ledger failed verification: {problem}"
            )))
        }
    }
    writeln!(out, "\nEvery entry commits to the BLAKE3 hash of the entry before it, so the edit of entry {} shows.", original.seq)?;
    writeln!(out, "A ledger rewritten wholesale is caught only against a head kept elsewhere: publish `claims head`.")?;
    if temporary.is_some() {
        writeln!(out, "(The temporary ledger is removed now. To keep one: claims init; claims import examples/seed-claims.jsonl)")?;
    }
    Ok(Exit::SUCCESS)
}

/// Step 5: a saved copy of the source archived as evidence, verify hashing it, and a copy of
/// the evidence store with one byte of it changed, which verify catches.
fn evidence_step(
    out: &mut dyn Write,
    env: &Env,
    ledger: &mut Ledger<SledStorage>,
    dir: &Path,
    followed: claimledger_core::ClaimId,
) -> CliResult {
    rule(
        out,
        &format!(
            "5. Evidence that outlives the page  claims archive {FOLLOWED_KEY} --source 1 --file …"
        ),
    )?;
    let state = ledger
        .claim(followed)?
        .ok_or_else(|| CliError::integrity("the followed claim is gone"))?;
    let store = EvidenceStore::of_ledger(dir);
    let staged = store
        .stage(&mut SAVED_REPORT.as_bytes(), u64::MAX)
        .map_err(|e| CliError::io(format!("cannot keep the saved report: {e}")))?;
    let item = Archived {
        sha256: staged.sha256,
        size: staged.size,
        media_type: "text/plain".into(),
        captured_at: claimledger_core::Date::parse("2025-08-13").expect("a date"),
        url: None,
        status: None,
    };
    let sha256 = item.sha256;
    let receipt = super::archive::record_snapshot(
        ledger,
        &store,
        &state,
        0,
        staged,
        item,
        "a saved copy of the 13 Aug 2025 report, the source of the 121,507 figure".into(),
        None,
        &env.submit_context()?,
    )?;
    writeln!(
        out,
        "kept {SAVED_REPORT_PATH} ({}) as snapshot\n  {sha256}\n(what sha256sum prints for the file) in the ledger's evidence store, and bound it into\nthe log as revision {} of {FOLLOWED_KEY}, entry {}: a revision of kind evidence",
        output::bytes(SAVED_REPORT.len() as u64),
        receipt.revision,
        receipt.seq
    )?;
    let report = ledger.verify(&mut |_| {})?;
    let checked = store
        .check_all(&report.snapshots, &|_| {})
        .map_err(|e| CliError::io(format!("cannot read the evidence store: {e}")))?;
    match (&report.problem, checked) {
        (None, None) => writeln!(
            out,
            "verify: OK, {}, and {} hashed: the bytes are the ones the claim was recorded with",
            output::plural(report.entries_checked, "entry", "entries"),
            output::plural(report.snapshots.len() as u64, "snapshot", "snapshots")
        )?,
        (problem, fault) => {
            return Err(CliError::integrity(format!(
                "the demo's evidence failed verification: {problem:?} {fault:?}"
            )))
        }
    }
    // A copy of the evidence store, with 121,507 made 121,807 in the saved report.
    let copy = dir.with_file_name("ledger-evidence-copy");
    copy_dir(&dir.join("evidence"), &copy.join("evidence"))
        .map_err(|e| CliError::io(format!("cannot copy the evidence store: {e}")))?;
    let copied = EvidenceStore::of_ledger(&copy);
    let path = copied.path_of(&sha256);
    let altered = SAVED_REPORT.replacen("121,507", "121,807", 1);
    let mut permissions = std::fs::metadata(&path)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?
        .permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions)
        .and_then(|()| std::fs::write(&path, altered))
        .map_err(|e| CliError::io(format!("cannot alter {}: {e}", path.display())))?;
    let found = copied
        .check_all(&report.snapshots, &|_| {})
        .map_err(|e| CliError::io(format!("cannot read the copied evidence: {e}")))?;
    match found {
        Some((r, fault)) => writeln!(
            out,
            "someone changes 121,507 to 121,807 in a copy of the saved report; verify of the copy:\n  FAILED: snapshot {} of source {} of claim {FOLLOWED_KEY} {fault}",
            r.sha256,
            r.source + 1
        )?,
        None => return Err(CliError::integrity("verify missed an altered snapshot")),
    }
    std::fs::remove_dir_all(&copy)
        .map_err(|e| CliError::io(format!("cannot remove {}: {e}", copy.display())))?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for item in std::fs::read_dir(from)? {
        let item = item?;
        let target = to.join(item.file_name());
        if item.file_type()?.is_dir() {
            copy_dir(&item.path(), &target)?;
        } else {
            std::fs::copy(item.path(), target)?;
        }
    }
    Ok(())
}
