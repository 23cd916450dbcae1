# Recipes for claimledger. `just` alone runs the demo.
# (Install just with `cargo install just`; every recipe is also a plain cargo command.)

# The tour: record, revise, compare, history and verify on a fresh temporary ledger.
demo:
    cargo run --release -p claimledger-cli -- demo

# Every test (what CI runs, with fmt and clippy).
test:
    scripts/test

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI runs.
ci:
    bash .ci/run

# The crash loop of tests/cli/crash.rs, longer: ITERATIONS writes of `claims` killed at random
# moments, each followed by recovery checks. Prints the totals.
crash ITERATIONS="1000":
    CRASH_ITERATIONS={{ITERATIONS}} cargo test --release -p claimledger-cli --test cli crash::crash_loop -- --nocapture

# The tamper battery (tests/cli/tamper.rs) and the sled flips (tests/cli/sled_flips.rs),
# longer: the full set of bit flips in ENTRIES entries, and SLED_CASES random flips in sled's own
# files. Prints the totals; docs/RELIABILITY.md has the latest.
tamper ENTRIES="32" SLED_CASES="300":
    TAMPER_ENTRIES={{ENTRIES}} SLED_FLIP_CASES={{SLED_CASES}} cargo test --release -p claimledger-cli --test cli -- tamper:: sled_flips:: --nocapture

# The benchmark of docs/PERFORMANCE.md: a million claims through the real binary, then the
# load on `claims serve` (64 clients adding and reading on loopback, 10 s a phase).
bench *ARGS:
    cargo build --release -p claimledger-cli -p claimledger-bench
    ./target/release/claimledger-bench {{ARGS}}
    ./target/release/claimledger-serve-bench

# The load on `claims serve` alone: --clients N, --seconds S a phase, --claims N at the start.
bench-serve *ARGS:
    cargo build --release -p claimledger-cli -p claimledger-bench
    ./target/release/claimledger-serve-bench {{ARGS}}

# The fuzz targets of fuzz/ (docs/FUZZING.md), each for SECONDS: hostile input files, claims,
# bundles and proofs. Installs cargo-fuzz if missing; needs no nightly toolchain.
fuzz SECONDS="60" *TARGETS:
    scripts/fuzz {{SECONDS}} {{TARGETS}}
