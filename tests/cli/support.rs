//! The fixture every test uses: a fresh ledger in a temporary directory, and `claims` commands
//! run on it with the environment pinned.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;

/// The pinned clock: with it, claim ids are derived from the ledger rather than random.
pub const NOW: &str = "2025-08-13T12:00:00Z";
/// `NOW` as entries store it.
pub const NOW_STORED: &str = "2025-08-13T12:00:00.000000Z";
/// The pinned author.
pub const AUTHOR: &str = "tester";
/// The `prev` of the first entry: no entry before it.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The exit codes of `claims`.
pub const EXIT_INTEGRITY: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_BUSY: i32 = 3;
pub const EXIT_IO: i32 = 4;

/// The `claims` executable cargo built for these tests.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("claims")
}

/// A ledger in a temporary directory. Input files are written next to it, in the directory
/// commands run in, so that error messages name them as `bad.jsonl`.
#[derive(Debug)]
pub struct Ledger {
    root: TempDir,
    dir: PathBuf,
}

impl Ledger {
    /// A new, empty ledger (`claims init` has run).
    pub fn new() -> Self {
        let ledger = Self::uninitialised();
        ledger.ok(&["init"]);
        ledger
    }

    /// A temporary directory where the ledger would be, with no ledger in it yet.
    pub fn uninitialised() -> Self {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("ledger");
        Ledger { root, dir }
    }

    /// The ledger directory (`CLAIMS_LEDGER`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory commands run in, which holds the input files.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `claims ARGS` on this ledger, with the clock and the author pinned.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_cmd(args))
    }

    /// The same, as a standard command, for tests that spawn processes and wait on them.
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin());
        cmd.args(args)
            .current_dir(self.root.path())
            .env("CLAIMS_LEDGER", &self.dir)
            .env("CLAIMS_AUTHOR", AUTHOR)
            .env("CLAIMS_NOW", NOW);
        cmd
    }

    /// Runs `claims ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("claims runs")
    }

    /// Runs `claims ARGS`, requires success, and gives standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(&self.run(args), args)
    }

    /// Runs `claims ARGS --json` style commands and parses standard output.
    pub fn json(&self, args: &[&str]) -> Json {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("claims {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// `claims show KEY --json`.
    pub fn show(&self, id_or_key: &str) -> Json {
        self.json(&["show", id_or_key, "--json"])
    }

    /// The exact output of `claims head`.
    pub fn head(&self) -> String {
        self.ok(&["head"])
    }

    /// The entry count of `claims head`.
    pub fn head_count(&self) -> u64 {
        let head = self.head();
        let (count, hash) = head
            .trim_end()
            .split_once(':')
            .unwrap_or_else(|| panic!("head is not COUNT:HASH: {head:?}"));
        assert!(is_hash(hash), "head hash is not 64 hex digits: {head:?}");
        count
            .parse()
            .unwrap_or_else(|_| panic!("head count is not a number: {head:?}"))
    }

    /// Writes an input file next to the ledger; gives its name, relative to `root`.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        std::fs::write(self.root.path().join(name), contents).expect("the input file is written");
        name.to_owned()
    }

    /// Imports `lines` (JSON Lines text), requiring success; gives the import's report.
    pub fn import(&self, lines: &str) -> String {
        let name = self.write("import.jsonl", lines);
        self.ok(&["import", &name])
    }

    /// Requires `claims verify` to pass; gives its report.
    pub fn assert_verifies(&self) -> String {
        let stdout = self.ok(&["verify"]);
        assert!(stdout.starts_with("OK: "), "verify did not pass: {stdout}");
        stdout
    }
}

/// Requires that a command succeeded; gives its standard output.
pub fn succeeded(out: &Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "claims {args:?} failed with {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Output bytes as text, requiring UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("claims writes UTF-8")
}

/// Requires that `out` is a refusal with exit code `code` and exactly one line on standard
/// error, `error: ` then a message containing `fragment`.
pub fn assert_error(out: &Output, code: i32, fragment: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit code {code}; stderr: {stderr}"
    );
    assert!(
        stderr.ends_with('\n') && stderr.lines().count() == 1,
        "expected exactly one line on stderr, got: {stderr:?}"
    );
    assert!(
        stderr.starts_with("error: "),
        "expected stderr to start with `error: `, got: {stderr:?}"
    );
    assert!(
        stderr.contains(fragment),
        "expected stderr to contain {fragment:?}, got: {stderr:?}"
    );
}

/// Whether `text` is a hash as `claims` prints it: 64 lowercase hex digits.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `text` is a UUID version 7 in its hyphenated lowercase form.
pub fn is_uuid_v7(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        && groups[2].starts_with('7')
        && matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b')
}

/// A string field of a JSON value, by pointer, or a panic naming what is missing.
pub fn str_at<'a>(json: &'a Json, pointer: &str) -> &'a str {
    json.pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {json}"))
}

/// splitmix64: small, seedable, good enough to pick writes, delays and alterations; a failing
/// run is repeated from the seed it prints.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        self.next() % n
    }

    /// A position in `0..n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The entry lines of an export, each with its newline: without a bundle's header (first line)
/// and checkpoint line (last line), when it has them (docs/FORMAT.md section 4).
pub fn export_entries(export: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = export.split_inclusive(|&b| b == b'\n').collect();
    if lines
        .first()
        .is_some_and(|l| l.starts_with(b"{\"bundle\":"))
    {
        lines.remove(0);
        if lines
            .last()
            .is_some_and(|l| l.starts_with(b"{\"checkpoint\":"))
        {
            lines.pop();
        }
    }
    lines.concat()
}
