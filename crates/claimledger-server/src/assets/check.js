// "Check it yourself": checks in the reader's own browser, with WebCrypto alone, that the
// claim revision a page shows is an entry of the ledger's published log.
//
// 1. Fetches the entry's inclusion proof (the proof file of `claims prove`, docs/FORMAT.md),
//    whose checkpoint is the signed note of the ledger's current tree.
// 2. The entry must be the revision shown: same claim id, revision and claim fields.
// 3. Leaf hash SHA-256(0x00 || entry bytes), then the audit path (RFC 6962 / RFC 9162 2.1.3.2,
//    node = SHA-256(0x01 || left || right)) must lead to the checkpoint's root.
// 4. The checkpoint's Ed25519 signature must verify against the verifier key the page names
//    (C2SP signed-note: key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]).
// Nothing from the proof is written as HTML: results go in with textContent only.
"use strict";

(function () {
  const section = document.getElementById("check");
  const button = document.getElementById("check-button");
  if (!section || !button) return;
  const verdict = document.getElementById("check-verdict");
  const list = document.getElementById("check-steps");
  const utf8 = new TextEncoder();

  function step(ok, text) {
    const item = document.createElement("li");
    item.className = ok ? "ok" : "bad";
    item.textContent = (ok ? "✓ " : "✗ ") + text;
    list.appendChild(item);
  }

  class Failed extends Error {}
  function require(condition, message) {
    if (!condition) throw new Failed(message);
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(text) {
    require(typeof text === "string" && /^[0-9a-f]{64}$/.test(text), "a path hash is not 64 hex digits");
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function fromBase64(text) {
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  async function sha256(...parts) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
  }
  function sameJson(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
  }

  // RFC 9162 2.1.3.2: the root an audit path leads to from a leaf.
  async function rootFromPath(index, size, leaf, path) {
    require(index < size, "the leaf index is not within the tree");
    let fn = index, sn = size - 1n, r = leaf;
    for (const p of path) {
      require(sn !== 0n, "the audit path is longer than the tree is deep");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(Uint8Array.of(1), p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
        }
      } else {
        r = await sha256(Uint8Array.of(1), r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    require(sn === 0n, "the audit path is shorter than the tree is deep");
    return r;
  }

  function parseCheckpoint(note) {
    require(typeof note === "string", "the proof has no checkpoint");
    const split = note.indexOf("\n\n");
    const body = split < 0 ? note : note.slice(0, split + 1);
    const lines = body.split("\n");
    require(lines.length >= 4 && lines[lines.length - 1] === "", "the checkpoint is not origin, size and root, a line each");
    require(/^(0|[1-9][0-9]*)$/.test(lines[1]), "the checkpoint's size is not a number");
    const root = fromBase64(lines[2]);
    require(root.length === 32, "the checkpoint's root is not 32 bytes");
    const signatures = split < 0 ? [] : note.slice(split + 2).split("\n").filter((l) => l !== "");
    return { body, origin: lines[0], size: BigInt(lines[1]), root, signatures };
  }

  async function checkSignature(checkpoint, keyText) {
    const parts = keyText.split("+");
    require(parts.length === 3, "the verifier key is not name+id+key");
    const [name, id, encoded] = parts;
    const key = fromBase64(encoded);
    require(key.length === 33 && key[0] === 1, "the verifier key is not an Ed25519 key");
    const publicKey = key.slice(1);
    const keyId = (await sha256(utf8.encode(name), Uint8Array.of(0x0a), key)).slice(0, 4);
    require(hex(keyId) === id, "the verifier key's id does not match its name and key");
    require(name === checkpoint.origin, "the checkpoint is of " + checkpoint.origin + ", not of the key's ledger " + name);
    let found = false;
    for (const line of checkpoint.signatures) {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const sig = fromBase64(match[2]);
      if (sig.length !== 68 || !equal(sig.slice(0, 4), keyId)) continue;
      found = true;
      const cryptoKey = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      const valid = await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.slice(4), utf8.encode(checkpoint.body));
      require(valid, "the checkpoint's signature by " + name + " does not verify");
    }
    require(found, "the checkpoint carries no signature by the key " + name + "+" + id);
  }

  async function check() {
    const claimId = section.dataset.claimId;
    const revision = Number(section.dataset.revision);
    const seq = BigInt(section.dataset.seq);
    const shown = JSON.parse(section.dataset.claim);
    const keyText = section.dataset.verifierKey;

    const response = await fetch(section.dataset.proofUrl, { headers: { Accept: "application/json" } });
    require(response.ok, "the server did not give the proof (HTTP " + response.status + ")");
    const proof = await response.json();
    require(proof && proof.type === "inclusion", "the answer is not an inclusion proof");
    step(true, "Fetched the inclusion proof of entry " + seq + " and the ledger's checkpoint.");

    let entry;
    try { entry = JSON.parse(proof.entry); } catch (e) { throw new Failed("the proof's entry is not JSON"); }
    require(BigInt(proof.index) + 1n === seq && BigInt(entry.seq) === seq, "the proof is of another entry than " + seq);
    require(entry.claim_id === claimId, "the entry is of another claim");
    require((entry.revision === undefined ? 1 : entry.revision) === revision, "the entry is of another revision");
    require(sameJson(entry.claim, shown), "the entry holds other claim fields than this page shows");
    step(true, "Entry " + seq + " is revision " + revision + " of claim " + claimId + ", with exactly the fields this page shows (statement: \u201c" + entry.claim.statement + "\u201d).");

    const leaf = await sha256(Uint8Array.of(0), utf8.encode(proof.entry));
    require(Array.isArray(proof.path), "the proof has no audit path");
    const path = proof.path.map(fromHex);
    const size = BigInt(proof.tree_size);
    const root = await rootFromPath(BigInt(proof.index), size, leaf, path);
    step(true, "Leaf hash SHA-256(0x00 \u2016 entry) = " + hex(leaf).slice(0, 16) + "\u2026; the " + path.length + " hashes of the audit path lead to the root " + hex(root).slice(0, 16) + "\u2026 of a tree of " + size + " entries.");

    const checkpoint = parseCheckpoint(proof.checkpoint);
    require(checkpoint.size === size, "the checkpoint is of " + checkpoint.size + " entries, the proof of " + size);
    require(equal(checkpoint.root, root), "the checkpoint's root " + hex(checkpoint.root).slice(0, 16) + "\u2026 is not the root the path leads to");
    step(true, "The checkpoint of " + checkpoint.origin + " (" + checkpoint.size + " entries) has that root.");

    if (keyText) {
      await checkSignature(checkpoint, keyText);
      step(true, "The checkpoint is signed by the verifier key this page names (" + keyText.split("+").slice(0, 2).join("+") + "): compare it with the one published elsewhere.");
      return "Checked: this revision is entry " + seq + " of the log whose signed checkpoint holds " + size + " entries.";
    }
    step(false, "The server names no verifier key, so nobody vouches for the checkpoint: only the hashes were checked.");
    return "The hashes agree, but the checkpoint is not signed.";
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    list.textContent = "";
    verdict.className = "";
    verdict.textContent = "Checking\u2026";
    try {
      const result = await check();
      verdict.className = "ok";
      verdict.textContent = result;
    } catch (error) {
      const message = error instanceof Failed ? error.message : "the check could not run: " + error;
      step(false, message);
      verdict.className = "bad";
      verdict.textContent = "Failed: " + message + ".";
    } finally {
      button.disabled = false;
    }
  });
})();
