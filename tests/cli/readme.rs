//! The README's tour, run as written: every command of its `sh` block under "A short tour", in
//! order, in a fresh directory, with `claims` on the PATH. The commands are read from the
//! README itself, so the README and this test cannot drift apart: a line added to the tour is
//! run here too.
//!
//! Each command must succeed with nothing on standard error that starts with `error:`.
//! `EXPECTED` adds what some commands must print. A command that does not end by itself (a
//! server) needs handling in `run_tour` before it can join the tour.

use crate::support::{bin, text, AUTHOR, NOW};
use std::path::Path;
use std::process::{Command, Output};

/// What commands of the tour print, as (the command's start, text its output must contain).
/// The comments in the README promise these.
const EXPECTED: &[(&str, &str)] = &[
    ("claims show mediazona-named-dead  ", "121,507 soldiers"),
    (
        "claims show mediazona-named-dead --stated-by 2025-03",
        "95,300 soldiers",
    ),
    ("claims compare russia/military-deaths  ", "5,937"),
    ("claims compare russia/military-deaths  ", "≈ 165,000"),
    ("claims compare russia/military-deaths  ", "121,507"),
    (
        "claims compare russia/military-deaths --exact --stated-by 2025-03",
        "95,300",
    ),
    ("claims history mediazona-named-dead", "update: "),
    (
        "claims show mediazona-named-dead --as-of 1",
        "95,300 soldiers",
    ),
    ("claims verify  ", "OK: "),
    ("claims verify  ", "1 snapshot (2.3 KiB) hashed and intact"),
    (
        "claims evidence list",
        "9db499a5b7710b2260a4a0cecdcec2281fe30bdb5099775781f0a47034767013",
    ),
    ("claims verify --expect-head", "holds the expected head"),
    ("claims verify --bundle", "OK: "),
    ("claims verify-proof", "OK: entry 34 (revision 3 of claim "),
    ("claims key verifier", "+"),
    ("claims publish", "published "),
    ("claims monitor", "OK: "),
];

/// The tour's commands: the lines of the first `sh` block after "## A short tour", with
/// continued lines joined and blank lines left out. Comments are left to the shell.
pub fn tour_commands(readme: &str) -> Vec<String> {
    let tour = readme
        .split_once("## A short tour")
        .expect("the README has a tour")
        .1;
    let block = tour
        .split_once("```sh\n")
        .expect("the tour has an sh block")
        .1
        .split_once("\n```")
        .expect("the block ends")
        .0;
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        match line.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    commands.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    commands
}

/// A command without its comment, for matching `EXPECTED` (which pads with spaces where a
/// command must end there).
fn without_comment(command: &str) -> String {
    let mut quoted: Option<char> = None;
    let mut kept = String::new();
    for c in command.chars() {
        match (quoted, c) {
            (None, '#') => break,
            (None, '\'' | '"') => quoted = Some(c),
            (Some(q), c) if c == q => quoted = None,
            _ => {}
        }
        kept.push(c);
    }
    format!("{}  ", kept.trim_end())
}

/// Runs one command of the tour with `sh` in `dir`, as a reader would: `claims` on the PATH,
/// HOME at `dir`, the clock and author pinned, no ledger from the environment.
pub fn tour_shell(dir: &Path, command: &str) -> Output {
    let bin_dir = bin().parent().expect("a directory").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", &path)
        .env("HOME", dir)
        .env("CLAIMS_NOW", NOW)
        .env("CLAIMS_AUTHOR", AUTHOR)
        .env_remove("CLAIMS_LEDGER")
        .output()
        .expect("sh runs")
}

fn run_tour(dir: &Path, commands: &[String]) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    for command in commands {
        let out = tour_shell(dir, command);
        let stderr = text(&out.stderr);
        assert!(
            out.status.success(),
            "the README's `{command}` failed ({:?}): {stderr}",
            out.status.code()
        );
        assert!(
            !stderr.lines().any(|l| l.starts_with("error:")),
            "`{command}`: {stderr}"
        );
        outputs.push((command.clone(), text(&out.stdout)));
    }
    outputs
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the README");
    let commands = tour_commands(&readme);
    assert!(commands.len() >= 20, "{commands:#?}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    std::fs::copy(
        root.join("examples/seed-claims.jsonl"),
        dir.path().join("examples/seed-claims.jsonl"),
    )
    .expect("the seed claims");
    std::fs::create_dir(dir.path().join("examples/evidence")).unwrap();
    std::fs::copy(
        root.join("examples/evidence/casualties-report-2025-08-13.txt"),
        dir.path()
            .join("examples/evidence/casualties-report-2025-08-13.txt"),
    )
    .expect("the saved report");
    let outputs = run_tour(dir.path(), &commands);
    for (start, expected) in EXPECTED {
        let matching: Vec<&(String, String)> = outputs
            .iter()
            .filter(|(command, _)| without_comment(command).starts_with(start))
            .collect();
        assert!(!matching.is_empty(), "the tour has no `{start}`");
        for (command, stdout) in matching {
            assert!(
                stdout.contains(expected),
                "`{command}` should print {expected:?}:\n{stdout}"
            );
        }
    }
    // The files the tour writes are what they say they are.
    let written = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert!(written("july.csv").starts_with("id,key,revision,"));
    assert!(written("verifier.txt").contains('+'));
    assert!(written("claims.bash").contains("claims"));
    assert!(dir.path().join("copy/db").is_dir(), "the restored copy");
    assert!(
        dir.path().join("copy/evidence/sha256").is_dir(),
        "the restored copy holds the snapshot"
    );
}

#[test]
fn tour_commands_are_read_whole() {
    let readme = "## A short tour\n\ntext\n\n```sh\nclaims init   # a comment\n\nclaims add --key k \\\n  --subject s   # x\nclaims head\n```\n\n```sh\nnot this\n```\n";
    assert_eq!(
        tour_commands(readme),
        [
            "claims init   # a comment",
            "claims add --key k    --subject s   # x",
            "claims head"
        ]
    );
    assert_eq!(
        without_comment("claims x 'a # b' # c"),
        "claims x 'a # b'  "
    );
}
