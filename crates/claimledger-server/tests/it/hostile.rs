//! Every claim field is hostile input: script and markup in each one must come out as text on
//! every page, never as markup. (The browser test loads the same pages in Chromium and checks
//! that no script ran.)

use crate::support::{get, post, start, TestServer};
use claimledger_server::tokens::{new_token, Role, Tokens};

/// Script and markup that would run or render if a page wrote it unescaped, each marked with
/// the field it is in.
pub fn payload(field: &str) -> String {
    format!(
        "{field}: <script>window.__xss='{field}'</script> \"><img src=x onerror=\"window.__xss='{field}'\"> '><svg onload=window.__xss=1> </title><b>bold</b>"
    )
}

/// The markup of the payloads, which must never appear in a page as it is.
pub const MARKUP: [&str; 5] = [
    "<script>window",
    "<img src=x",
    "<svg onload",
    "<b>bold",
    "</title><b>",
];

/// A server whose ledger holds one claim with a payload in every field that takes free text,
/// recorded and revised through the API by a writer whose author name is a payload too.
pub fn hostile_server() -> TestServer {
    let author = payload("author");
    let (token, line) = new_token([3; 32], Role::Writer, &author).unwrap();
    let server = start(&[], |config| {
        config.tokens = Some(Tokens::parse(&line).unwrap());
    });
    let record = serde_json::json!({
        "key": "hostile",
        "subject": "test/hostile",
        "claimant": payload("claimant"),
        "statement": payload("statement"),
        "value": {"amount": "1000", "bound": "at_least", "unit": "unit: <script>window.__xss=1</script><b>bold</b>"},
        "period": {"from": "2024", "to": "2025-01"},
        "stated_on": "2025-02",
        "method": payload("method"),
        "sources": [{
            "url": "https://example.org/a?q=\"><script>window.__xss='url'</script>",
            "publisher": payload("publisher"),
            "title": payload("title"),
            "quote": payload("quote"),
        }],
        "tags": ["t"],
        "note": payload("note"),
    });
    let (status, answer) = post(
        &server.url("/api/v1/add"),
        Some(&token),
        "application/json",
        &record.to_string(),
    );
    assert_eq!(status, 201, "{answer}");
    let revise = serde_json::json!({
        "op": "revise", "claim": "hostile", "reason": payload("reason"), "note": payload("revision note"),
        "statement": payload("revised statement"), "value": {"amount": "2000", "bound": "approx"},
        "stated_on": "2025-03",
    });
    let (status, answer) = post(
        &server.url("/api/v1/revise"),
        Some(&token),
        "application/json",
        &revise.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    // A `javascript:` link is refused as input, so no page could link it.
    let bad_url = serde_json::json!({"subject": "test/x", "claimant": "c", "statement": "s",
        "sources": [{"url": "javascript:window.__xss=1"}]});
    let (status, _) = post(
        &server.url("/api/v1/add"),
        Some(&token),
        "application/json",
        &bad_url.to_string(),
    );
    assert_eq!(status, 400);
    server
}

/// The pages that show the hostile claim's fields.
pub fn hostile_pages() -> Vec<String> {
    let search = format!("/?q={}", "%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E");
    vec![
        "/".into(),
        search,
        "/subjects/test/hostile".into(),
        "/claims/hostile".into(),
        "/claims/hostile?as_of=1".into(),
        "/entries/1".into(),
        "/entries/2".into(),
        "/log".into(),
        "/claims/%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E".into(),
        "/subjects/%3Cb%3Ebold".into(),
    ]
}

#[test]
fn no_page_renders_markup_from_a_claim() {
    let server = hostile_server();
    for path in hostile_pages() {
        let (status, html) = get(&server.url(&path));
        assert!(
            status == 200 || status == 404 || status == 400,
            "{path}: {status}"
        );
        for markup in MARKUP {
            assert!(
                !html.contains(markup),
                "{path} shows {markup:?} as markup:\n{html}"
            );
        }
    }
    // The fields are shown, as text.
    let (_, claim) = get(&server.url("/claims/hostile"));
    for field in [
        "claimant",
        "revised statement",
        "method",
        "publisher",
        "title",
        "quote",
        "reason",
        "revision note",
        "author",
    ] {
        let escaped = format!("{field}: &lt;script&gt;window.__xss=");
        assert!(
            claim.contains(&escaped),
            "the claim page lacks {field} as text"
        );
    }
    assert!(claim.contains("unit: &lt;script&gt;") || claim.contains("&lt;b&gt;bold"));
    let (_, entry) = get(&server.url("/entries/1"));
    assert!(
        entry.contains("statement: &lt;script&gt;"),
        "the stored bytes are shown as text"
    );
    // The source link is made only for http(s), and its text escaped.
    assert!(claim.contains("href=\"https://example.org/a?q=&quot;&gt;&lt;script&gt;"));
}
