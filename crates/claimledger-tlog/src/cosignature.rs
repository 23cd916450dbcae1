//! Witness cosignatures, c2sp.org/tlog-cosignature `cosignature/v1` with Ed25519: a witness's
//! statement that, at a given time, the checkpoint was the largest consistent tree it had seen
//! of that log.
//!
//! ```text
//! key id     = SHA-256(name ‖ "\n" ‖ 0x04 ‖ 32-byte public key)[:4]
//! signature  = timestamp (u64, big-endian) ‖ Ed25519(key, "cosignature/v1\ntime <timestamp>\n" ‖ checkpoint body)
//! line       = "— " name " " base64(key id ‖ signature) "\n"
//! ```
//!
//! The `signed_note` crate knows only the Ed25519 type 0x01; [`CosignatureSigner`] and
//! [`CosignatureVerifier`] implement its `Signer` and `Verifier` traits for type 0x04, so that
//! notes are read and signed by the crate as any other. Keys are written as the crate writes
//! Ed25519 keys, with the type byte 0x04: `<name>+<key id>+<base64 of 0x04 ‖ public key>` and
//! `PRIVATE+KEY+<name>+<key id>+<base64 of 0x04 ‖ seed>`.
//!
//! ```
//! use claimledger_tlog::cosignature::{self, CosignatureSigner, CosignatureVerifier};
//!
//! let (private, public) = cosignature::generate_key("witness.example/w1", [9; 32]).unwrap();
//! let body = "example.org/claims\n1\n2YYMb+rYgSNrm5/Ni+ZX91ZfrZlVM46UrprgYujNj7w=\n";
//! let signer = CosignatureSigner::parse(&private, 1_700_000_000).unwrap();
//! let line = cosignature::cosign(body, &signer).unwrap();
//! let verifier = CosignatureVerifier::parse(&public).unwrap();
//! let note = format!("{body}\n{line}");
//! assert_eq!(cosignature::verify(&note, &verifier), Ok(1_700_000_000));
//! ```

use base64::prelude::{Engine as _, BASE64_STANDARD};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, NoteError, Signer, Verifier, VerifierList};

/// The signed-note signature type of Ed25519 `cosignature/v1`.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// A timestamp and an Ed25519 signature.
const SIGNATURE_LEN: usize = 8 + 64;

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut key = vec![ALG_COSIGNATURE_V1];
    key.extend_from_slice(public);
    signed_note::key_id(name, &key)
}

/// The message a cosignature signs.
fn signed_message(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(body);
    message
}

/// Makes a witness key pair named `name` from 32 seed bytes: (private key text, verifier key
/// text).
pub fn generate_key(name: &str, seed: [u8; 32]) -> Result<(String, String), String> {
    if !signed_note::is_key_name_valid(name) {
        return Err(format!(
            "{name:?} cannot name a key: a name is not empty and has no spaces or '+'"
        ));
    }
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    let id = key_id(name, &public);
    let encode = |bytes: &[u8; 32]| {
        let mut typed = vec![ALG_COSIGNATURE_V1];
        typed.extend_from_slice(bytes);
        BASE64_STANDARD.encode(typed)
    };
    Ok((
        format!("PRIVATE+KEY+{name}+{id:08x}+{}", encode(&seed)),
        format!("{name}+{id:08x}+{}", encode(&public)),
    ))
}

/// `<name>+<8 hex digits>+<base64 of 0x04 ‖ 32 bytes>`: the name, key id and key bytes, the
/// id checked against the name and key.
fn parse_key_text(text: &str, what: &str) -> Result<(String, u32, [u8; 32]), String> {
    let bad = |why: &str| format!("not a witness {what}: {why}");
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected <name>+<key id>+<base64 key>"));
    };
    if !signed_note::is_key_name_valid(name) {
        return Err(bad("the name is empty or holds a space or '+'"));
    }
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad("the key id is not 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| bad("the key id is not hex"))?;
    let decoded = BASE64_STANDARD
        .decode(encoded)
        .map_err(|_| bad("the key is not base64"))?;
    let key: [u8; 32] = match decoded.split_first() {
        Some((&ALG_COSIGNATURE_V1, key)) => {
            key.try_into().map_err(|_| bad("the key is not 32 bytes"))?
        }
        Some((&0x01, _)) => {
            return Err(bad(
                "this is a key of type 0x01, a log's checkpoint key; a witness key has type \
                 0x04 (claims key generate --witness)",
            ))
        }
        _ => return Err(bad("the key's type is not 0x04 (cosignature/v1)")),
    };
    Ok((name.to_owned(), id, key))
}

/// Signs cosignatures with a witness's private key, at one timestamp.
pub struct CosignatureSigner {
    name: String,
    id: u32,
    key: SigningKey,
    timestamp: u64,
}

impl std::fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CosignatureSigner({}+{:08x})", self.name, self.id)
    }
}

impl CosignatureSigner {
    /// Reads `PRIVATE+KEY+<name>+<key id>+<base64 of 0x04 ‖ seed>`; the cosignatures it makes
    /// carry `timestamp` (seconds since the Unix epoch, below 2^63).
    pub fn parse(text: &str, timestamp: u64) -> Result<CosignatureSigner, String> {
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or("not a witness private key: expected PRIVATE+KEY+<name>+<key id>+<key>")?;
        let (name, id, seed) = parse_key_text(rest, "private key")?;
        let key = SigningKey::from_bytes(&seed);
        if key_id(&name, &key.verifying_key().to_bytes()) != id {
            return Err("not a witness private key: its key id is not its name's and key's".into());
        }
        if timestamp > i64::MAX as u64 {
            return Err("a cosignature's time is below 2^63".into());
        }
        Ok(CosignatureSigner {
            name,
            id,
            key,
            timestamp,
        })
    }

    /// The verifier key text of this signer's key.
    pub fn verifier_key(&self) -> String {
        let mut typed = vec![ALG_COSIGNATURE_V1];
        typed.extend_from_slice(&self.key.verifying_key().to_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64_STANDARD.encode(typed)
        )
    }
}

impl Signer for CosignatureSigner {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let signature = self.key.sign(&signed_message(self.timestamp, msg));
        let mut bytes = self.timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(bytes)
    }
}

/// Checks cosignatures by one witness key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
    text: String,
}

impl CosignatureVerifier {
    /// Reads `<name>+<key id>+<base64 of 0x04 ‖ public key>`.
    pub fn parse(text: &str) -> Result<CosignatureVerifier, String> {
        let (name, id, public) = parse_key_text(text, "verifier key")?;
        if key_id(&name, &public) != id {
            return Err(
                "not a witness verifier key: its key id is not its name's and key's".into(),
            );
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| "not a witness verifier key: not an Ed25519 public key".to_owned())?;
        Ok(CosignatureVerifier {
            name,
            id,
            key,
            text: text.to_owned(),
        })
    }

    /// `<name>+<key id>`, how messages name the witness.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The timestamp of a cosignature, if it is this key's over `body`.
    fn timestamp_of(&self, body: &[u8], sig: &[u8]) -> Option<u64> {
        if sig.len() != SIGNATURE_LEN {
            return None;
        }
        let (time, signature) = sig.split_at(8);
        let timestamp = u64::from_be_bytes(time.try_into().ok()?);
        if timestamp > i64::MAX as u64 {
            return None;
        }
        let signature = ed25519_dalek::Signature::from_slice(signature).ok()?;
        self.key
            .verify(&signed_message(timestamp, body), &signature)
            .ok()
            .map(|()| timestamp)
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.timestamp_of(msg, sig).is_some()
    }
}

/// The cosignature line of `body` (a checkpoint's text, without signature lines).
pub fn cosign(body: &str, signer: &CosignatureSigner) -> Result<String, String> {
    let mut note = Note::new(body.as_bytes(), &[]).map_err(|e| e.to_string())?;
    note.add_sigs(&[signer]).map_err(|e| e.to_string())?;
    let bytes = note.to_bytes();
    let line = bytes
        .get(body.len() + 1..)
        .ok_or("the signed note is shorter than its body")?;
    String::from_utf8(line.to_vec()).map_err(|e| e.to_string())
}

/// Why a checkpoint's cosignature by a witness was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("it has no cosignature by {0}")]
    Missing(String),
    #[error(
        "its cosignature by {0} does not verify: the checkpoint or the cosignature was changed"
    )]
    Invalid(String),
    #[error("it is not a signed note: {0}")]
    Malformed(String),
}

/// Verifies the cosignature of `verifier` on a signed checkpoint `note` and returns its
/// timestamp. The first line by the witness's name and key id decides; lines by other keys
/// are ignored.
pub fn verify(note: &str, verifier: &CosignatureVerifier) -> Result<u64, CosignatureError> {
    let parsed = Note::from_bytes(note.as_bytes())
        .map_err(|e| CosignatureError::Malformed(e.to_string()))?;
    let known = VerifierList::new(vec![Box::new(verifier.clone())]);
    match parsed.verify(&known) {
        Ok((verified, _)) => verified
            .first()
            .and_then(|sig| verifier.timestamp_of(parsed.text(), sig.signature()))
            .ok_or_else(|| CosignatureError::Invalid(verifier.label())),
        Err(NoteError::UnverifiedNote) => Err(CosignatureError::Missing(verifier.label())),
        Err(NoteError::InvalidSignature { .. }) => Err(CosignatureError::Invalid(verifier.label())),
        Err(other) => Err(CosignatureError::Malformed(other.to_string())),
    }
}

/// Checks that at least `quorum` of `witnesses` cosigned `note`: the labels of those that did,
/// or a message naming the quorum and why each other witness does not count.
pub fn check_quorum(
    note: &str,
    witnesses: &[CosignatureVerifier],
    quorum: usize,
) -> Result<Vec<String>, String> {
    let mut cosigned = Vec::new();
    let mut failed = Vec::new();
    for witness in witnesses {
        match verify(note, witness) {
            Ok(_) => cosigned.push(witness.label()),
            Err(why) => failed.push(why.to_string()),
        }
    }
    if cosigned.len() >= quorum {
        Ok(cosigned)
    } else {
        Err(format!(
            "the checkpoint is cosigned by {} of the {} witnesses given, fewer than the quorum of \
             {quorum}: {}",
            cosigned.len(),
            witnesses.len(),
            failed.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "example.org/claims\n1\n2YYMb+rYgSNrm5/Ni+ZX91ZfrZlVM46UrprgYujNj7w=\n";

    #[test]
    fn a_cosignature_is_the_specs_bytes() {
        let (private, public) = generate_key("w.example/1", [3; 32]).expect("key");
        let signer = CosignatureSigner::parse(&private, 1_679_315_147).expect("signer");
        assert_eq!(signer.verifier_key(), public);
        let line = cosign(BODY, &signer).expect("cosigned");
        let encoded = line
            .strip_prefix("— w.example/1 ")
            .and_then(|l| l.strip_suffix('\n'))
            .expect("a signature line");
        let bytes = BASE64_STANDARD.decode(encoded).expect("base64");
        assert_eq!(bytes.len(), 4 + 8 + 64);
        let public_key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        // The key id commits to the type byte 0x04.
        let mut hashed = b"w.example/1\n\x04".to_vec();
        hashed.extend_from_slice(public_key.as_bytes());
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&hashed);
        assert_eq!(bytes[..4], digest[..4]);
        assert_eq!(bytes[4..12], 1_679_315_147u64.to_be_bytes());
        let message = format!("cosignature/v1\ntime 1679315147\n{BODY}");
        let signature = ed25519_dalek::Signature::from_slice(&bytes[12..]).expect("64 bytes");
        public_key
            .verify(message.as_bytes(), &signature)
            .expect("Ed25519 over the spec's message");
    }

    /// The worked example of docs/FORMAT.md §9: the checkpoint of §8's two entries, cosigned by
    /// the test witness key of 32 bytes of 0x02 at 1,700,000,000.
    #[test]
    fn the_format_doc_example() {
        let body = "example.org/claims\n2\nMZhmSYpmEbKDYTdN+fPqBomHXLgPtCnck8mN0hHC9ac=\n";
        let (private, public) = generate_key("witness.example/w1", [2; 32]).expect("key");
        let line = cosign(
            body,
            &CosignatureSigner::parse(&private, 1_700_000_000).expect("key"),
        )
        .expect("cosigned");
        assert_eq!(private, DOC_PRIVATE);
        assert_eq!(public, DOC_PUBLIC);
        assert_eq!(line, DOC_LINE);
    }

    const DOC_PRIVATE: &str =
        "PRIVATE+KEY+witness.example/w1+df1c0a35+BAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC";
    const DOC_PUBLIC: &str =
        "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
    const DOC_LINE: &str = "— witness.example/w1 3xwKNQAAAABlU/EA3en4I1CS/3b3Gaq5zkRvWE0QrlRQaBzlWF9zXbGMUK/e+aDaUuRm+kCHbt3XNbUSpgKRDo8w1yUfb4m429Z2Cw==\n";

    #[test]
    fn verification_names_missing_and_altered_cosignatures() {
        let (private, public) = generate_key("w.example/1", [3; 32]).expect("key");
        let (_, other) = generate_key("w.example/2", [4; 32]).expect("key");
        let verifier = CosignatureVerifier::parse(&public).expect("verifier");
        let other = CosignatureVerifier::parse(&other).expect("verifier");
        let signer = CosignatureSigner::parse(&private, 5).expect("signer");
        let note = format!("{BODY}\n{}", cosign(BODY, &signer).expect("cosigned"));
        assert_eq!(verify(&note, &verifier), Ok(5));
        assert_eq!(
            verify(&note, &other),
            Err(CosignatureError::Missing(other.label()))
        );
        let altered = note.replacen("\n1\n", "\n2\n", 1);
        assert_eq!(
            verify(&altered, &verifier),
            Err(CosignatureError::Invalid(verifier.label()))
        );
        assert_eq!(
            check_quorum(&note, &[verifier.clone(), other.clone()], 1),
            Ok(vec![verifier.label()])
        );
        let short = check_quorum(&note, &[verifier, other], 2).expect_err("one of two");
        assert!(short.contains("1 of the 2") && short.contains("no cosignature by w.example/2"));
    }

    #[test]
    fn keys_of_the_wrong_type_or_id_are_refused() {
        let (private, public) = generate_key("w", [1; 32]).expect("key");
        assert!(CosignatureVerifier::parse(&public.replacen("+", "+0", 1)).is_err());
        let (log_key, _) =
            claimledger_core::checkpoint::generate_signing_key("example.org/claims", [1; 32])
                .expect("log key");
        let log_verifier =
            claimledger_core::checkpoint::verifier_key_of(log_key.expose_secret()).expect("vkey");
        let refused = CosignatureVerifier::parse(log_verifier.as_str()).expect_err("type 0x01");
        assert!(refused.contains("0x01"), "{refused}");
        assert!(CosignatureSigner::parse(&private, u64::MAX).is_err());
        assert!(generate_key("a b", [1; 32]).is_err());
    }
}
