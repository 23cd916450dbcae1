//! The published log read by Go's reference implementation: `tests/interop/main.go`, built
//! with golang.org/x/mod/sumdb/tlog and sumdb/note (Debian's golang-go and
//! golang-golang-x-mod-dev, GOPATH mode), checks the checkpoint's signature, the tree hash
//! through tlog.TileHashReader over the published tiles, every bundled entry's record hash,
//! inclusion proofs, and consistency between two published sizes. `scripts/test` (and so CI)
//! installs Go and the module when they are missing; without them the test fails, saying so.

use crate::support::text;
use crate::tlog_support::Log;
use std::path::{Path, PathBuf};
use std::process::Command;

const GOPATH: &str = "/usr/share/gocode";

/// Builds the Go program.
fn build(out: &Path) -> PathBuf {
    let have_go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let have_mod = Path::new(GOPATH)
        .join("src/golang.org/x/mod/sumdb/tlog")
        .is_dir();
    assert!(
        have_go && have_mod,
        "Go or golang.org/x/mod is missing: scripts/test-tools installs them (Debian: golang-go, \
         golang-golang-x-mod-dev)"
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/main.go");
    let binary = out.join("interop");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(&source)
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOCACHE", out.join("go-cache"))
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(built.status.success(), "go build: {}", text(&built.stderr));
    binary
}

#[test]
fn go_reads_the_published_log() {
    let mut log = Log::new();
    let root = log.ledger.root().to_owned();
    let go = build(&root);
    log.grow(700, "a");
    let out = root.join("published");
    log.publish(&out);
    let earlier = root.join("earlier.checkpoint");
    std::fs::copy(out.join("checkpoint"), &earlier).unwrap();
    log.grow(300, "b");
    log.publish(&out);

    let run = |args: &[&Path]| {
        Command::new(&go)
            .arg(&out)
            .arg(&log.verifier)
            .args(args)
            .output()
            .unwrap()
    };
    let checked = run(&[&earlier]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let said = text(&checked.stdout);
    assert!(
        said.starts_with(&format!("ok: example.org/claims, {} entries", log.size()))
            && said.contains(&format!("{} record hashes", log.size()))
            && said.contains("4 inclusion proofs")
            && said.contains("consistency from 770 entries"),
        "{said}"
    );

    // Go refuses what is wrong, too: a rewritten tile.
    let tile = out.join("tile/0/001");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    let refused = run(&[]);
    assert!(!refused.status.success(), "{}", text(&refused.stdout));
}
