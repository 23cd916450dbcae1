//! The JSON API: shapes checked against the OpenAPI document, tokens, writes and their errors,
//! group commit under concurrent writers, limits and a clean stop.

use crate::support::{get, get_json, post, seed_lines, start, TestServer};
use claimledger_core::input::parse_command;
use claimledger_store::Filter;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;

const JSON: &str = "application/json";

/// Checks `value` against the schema at `pointer` in the OpenAPI document the server serves.
fn check_shape(server: &TestServer, pointer: &str, value: &Value) {
    let mut document = get_json(&server.url("/api/v1/openapi.json"));
    let pointer = pointer.replace('{', "%7B").replace('}', "%7D");
    document["$ref"] = json!(format!("#{pointer}"));
    let validator = jsonschema::validator_for(&document).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{pointer}: {errors:?}\n{value:#}");
}

fn response_schema(path: &str, method: &str, status: u16) -> String {
    let escaped = path.replace('~', "~0").replace('/', "~1");
    format!("/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema")
}

#[test]
fn every_answer_has_the_shape_the_openapi_document_gives() {
    let server = start(&seed_lines(), |_| {});
    let reads = [
        ("/show/{claim}", "/api/v1/show/mediazona-named-dead"),
        ("/show/{claim}", "/api/v1/show/mediazona-named-dead?as_of=5"),
        ("/history/{claim}", "/api/v1/history/mediazona-named-dead"),
        ("/list", "/api/v1/list"),
        ("/list", "/api/v1/list?subject=russia&limit=3&offset=1"),
        ("/compare", "/api/v1/compare?subject=russia/military-deaths"),
        (
            "/compare",
            "/api/v1/compare?subject=russia/military-deaths&sort=amount",
        ),
        ("/subjects", "/api/v1/subjects"),
        ("/subjects", "/api/v1/subjects?q=mediazona"),
        ("/head", "/api/v1/head"),
        ("/proof/{claim}", "/api/v1/proof/mediazona-named-dead"),
    ];
    for (path, url) in reads {
        let value = get_json(&server.url(url));
        assert!(
            value.as_array().is_none_or(|a| !a.is_empty()),
            "{url} is empty"
        );
        check_shape(&server, &response_schema(path, "get", 200), &value);
    }
    for (path, url, status) in [
        ("/show/{claim}", "/api/v1/show/nobody", 404),
        (
            "/show/{claim}",
            "/api/v1/show/mediazona-named-dead?as_of=99999",
            400,
        ),
        ("/list", "/api/v1/list?status=happy", 400),
        ("/compare", "/api/v1/compare", 400),
    ] {
        let (got, body) = get(&server.url(url));
        assert_eq!(got, status, "{url}: {body}");
        let value: Value = serde_json::from_str(&body).unwrap();
        check_shape(&server, &response_schema(path, "get", status), &value);
    }
    // The same shapes as the CLI: a claim as `show --json` has it.
    let claim = get_json(&server.url("/api/v1/show/mediazona-named-dead"));
    assert_eq!(claim["key"], "mediazona-named-dead");
    assert_eq!(claim["revision"], 2);
    assert_eq!(claim["claim"]["value"]["amount"], "121507");
    let old = get_json(&server.url("/api/v1/show/mediazona-named-dead?as_of=1"));
    assert_eq!(old["revision"], 1);
    assert_eq!(old["claim"]["value"]["amount"], "95300");
    let history = get_json(&server.url("/api/v1/history/mediazona-named-dead"));
    let changed: Vec<&str> = history[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        changed.contains(&"value") && changed.contains(&"statement"),
        "{changed:?}"
    );
    let head = get_json(&server.url("/api/v1/head"));
    assert_eq!(head["count"], seed_lines().len());

    // Writes, checked the same way.
    let (status, receipt) = post(
        &server.url("/api/v1/add"),
        Some(&server.writer),
        JSON,
        r#"{"key":"new-one","subject":"s/t","claimant":"c","statement":"x","value":{"amount":5}}"#,
    );
    assert_eq!(status, 201, "{receipt}");
    check_shape(&server, &response_schema("/add", "post", 201), &receipt);
    let (status, receipt) = post(
        &server.url("/api/v1/revise"),
        Some(&server.writer),
        JSON,
        r#"{"op":"revise","claim":"new-one","reason":"r","value":{"amount":6}}"#,
    );
    assert_eq!(status, 200, "{receipt}");
    check_shape(&server, &response_schema("/revise", "post", 200), &receipt);
    let (status, imported) = post(
        &server.url("/api/v1/import"),
        Some(&server.writer),
        "application/x-ndjson",
        "{\"subject\":\"s/t\",\"claimant\":\"d\",\"statement\":\"y\"}\n{\"op\":\"revise\",\"claim\":\"new-one\",\"reason\":\"r\",\"value\":{\"amount\":7}}\n",
    );
    assert_eq!(status, 200, "{imported}");
    check_shape(&server, &response_schema("/import", "post", 200), &imported);
    assert_eq!(
        (imported["recorded"].clone(), imported["revised"].clone()),
        (json!(1), json!(1))
    );
}

#[test]
fn the_proof_is_one_claims_verify_proof_reads() {
    let server = start(&seed_lines(), |_| {});
    let proof = get(&server.url("/api/v1/proof/mediazona-named-dead")).1;
    let key = claimledger_core::checkpoint::VerifierKeyText::parse(&server.verifier).unwrap();
    // What `claims verify-proof` checks: the entry, the path to the checkpoint's root, and
    // the checkpoint's signature.
    let verdict = claimledger_cli::proof_file::verify(&proof, Some(&key))
        .unwrap()
        .to_string();
    assert!(
        verdict.starts_with("entry 16 (revision 2 of claim "),
        "{verdict}"
    );
    assert!(
        verdict.ends_with("checkpoint signed by example.org/claims+cfbd7508"),
        "{verdict}"
    );
    let checkpoint = get(&server.url("/api/v1/checkpoint")).1;
    claimledger_core::checkpoint::open_signed_checkpoint(&checkpoint, &server.verifier).unwrap();
    let value: Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(value["checkpoint"], checkpoint);
    let (status, body) = get(&server.url("/api/v1/proof/mediazona-named-dead?seq=3"));
    assert_eq!(status, 404, "{body}");
}

#[test]
fn writes_need_a_writers_token_and_carry_its_author() {
    let server = start(&seed_lines(), |_| {});
    let add = server.url("/api/v1/add");
    let body = r#"{"key":"k","subject":"s","claimant":"c","statement":"x","author":"Mallory"}"#;
    let head = || get_json(&server.url("/api/v1/head"))["count"].clone();
    let before = head();
    for (token, content_type, status, message) in [
        (
            None,
            JSON,
            401,
            "writing needs a token: send Authorization: Bearer TOKEN",
        ),
        (Some("clt_guess"), JSON, 401, "the token is not known"),
        (
            Some(server.reader.as_str()),
            JSON,
            403,
            "the token of \"Reader Bot\" may read, not write",
        ),
        (
            Some(server.writer.as_str()),
            "text/plain",
            415,
            "send the body as application/json",
        ),
        (
            Some(server.writer.as_str()),
            "application/x-www-form-urlencoded",
            415,
            "send the body as application/json",
        ),
    ] {
        let (got, answer) = post(&add, token, content_type, body);
        assert_eq!((got, answer["error"].as_str().unwrap()), (status, message));
    }
    assert_eq!(head(), before, "a refused write changes nothing");
    let (status, receipt) = post(&add, Some(&server.writer), JSON, body);
    assert_eq!(status, 201, "{receipt}");
    let history = get_json(&server.url("/api/v1/history/k"));
    assert_eq!(
        history[0]["author"], "Ana Díaz",
        "the token's author, not the body's"
    );

    let read_only = start(&[], |config| config.tokens = None);
    let (status, answer) = post(
        &read_only.url("/api/v1/add"),
        Some(&read_only.writer),
        JSON,
        body,
    );
    assert_eq!(status, 403);
    assert_eq!(
        answer["error"],
        "this server is read-only: it was started without --tokens"
    );
}

#[test]
fn bad_input_gets_the_message_of_the_cli_and_changes_nothing() {
    let server = start(&seed_lines(), |_| {});
    let before = get_json(&server.url("/api/v1/head"));
    let cases = [
        (
            "/api/v1/add",
            r#"{"subject":"s","claimant":"c","statement":"x","value":{"amount":1.5}}"#,
            400,
        ),
        ("/api/v1/add", r#"{"subject":"s"}"#, 400),
        (
            "/api/v1/add",
            r#"{"key":"mediazona-named-dead","subject":"s","claimant":"c","statement":"x"}"#,
            400,
        ),
        (
            "/api/v1/revise",
            r#"{"op":"revise","claim":"nobody","reason":"r","statement":"x"}"#,
            404,
        ),
        (
            "/api/v1/revise",
            r#"{"op":"revise","claim":"mediazona-named-dead","reason":"r","statement":"x","expected_revision":1}"#,
            409,
        ),
        ("/api/v1/add", "{\"subject\": ", 400),
    ];
    for (path, body, status) in cases {
        let (got, answer) = post(&server.url(path), Some(&server.writer), JSON, body);
        assert_eq!(got, status, "{path} {body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(!message.contains('\n'), "one line: {message}");
        // Format errors are word for word what `claims add --json` says after the file name.
        if let Err(expected) = parse_command(body) {
            assert_eq!(message, expected.to_string());
        }
    }
    let (_, answer) = post(
        &server.url("/api/v1/revise"),
        Some(&server.writer),
        JSON,
        r#"{"op":"revise","claim":"mediazona-named-dead","reason":"r","statement":"x","expected_revision":1}"#,
    );
    assert_eq!(
        answer["error"],
        "field `expected_revision`: the claim is at revision 2, not 1; read it again and retry"
    );
    // An import is all or nothing; the error names the line.
    let (status, answer) = post(
        &server.url("/api/v1/import"),
        Some(&server.writer),
        "application/x-ndjson",
        "{\"subject\":\"s\",\"claimant\":\"c\",\"statement\":\"ok\"}\n{\"subject\":\"s\",\"claimant\":\"c\"}\n",
    );
    assert_eq!(status, 400);
    assert_eq!(
        answer["error"],
        "body: line 2: field `statement`: is required"
    );
    assert_eq!(get_json(&server.url("/api/v1/head")), before);
}

#[test]
fn concurrent_writers_lose_nothing_acknowledged() {
    let server = start(&[], |_| {});
    let writers = 16;
    let each = 25;
    let acknowledged: Vec<(String, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let server = &server;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..each {
                        // Every fifth claim reuses a key: refused on its own, others unharmed.
                        let key = if i % 5 == 4 { format!("w{w}-0") } else { format!("w{w}-{i}") };
                        let body = format!(
                            r#"{{"key":"{key}","subject":"load/w{w}","claimant":"c{w}","statement":"claim {i}","value":{{"amount":{i}}}}}"#
                        );
                        let (status, answer) =
                            crate::support::post(&server.url("/api/v1/add"), Some(&server.writer), JSON, &body);
                        match status {
                            201 => mine.push((key, answer["seq"].as_u64().unwrap())),
                            400 => assert!(answer["error"].as_str().unwrap().contains("is already used")),
                            other => panic!("{other}: {answer}"),
                        }
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), writers * (each - each / 5));
    let mut seqs: Vec<u64> = acknowledged.iter().map(|(_, s)| *s).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=acknowledged.len() as u64).collect::<Vec<_>>(),
        "entries are dense"
    );
    let (_dir, ledger) = server.stop();
    assert_eq!(ledger.head().count, acknowledged.len() as u64);
    for (key, seq) in &acknowledged {
        let id = ledger.resolve(key).unwrap().unwrap();
        assert_eq!(ledger.revisions(id).unwrap()[0].seq.0, *seq);
    }
    assert_eq!(
        ledger.list(&Filter::default()).unwrap().len(),
        acknowledged.len()
    );
    assert_eq!(ledger.verify(&mut |_| {}).unwrap().problem, None);
}

#[test]
fn a_private_ledger_needs_a_token_to_read() {
    let server = start(&seed_lines(), |config| config.private = true);
    for path in ["/", "/api/v1/head", "/claims/mediazona-named-dead"] {
        let (status, _) = get(&server.url(path));
        assert_eq!(status, 401, "{path}");
    }
    let client = crate::support::client();
    let bearer = client
        .get(server.url("/api/v1/head"))
        .header("authorization", format!("Bearer {}", server.reader))
        .call()
        .unwrap();
    assert_eq!(bearer.status(), 200);
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("me:{}", server.reader));
    let page = client
        .get(server.url("/"))
        .header("authorization", format!("Basic {basic}"))
        .call()
        .unwrap();
    assert_eq!(page.status(), 200);
    let (status, _) = get(&server.url("/assets/style.css"));
    assert_eq!(status, 200, "assets are not secret");
}

#[test]
fn pages_carry_a_content_security_policy_without_inline_script() {
    let server = start(&seed_lines(), |_| {});
    let response = crate::support::client()
        .get(server.url("/"))
        .call()
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    for path in [
        "/",
        "/subjects/russia/military-deaths",
        "/claims/mediazona-named-dead",
        "/log",
        "/entries/2",
    ] {
        let (status, html) = get(&server.url(path));
        assert_eq!(status, 200, "{path}");
        // The only script is the served file; no inline script, style or handler.
        assert_eq!(html.matches("<script").count(), 1, "{path}");
        assert!(
            html.contains(r#"<script src="/assets/check.js" defer>"#),
            "{path}"
        );
        assert!(!html.contains("style="), "{path}");
        assert!(
            !html.contains(" onload=") && !html.contains(" onclick="),
            "{path}"
        );
    }
}

#[test]
fn limits_hold_for_bodies_headers_and_slow_clients() {
    let server = start(&[], |config| {
        config.limits.body_bytes_max = 4096;
        config.limits.header_time_max = Duration::from_secs(1);
    });
    let big = format!(
        r#"{{"subject":"s","claimant":"c","statement":"{}"}}"#,
        "x".repeat(8000)
    );
    let (status, _) = post(&server.url("/api/v1/add"), Some(&server.writer), JSON, &big);
    assert_eq!(status, 413);
    let mut request = crate::support::client().get(server.url("/api/v1/head"));
    for i in 0..100 {
        request = request.header(format!("x-h{i}").as_str(), "v");
    }
    let status = request.call().map(|r| r.status().as_u16()).unwrap_or(431);
    assert_eq!(status, 431, "too many headers");

    // A client that sends half a request and stalls is cut off, and holds up nobody.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /api/v1/head HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(get(&server.url("/api/v1/head")).0, 200);
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the stalled connection was closed"
    );
    assert_eq!(get_json(&server.url("/api/v1/head"))["count"], 0);
}

#[test]
fn the_claim_page_says_what_changed_inside_the_sources_as_claims_history_does() {
    let lines = [
        r#"{"op":"record","key":"k","subject":"s","claimant":"c","statement":"x","sources":[{"publisher":"AFP","url":"https://a.example/1"}]}"#.to_owned(),
        r#"{"op":"revise","claim":"k","kind":"correction","reason":"the right page","sources":[{"publisher":"AFP","url":"https://a.example/2"},{"publisher":"BBC","quote":"<b>95,300</b>"}]}"#.to_owned(),
    ];
    let server = start(&lines, |_| {});
    let (status, html) = get(&server.url("/claims/k"));
    assert_eq!(status, 200);
    assert!(
        html.contains("sources[0].url: https://a.example/1 → https://a.example/2"),
        "{html}"
    );
    assert!(
        html.contains("sources[1]: added: publisher BBC, quote “&lt;b&gt;95,300&lt;/b&gt;”"),
        "{html}"
    );
    assert!(!html.contains("<b>95,300"), "escaped");
}
