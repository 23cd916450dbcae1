//! `claims publish s3://BUCKET/PREFIX` against a real S3-compatible object store: Garage, a
//! single node started by the test on loopback ports and stopped when it ends. `scripts/test`
//! (and so CI) installs Garage when it is missing; without it the test fails, saying so.

use crate::support::text;
use crate::tlog_support::{free_port, wait_for_port, Log, Running};
use claimledger_tlog::layout::new_objects;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The garage executable: on PATH, or where `cargo install` puts it.
fn garage() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("garage"))
            .find(|file| file.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin/garage")).filter(|f| f.is_file())
    })
}

/// A single Garage node with a bucket `claims` and a key allowed to read and write it.
struct Garage {
    _server: Running,
    s3_port: u16,
    key_id: String,
    secret: String,
}

impl Garage {
    fn start(binary: &Path, dir: &Path) -> Garage {
        let (rpc, s3, admin) = (free_port(), free_port(), free_port());
        let secret: String = (0..32)
            .map(|i| format!("{:02x}", (i * 37 + s3 as usize) % 256))
            .collect();
        let config = dir.join("garage.toml");
        std::fs::write(
            &config,
            format!(
                r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:{admin}"
admin_token = "test-admin-token"
"#,
                meta = dir.join("meta").display(),
                data = dir.join("data").display(),
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .arg("server")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_port(s3, Duration::from_secs(60), &mut child);
        let server = Running(child);
        let cli = |args: &[&str]| -> String {
            let out = Command::new(binary)
                .arg("-c")
                .arg(&config)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "garage {args:?}: {}",
                text(&out.stderr)
            );
            text(&out.stdout)
        };
        // The node id is the first column of the line after the healthy nodes' header.
        let mut node = None;
        for _ in 0..100 {
            let status = cli(&["status"]);
            node = status
                .lines()
                .skip_while(|l| !l.starts_with("ID "))
                .nth(1)
                .and_then(|l| l.split_whitespace().next())
                .map(str::to_owned);
            if node.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let node = node.expect("garage status names the node");
        cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        cli(&["layout", "apply", "--version", "1"]);
        cli(&["bucket", "create", "claims"]);
        let key = cli(&["key", "create", "claims-key"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| panic!("garage key create printed no {name}: {key}"))
        };
        let (key_id, secret) = (field("Key ID:"), field("Secret key:"));
        cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            "claims",
            "--key",
            "claims-key",
        ]);
        Garage {
            _server: server,
            s3_port: s3,
            key_id,
            secret,
        }
    }

    /// `claims ARGS` with the AWS environment pointing at this node.
    fn claims(&self, log: &Log, args: &[&str]) -> std::process::Output {
        let mut cmd = log.ledger.std_cmd(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(name);
            }
        }
        cmd.env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", self.s3_port),
        )
        .env("AWS_REGION", "garage")
        .env("AWS_ACCESS_KEY_ID", &self.key_id)
        .env("AWS_SECRET_ACCESS_KEY", &self.secret)
        .output()
        .unwrap()
    }
}

#[test]
fn publish_to_s3_is_incremental_and_monitored_from_the_bucket() {
    let binary = garage().expect(
        "garage is missing: scripts/test-tools installs it (cargo install garage --locked)",
    );
    let mut log = Log::new();
    let dir = tempfile::tempdir_in(log.ledger.root()).unwrap();
    let garage = Garage::start(&binary, dir.path());
    log.grow(600, "a");
    let first_size = log.size();
    let key = log.key_file();
    let publish = |log: &Log| -> serde_json::Value {
        let out = garage.claims(
            log,
            &["publish", "s3://claims/logs/main", "--sign", &key, "--json"],
        );
        assert!(out.status.success(), "publish: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = publish(&log);
    assert_eq!(first["size"], first_size);
    assert_eq!(
        first["tiles_written"].as_u64().unwrap() + first["bundles_written"].as_u64().unwrap(),
        new_objects(0, first_size).len() as u64
    );
    let again = publish(&log);
    assert_eq!(again["checkpoint_written"], false);
    assert_eq!(again["bytes_written"], 0);

    log.grow(100, "b");
    let grown = publish(&log);
    assert_eq!(grown["old_size"], first_size);
    assert_eq!(
        grown["tiles_written"].as_u64().unwrap() + grown["bundles_written"].as_u64().unwrap(),
        new_objects(first_size, log.size()).len() as u64
    );

    // The monitor reads the bucket and checks every object; the same log published to a
    // directory holds the same bytes.
    let monitored = garage.claims(
        &log,
        &[
            "monitor",
            "s3://claims/logs/main",
            "--key",
            &log.verifier,
            "--json",
        ],
    );
    assert!(monitored.status.success(), "{}", text(&monitored.stderr));
    let report: serde_json::Value = serde_json::from_slice(&monitored.stdout).unwrap();
    assert_eq!(report["size"], log.size());
    assert_eq!(report["new_entries"], log.size());

    // Wrong credentials: an environment failure, exit 4, named.
    let mut cmd = log
        .ledger
        .std_cmd(&["publish", "s3://claims/logs/main", "--sign", &key]);
    let refused = cmd
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", garage.s3_port),
        )
        .env("AWS_REGION", "garage")
        .env("AWS_ACCESS_KEY_ID", "GK000000000000000000000000")
        .env("AWS_SECRET_ACCESS_KEY", "0".repeat(64))
        .output()
        .unwrap();
    crate::support::assert_error(&refused, crate::support::EXIT_IO, "s3://claims/logs/main");
}
