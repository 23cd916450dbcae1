//! A real browser: Debian's headless Chromium, driven through chromedriver (WebDriver) with
//! fantoccini. It opens the seed ledger's subject page, follows a claim and its history, runs
//! "check it yourself", and sees it fail when a proxy alters the proof; it loads every page of
//! the hostile claim and finds that no script ran. Screenshots go to a temporary directory, or
//! to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs them when missing).

use crate::hostile::{hostile_pages, hostile_server};
use crate::support::{get, seed_lines, start};
use fantoccini::{Client, ClientBuilder, Locator};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, stopped when dropped (also when the test fails).
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn driver() -> Driver {
    for binary in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(binary).exists(),
            "{binary} is missing: apt-get install chromium chromium-driver (.ci/run does)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1000,1500",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap()
}

fn screenshot_dir() -> PathBuf {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/screenshots"
        ))
    } else {
        std::env::temp_dir().join("claimledger-screenshots")
    }
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// The verdict of "check it yourself", once it has one.
async fn run_check(client: &Client) -> (String, String) {
    client
        .find(Locator::Id("check-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let verdict = client
            .find(Locator::Id("check-verdict"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if verdict.starts_with("Checked")
            || verdict.starts_with("Failed")
            || verdict.starts_with("The hashes")
        {
            let steps = client
                .find(Locator::Id("check-steps"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            return (verdict, steps);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no verdict: {verdict:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// RFC 6962's Merkle tree hash of `leaves` (entry bytes), written here from the RFC.
fn rfc6962_root(leaves: &[&[u8]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0], leaves[0]]),
        n => {
            let k = n.next_power_of_two() / 2;
            let (left, right) = (rfc6962_root(&leaves[..k]), rfc6962_root(&leaves[k..]));
            sha256(&[&[1], &left, &right])
        }
    }
}

/// The ledger's checkpoint root is the RFC 6962 SHA-256 root of its entries, computed here
/// from the RFC: the tree the browser checks against.
fn assert_checkpoint_is_sha256_tree(base: &str) {
    let export = get(&format!("{base}/api/v1/export")).1;
    let leaves: Vec<&[u8]> = export
        .lines()
        .filter(|line| line.starts_with(r#"{"v":"#))
        .map(str::as_bytes)
        .collect();
    assert!(!leaves.is_empty(), "the export holds entries");
    let root = rfc6962_root(&leaves);
    let checkpoint = get(&format!("{base}/api/v1/checkpoint")).1;
    use base64::Engine;
    let stated = checkpoint.lines().nth(2).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(stated)
            .unwrap(),
        root,
        "the checkpoint's root is the RFC 6962 root of the exported entries"
    );
}

/// A proxy in front of the server that changes what `alter` changes in proof answers.
fn altering_proxy(target: String, alter: fn(&mut serde_json::Value)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let started = Instant::now();
        for stream in listener.incoming() {
            if started.elapsed() > Duration::from_secs(120) {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
            let mut response = crate::support::client()
                .get(format!("{target}{path}"))
                .call()
                .unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let mut body = Vec::new();
            response
                .body_mut()
                .as_reader()
                .read_to_end(&mut body)
                .unwrap();
            if path.starts_with("/api/v1/proof/") {
                let mut proof: serde_json::Value = serde_json::from_slice(&body).unwrap();
                alter(&mut proof);
                body = proof.to_string().into_bytes();
            }
            let head = format!(
                "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

#[test]
fn a_reader_follows_a_claim_and_checks_it() {
    let driver = driver();
    let server = start(&seed_lines(), |_| {});
    let hostile = hostile_server();
    assert_checkpoint_is_sha256_tree(&server.base);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(240), async {
            let client = browser(&driver).await;

            // The subject page: the chart and the comparison table.
            client.goto(&server.url("/subjects/russia/military-deaths")).await.unwrap();
            client.find(Locator::Css("svg.chart")).await.unwrap();
            let label = client.find(Locator::Css("svg.chart .revision-label")).await.unwrap().text().await.unwrap();
            assert!(label.contains("95,300") && label.contains("121,507"), "{label}");
            save_screenshot(&client, "subject.png").await;

            // Follow the claim whose count was revised.
            client
                .find(Locator::Css("table.compare a[href='/claims/mediazona-named-dead']"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let url = client.current_url().await.unwrap();
            assert!(url.path().starts_with("/claims/"), "{url}");
            client.find(Locator::Id("history")).await.unwrap();
            let revisions = client.find_all(Locator::Css("ol.history > li")).await.unwrap();
            assert_eq!(revisions.len(), 2);
            let second = revisions[1].text().await.unwrap();
            assert!(second.contains("Revision 2") && second.contains("121,507"), "{second}");
            save_screenshot(&client, "claim.png").await;

            // Check it yourself: the browser checks the RFC 6962 SHA-256 tree and the signature.
            let (verdict, steps) = run_check(&client).await;
            assert!(steps.contains("Fetched the inclusion proof"), "{steps}");
            assert!(steps.contains("with exactly the fields this page shows"), "{steps}");
            assert!(verdict.starts_with("Checked: this revision is entry"), "{verdict}\n{steps}");
            assert!(steps.contains("signed by the verifier key this page names"), "{steps}");
            client
                .execute("document.getElementById('check-steps').scrollIntoView({block: 'end'})", vec![])
                .await
                .unwrap();
            save_screenshot(&client, "check.png").await;

            // The same check through a proxy that alters the proof: it must fail.
            let altered_path = altering_proxy(server.base.clone(), |proof| {
                let first = proof["path"][0].as_str().unwrap().to_owned();
                let rest: String = first.chars().skip(1).collect();
                let flipped = if first.starts_with('0') { format!("1{rest}") } else { format!("0{rest}") };
                proof["path"][0] = serde_json::json!(flipped);
            });
            client.goto(&format!("http://127.0.0.1:{altered_path}/claims/mediazona-named-dead")).await.unwrap();
            let (verdict, _) = run_check(&client).await;
            assert!(verdict.starts_with("Failed: the checkpoint's root"), "{verdict}");
            let altered_entry = altering_proxy(server.base.clone(), |proof| {
                let entry = proof["entry"].as_str().unwrap().replace("121507", "12150");
                proof["entry"] = serde_json::json!(entry);
            });
            client.goto(&format!("http://127.0.0.1:{altered_entry}/claims/mediazona-named-dead")).await.unwrap();
            let (verdict, _) = run_check(&client).await;
            assert_eq!(verdict, "Failed: the entry holds other claim fields than this page shows.");

            // Hostile fields: no script runs, no markup is made, on any page.
            for path in hostile_pages() {
                client.goto(&hostile.url(&path)).await.unwrap();
                let ran = client
                    .execute(
                        "return [window.__xss === undefined, document.querySelectorAll('img, b, svg[onload], script:not([src])').length]",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(ran, serde_json::json!([true, 0]), "{path}");
            }
            client.goto(&hostile.url("/claims/hostile")).await.unwrap();
            let (verdict, _) = run_check(&client).await;
            assert!(!verdict.is_empty());
            let ran = client.execute("return window.__xss === undefined", vec![]).await.unwrap();
            assert_eq!(ran, serde_json::json!(true), "the check's output is text only");
            client.close().await.unwrap();
        })
        .await
        .expect("the browser test took longer than 4 minutes");
    });
}
