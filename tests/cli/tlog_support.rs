//! What the tests of `publish`, `monitor` and `witness` share: a ledger with its key, claims
//! to grow it by, a published directory served over HTTP on loopback, processes stopped when
//! a test ends, however it ends.

use crate::support::{text, Ledger};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ORIGIN: &str = "example.org/claims";

/// A ledger named [`ORIGIN`] with its signing key in `log.key`.
pub struct Log {
    pub ledger: Ledger,
    pub verifier: String,
    grown: u64,
}

impl Log {
    pub fn new() -> Log {
        let ledger = Ledger::uninitialised();
        ledger.ok(&["init", "--origin", ORIGIN]);
        let verifier = ledger
            .ok(&["key", "generate", "--name", ORIGIN, "--out", "log.key"])
            .trim_end()
            .to_owned();
        Log {
            ledger,
            verifier,
            grown: 0,
        }
    }

    /// Another ledger of the same origin and key: a fork of this one's history.
    pub fn fork(&self) -> Log {
        let ledger = Ledger::uninitialised();
        ledger.ok(&["init", "--origin", ORIGIN]);
        std::fs::copy(
            self.ledger.root().join("log.key"),
            ledger.root().join("log.key"),
        )
        .unwrap();
        Log {
            ledger,
            verifier: self.verifier.clone(),
            grown: 0,
        }
    }

    pub fn key_file(&self) -> String {
        self.ledger.root().join("log.key").display().to_string()
    }

    /// `count` new claims, with a revision for every tenth.
    pub fn grow(&mut self, count: u64, tag: &str) {
        let mut lines = String::new();
        for i in self.grown..self.grown + count {
            lines.push_str(&format!(
                r#"{{"key":"{tag}-{i}","subject":"grown/{tag}","claimant":"c{}","statement":"{tag} {i}","value":{{"amount":{i}}}}}"#,
                i % 7
            ));
            lines.push('\n');
            if i % 10 == 9 {
                lines.push_str(&format!(
                    r#"{{"op":"revise","claim":"{tag}-{i}","reason":"recount","kind":"update","value":{{"amount":{}}}}}"#,
                    i + 1
                ));
                lines.push('\n');
            }
        }
        self.grown += count;
        self.ledger.import(&lines);
    }

    pub fn publish(&self, dest: &Path) -> serde_json::Value {
        let dest = dest.display().to_string();
        self.ledger
            .json(&["publish", &dest, "--sign", &self.key_file(), "--json"])
    }

    pub fn size(&self) -> u64 {
        self.ledger.head_count()
    }
}

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory served over HTTP on 127.0.0.1 until dropped.
pub struct Served {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    pub fn dir(dir: &Path) -> Served {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let dir = dir.to_owned();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app =
                    axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Served {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`, for at most `limit`.
pub fn wait_for_port(port: u16, limit: Duration, child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                use std::io::Read;
                let _ = err.read_to_string(&mut stderr);
            }
            panic!("the server exited ({status}) before listening on {port}: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port} after {limit:?}");
}

/// A `claims witness serve` process for the log, on a free port; its verifier key.
pub struct WitnessProcess {
    pub process: Running,
    pub port: u16,
    pub verifier: String,
    pub state: PathBuf,
    key: PathBuf,
    log_key: String,
}

impl WitnessProcess {
    pub fn start(dir: &Path, name: &str, log_verifier: &str) -> WitnessProcess {
        let key = dir.join(format!("{}.key", name.replace('/', "_")));
        let out = Command::new(crate::support::bin())
            .args(["key", "generate", "--witness", "--name", name, "--out"])
            .arg(&key)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let verifier = text(&out.stdout).trim_end().to_owned();
        let state = dir.join(format!("{}-state", name.replace('/', "_")));
        let mut witness = WitnessProcess {
            process: Running(Command::new("true").spawn().unwrap()),
            port: 0,
            verifier,
            state,
            key,
            log_key: log_verifier.to_owned(),
        };
        witness.restart();
        witness
    }

    /// Starts the process again (after a kill), on a new port.
    pub fn restart(&mut self) {
        self.port = free_port();
        let mut child = Command::new(crate::support::bin())
            .args(["witness", "serve", "--key"])
            .arg(&self.key)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--log", &format!("{ORIGIN}={}", self.log_key)])
            .arg("--state")
            .arg(&self.state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_port(self.port, Duration::from_secs(20), &mut child);
        self.process = Running(child);
    }

    /// `URL=VKEY`, as `publish --witness` takes it.
    pub fn arg(&self) -> String {
        format!("http://127.0.0.1:{}/={}", self.port, self.verifier)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
    }
}

/// Runs `claims ARGS` outside any ledger directory's pinned environment.
pub fn claims(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(crate::support::bin())
        .args(args)
        .current_dir(dir)
        .env("CLAIMS_LEDGER", dir.join("no-ledger-here"))
        .output()
        .unwrap()
}
