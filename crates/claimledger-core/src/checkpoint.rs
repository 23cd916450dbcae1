//! Signed checkpoints: the ledger's Merkle tree head (origin, tree size, root hash) written in
//! the C2SP tlog-checkpoint format (<https://c2sp.org/tlog-checkpoint>) and signed with Ed25519
//! as a C2SP signed note (<https://c2sp.org/signed-note>).
//!
//! A published checkpoint lets anyone who holds the ledger's verifier key check later, offline,
//! that an entry is in the ledger (an inclusion proof against the root) and that the ledger only
//! grew (a consistency proof between two checkpoints). Because the format is the one Go's
//! `golang.org/x/mod/sumdb/note` and the transparency-log ecosystem use, existing tools and
//! witnesses can read our checkpoints; the signing and note parsing come from the `signed_note`
//! crate, a port of Go's package, rather than from code of our own.
//!
//! Like the rest of this crate, nothing here reads a random source: the caller passes the 32
//! seed bytes of a new key.
//!
//! ```
//! use claimledger_core::checkpoint::{self, Checkpoint};
//!
//! let seed = [7; 32]; // In real use: 32 bytes from the operating system's random source.
//! let (signing_key, verifier_key) =
//!     checkpoint::generate_signing_key("example.com/claims", seed).unwrap();
//! let head = Checkpoint {
//!     origin: "example.com/claims".into(),
//!     size: 3,
//!     root: [0xab; 32],
//!     extensions: vec![],
//! };
//! let note = checkpoint::sign_checkpoint(&head, signing_key.expose_secret()).unwrap();
//! assert!(note.starts_with(
//!     "example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n— example.com/claims "
//! ));
//! let opened = checkpoint::open_signed_checkpoint(&note, verifier_key.as_str()).unwrap();
//! assert_eq!(opened, head);
//! ```
//!
//! # Decisions
//!
//! - **The signing key is named after the origin, and opening checks it.** The spec says "The
//!   log's key name in its signature line SHOULD match the origin line"; we make it a must, both
//!   when signing and when opening. Then a verifier key names exactly one ledger: if one key
//!   ever signed checkpoints of two ledgers, one's could not be passed off as the other's, and
//!   users need to keep only the verifier key, not the key and an origin.
//! - **Extension lines are kept, not interpreted.** The spec makes them "opaque and OPTIONAL"
//!   and "NOT RECOMMENDED"; we never write any, but a checkpoint that has them round-trips
//!   unchanged so that its signature still verifies.
//! - **Parsing is strict where the spec is exact** (line structure, decimal size without leading
//!   zeros, canonical padded base64 of exactly 32 bytes) and lenient where the spec tells clients
//!   not to assume (an origin read back may contain inner spaces: "clients MUST NOT assume that
//!   the origin is following this format"). Origins chosen for a new ledger are held to the
//!   stricter [`validate_origin`].
//! - **The signature is verified before the body is parsed**: the note spec says the text "MUST
//!   be ignored unless the note is signed by a trusted key and the signature has been verified".
//!   Signatures by other keys (witness cosignatures, a rotated key) are ignored, as the spec
//!   requires; a bad signature by the given key rejects the whole note.
//!
//! What a checkpoint cannot show: that the ledger never signed a second, inconsistent checkpoint
//! for someone else (a split view). Only comparing checkpoints from different sources, by
//! consistency proofs, catches that.

use crate::escape_controls;
use base64::prelude::{Engine as _, BASE64_STANDARD};
use signed_note::{
    Note, NoteError, Signature, Signer as _, SignerError, StandardSigner, StandardVerifier,
    Verifier, VerifierError, VerifierList,
};
use std::fmt;

/// The largest checkpoint body (the note text: origin, size, root and extension lines) accepted,
/// in bytes. Our own bodies are about 100 bytes; the limit only bounds what a stranger can make
/// us parse.
pub const CHECKPOINT_BODY_LEN_MAX: usize = 64 * 1024;

/// The largest signed checkpoint accepted, in bytes. The note spec says verifiers "MUST accept
/// at least up to 16 signatures" and that "post-quantum signatures can be up to nearly 5kB";
/// this is far above that, and equal to the `signed_note` crate's own limit.
pub const SIGNED_CHECKPOINT_LEN_MAX: usize = 1_000_000;

/// The most signature lines accepted on one checkpoint: the `signed_note` crate's (and Go's)
/// limit, well above the 16 the spec requires.
pub const SIGNATURE_COUNT_MAX: usize = 100;

/// The longest origin [`validate_origin`] accepts for a new ledger, in bytes.
pub const ORIGIN_LEN_MAX: usize = 255;

/// The signature type byte of Ed25519 in signed notes (signed-note spec, "Signature types").
const ALG_ED25519: u8 = 0x01;

/// A ledger's Merkle tree head as a C2SP tlog-checkpoint body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The ledger's identity, e.g. `example.com/claims`; also the name of its signing key.
    pub origin: String,
    /// The number of entries (leaves) in the tree.
    pub size: u64,
    /// The Merkle tree root over the first `size` entries.
    pub root: [u8; 32],
    /// Opaque, non-empty lines after the root hash, without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Checks that [`Checkpoint::to_body`] would write a body that [`parse_body`] reads back as
    /// this same checkpoint. Errors name the line of the body that would be wrong.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        check_line_characters(1, &self.origin)?;
        check_origin_line(&self.origin).map_err(|problem| line_error(1, problem))?;
        for (index, extension) in self.extensions.iter().enumerate() {
            let line = 4 + index;
            check_line_characters(line, extension)?;
            check_extension_line(extension).map_err(|problem| line_error(line, problem))?;
        }
        let len = self.body_len();
        if len > CHECKPOINT_BODY_LEN_MAX {
            return Err(CheckpointError::TooLong {
                len,
                limit: CHECKPOINT_BODY_LEN_MAX,
            });
        }
        Ok(())
    }

    /// The note text: origin, tree size, base64 root hash and any extension lines, each ending
    /// in a newline. These are the exact bytes that are signed.
    ///
    /// # Panics
    ///
    /// If [`Checkpoint::validate`] fails: such a body would be read back as a different
    /// checkpoint, or not at all. Checkpoints from [`parse_body`] never fail it.
    pub fn to_body(&self) -> String {
        if let Err(error) = self.validate() {
            panic!("a checkpoint is written only when valid: {error}");
        }
        let mut body = String::with_capacity(self.body_len());
        for line in [
            self.origin.as_str(),
            &self.size.to_string(),
            &BASE64_STANDARD.encode(self.root),
        ]
        .into_iter()
        .chain(self.extensions.iter().map(String::as_str))
        {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    fn body_len(&self) -> usize {
        let size_digits = self.size.to_string().len();
        let root_chars = 44;
        let extension_len: usize = self.extensions.iter().map(|e| e.len() + 1).sum();
        self.origin.len() + 1 + size_digits + 1 + root_chars + 1 + extension_len
    }
}

/// Parses a checkpoint body (the note text, without any blank line or signatures).
///
/// Strict: exactly one origin line (non-empty, no leading or trailing spaces), a tree size in
/// decimal without leading zeros, a root hash in standard padded base64 of exactly 32 bytes, then
/// only non-empty extension lines; every line ends in a newline and none contains a control
/// character.
pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
    if body.len() > CHECKPOINT_BODY_LEN_MAX {
        return Err(CheckpointError::TooLong {
            len: body.len(),
            limit: CHECKPOINT_BODY_LEN_MAX,
        });
    }
    let Some(without_final_newline) = body.strip_suffix('\n') else {
        if body.is_empty() {
            return Err(line_error(
                1,
                "missing; a checkpoint starts with its origin line",
            ));
        }
        return Err(line_error(
            body.split('\n').count(),
            "does not end with a newline",
        ));
    };
    let lines: Vec<&str> = without_final_newline.split('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        check_line_characters(index + 1, line)?;
    }
    let origin = lines[0];
    check_origin_line(origin).map_err(|problem| line_error(1, problem))?;
    let size_text = lines
        .get(1)
        .ok_or_else(|| line_error(2, "missing; expected the tree size"))?;
    let size = parse_size(size_text).map_err(|problem| line_error(2, problem))?;
    let root_text = lines
        .get(2)
        .ok_or_else(|| line_error(3, "missing; expected the root hash"))?;
    let root = parse_root(root_text).map_err(|problem| line_error(3, problem))?;
    let mut extensions = Vec::with_capacity(lines.len() - 3);
    for (index, extension) in lines.iter().enumerate().skip(3) {
        check_extension_line(extension).map_err(|problem| line_error(index + 1, problem))?;
        extensions.push((*extension).to_owned());
    }
    let checkpoint = Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
        extensions,
    };
    debug_assert_eq!(
        checkpoint.to_body(),
        body,
        "parsing is the inverse of writing"
    );
    Ok(checkpoint)
}

/// Checks an origin chosen for a new ledger, which is also the name of its signing key.
///
/// Beyond what a checkpoint needs, it follows the signed-note rule for key names ("Key names
/// MUST be non-empty and MUST NOT contain any Unicode spaces or plus (U+002B) characters") and
/// the tlog-checkpoint advice that the origin "SHOULD be a schema-less URL", such as
/// `example.com/claims`. It also refuses control characters, which a signed note must not
/// contain, and origins over [`ORIGIN_LEN_MAX`] bytes.
pub fn validate_origin(origin: &str) -> Result<(), CheckpointError> {
    let problem = if origin.is_empty() {
        "it is empty".to_owned()
    } else if origin.len() > ORIGIN_LEN_MAX {
        format!(
            "it is {} bytes; the limit is {ORIGIN_LEN_MAX}",
            origin.len()
        )
    } else if let Some(control) = origin.chars().find(|c| c.is_control()) {
        format!(
            "it contains the control character U+{:04X}",
            u32::from(control)
        )
    } else if let Some(space) = origin.chars().find(|c| c.is_whitespace()) {
        format!(
            "it contains a space (U+{:04X}); key names cannot contain spaces",
            u32::from(space)
        )
    } else if origin.contains('+') {
        "it contains '+', which separates the parts of a key".to_owned()
    } else if origin.contains("://") {
        "it starts with a scheme; write it without one, like example.com/claims".to_owned()
    } else {
        return Ok(());
    };
    Err(CheckpointError::Origin {
        origin: origin.to_owned(),
        problem,
    })
}

/// A private signing key in the text form of Go's `sumdb/note` package:
/// `PRIVATE+KEY+<name>+<key id>+<base64 of 0x01 and the 32-byte Ed25519 seed>`.
///
/// Anyone holding it can sign checkpoints in the ledger's name. It neither implements `Display`
/// nor shows itself in `Debug`, so it cannot end up in a log or an error message by accident:
/// reading it takes a call to [`SigningKeyText::expose_secret`].
pub struct SigningKeyText(String);

impl SigningKeyText {
    /// The key text, to be stored where only the ledger's operator can read it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SigningKeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKeyText(<redacted>)")
    }
}

/// A public verifier key in signed-note text form:
/// `<name>+<key id>+<base64 of 0x01 and the 32-byte Ed25519 public key>`, where the key id is
/// 8 hex digits of `SHA-256(name || 0x0A || 0x01 || public key)[:4]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifierKeyText(String);

impl VerifierKeyText {
    /// Checks a verifier key's form, algorithm and key id.
    pub fn parse(text: &str) -> Result<VerifierKeyText, CheckpointError> {
        parse_verifier_key(text)?;
        Ok(VerifierKeyText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key name, which is the origin of the ledger it verifies.
    pub fn name(&self) -> &str {
        self.0
            .split_once('+')
            .map(|(name, _)| name)
            .expect("a parsed verifier key has a name before its first '+'")
    }
}

impl fmt::Display for VerifierKeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VerifierKeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKeyText({})", self.0)
    }
}

/// Makes the Ed25519 key pair for `seed`, named `name` (the ledger's origin, checked by
/// [`validate_origin`]). The same name and seed always give the same keys, so the caller
/// decides where the randomness comes from.
pub fn generate_signing_key(
    name: &str,
    seed: [u8; 32],
) -> Result<(SigningKeyText, VerifierKeyText), CheckpointError> {
    validate_origin(name)?;
    let signing_key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let verifying_key = signing_key.verifying_key();
    let mut public = vec![ALG_ED25519];
    public.extend_from_slice(verifying_key.as_bytes());
    let key_id = signed_note::key_id(name, &public);
    // signed_note only makes private keys from a random number generator of its own rand_core
    // version; writing the same text from the seed keeps this crate free of randomness. The
    // checks below hold the text to the crate's reading of it.
    let mut private = vec![ALG_ED25519];
    private.extend_from_slice(&seed);
    let signing_text = format!(
        "PRIVATE+KEY+{name}+{key_id:08x}+{}",
        BASE64_STANDARD.encode(&private)
    );
    let verifier_text = signed_note::new_ed25519_verifier_key(name, &verifying_key);
    let signer = StandardSigner::new(&signing_text)
        .expect("signed_note reads the signing key text written in its own format");
    let verifier = StandardVerifier::new(&verifier_text)
        .expect("signed_note reads the verifier key text it wrote");
    assert_eq!(
        (signer.name(), signer.key_id()),
        (verifier.name(), verifier.key_id()),
        "the two halves of a key pair share name and key id"
    );
    Ok((SigningKeyText(signing_text), VerifierKeyText(verifier_text)))
}

/// The verifier key of a signing key from [`generate_signing_key`]: what was printed when the
/// key was made, made again from the key itself (the key text holds the seed).
pub fn verifier_key_of(signing_key: &str) -> Result<VerifierKeyText, CheckpointError> {
    let signer = parse_signing_key(signing_key)?;
    let bad = || CheckpointError::SigningKey {
        problem: "expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 of 0x01 and a 32-byte \
                  Ed25519 seed>"
            .into(),
    };
    // PRIVATE, KEY, name and key id hold no '+'; the base64 after them may.
    let encoded = signing_key.splitn(5, '+').nth(4).ok_or_else(bad)?;
    let private = BASE64_STANDARD.decode(encoded).map_err(|_| bad())?;
    let seed: [u8; 32] = match private.split_first() {
        Some((&ALG_ED25519, seed)) => seed.try_into().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    let (again, verifier) = generate_signing_key(signer.name(), seed)?;
    // The key text read back must be the one written; anything else is not our key.
    if again.expose_secret() != signing_key {
        return Err(bad());
    }
    Ok(verifier)
}

/// Signs a checkpoint with a key from [`generate_signing_key`], whose name must be the
/// checkpoint's origin. Returns the signed note: the body, a blank line, and one signature line
/// `— <origin> <base64 of key id and signature>`.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signing_key: &str,
) -> Result<String, CheckpointError> {
    checkpoint.validate()?;
    let signer = parse_signing_key(signing_key)?;
    if signer.name() != checkpoint.origin {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin.clone(),
            key_name: signer.name().to_owned(),
        });
    }
    let body = checkpoint.to_body();
    let mut note = Note::new(body.as_bytes(), &[]).map_err(note_error)?;
    note.add_sigs(&[&signer]).map_err(note_error)?;
    let signed = String::from_utf8(note.to_bytes())
        .expect("UTF-8 text and base64 signature lines are UTF-8");
    debug_assert_eq!(
        parse_unsigned_or_signed(&signed).as_ref(),
        Ok(checkpoint),
        "a signed checkpoint reads back as itself"
    );
    Ok(signed)
}

/// Verifies that `verifier_key` signed the checkpoint note, then parses its body and checks that
/// the key's name is the checkpoint's origin.
///
/// Signatures by other keys are ignored; a signature by this key that does not verify rejects
/// the note.
pub fn open_signed_checkpoint(
    note: &str,
    verifier_key: &str,
) -> Result<Checkpoint, CheckpointError> {
    let verifier = parse_verifier_key(verifier_key)?;
    let key = key_label(verifier.name(), verifier.key_id());
    let key_name = verifier.name().to_owned();
    let (body, signatures) = split_signed_note(note)?;
    let parsed = Note::new(body.as_bytes(), &signatures).map_err(note_error)?;
    let known: Vec<Box<dyn Verifier>> = vec![Box::new(verifier)];
    match parsed.verify(&VerifierList::new(known)) {
        Ok(_) => {}
        Err(NoteError::UnverifiedNote) => {
            return Err(CheckpointError::NotSignedByKey {
                key,
                signed_by: signatures
                    .iter()
                    .map(|s| key_label(s.name(), s.id()))
                    .collect(),
            })
        }
        Err(NoteError::InvalidSignature { .. }) => {
            return Err(CheckpointError::BadSignature { key })
        }
        Err(other) => return Err(note_error(other)),
    }
    let checkpoint = parse_body(body)?;
    if checkpoint.origin != key_name {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin,
            key_name,
        });
    }
    Ok(checkpoint)
}

/// Parses a checkpoint whether or not signature lines follow, without verifying any signature:
/// for commands that need only the size and root of a checkpoint the user already trusts.
/// Signature lines, if present, must still be well formed.
pub fn parse_unsigned_or_signed(note: &str) -> Result<Checkpoint, CheckpointError> {
    // A body has no empty line, so a note without one is a bare body.
    if !note.contains("\n\n") {
        return parse_body(note);
    }
    let (body, _signatures) = split_signed_note(note)?;
    parse_body(body)
}

/// Why a checkpoint, an origin or a key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A line of the checkpoint, counted from 1 over the whole note, breaks the format.
    #[error("line {line} of the checkpoint: {problem}")]
    Line { line: usize, problem: String },
    #[error("the checkpoint is {len} bytes; the limit is {limit}")]
    TooLong { len: usize, limit: usize },
    #[error(
        "the checkpoint is not signed: a signed checkpoint ends with a blank line and \
         signature lines \"— <key name> <base64 signature>\""
    )]
    Unsigned,
    #[error("{} is not usable as a ledger origin: {problem}", quoted(.origin))]
    Origin { origin: String, problem: String },
    /// The key text is public, so the message shows it.
    #[error("the verifier key {} is not usable: {problem}", quoted(.key))]
    VerifierKey { key: String, problem: String },
    /// The key text is secret, so the message never shows it.
    #[error("the signing key is not usable: {problem}")]
    SigningKey { problem: String },
    /// Key names come from the note's signature lines, which may hold any character but
    /// line breaks: shown escaped.
    #[error(
        "the checkpoint is not signed by key {}; its signatures are by {}; \
         check that this is the verifier key published for this ledger",
        escape_controls(.key),
        escape_controls(&.signed_by.join(", "))
    )]
    NotSignedByKey { key: String, signed_by: Vec<String> },
    #[error(
        "the signature by key {} does not match the checkpoint: the checkpoint or its \
         signature was changed after signing",
        escape_controls(.key)
    )]
    BadSignature { key: String },
    #[error(
        "the checkpoint's origin {} is not the key name {}: a ledger's checkpoints are signed \
         with a key named after its origin",
        quoted(.origin),
        quoted(.key_name)
    )]
    OriginMismatch { origin: String, key_name: String },
    /// A problem found by the `signed_note` crate that the checks here did not find first.
    #[error("the signed checkpoint is malformed: {problem}")]
    Note { problem: String },
}

fn line_error(line: usize, problem: impl Into<String>) -> CheckpointError {
    CheckpointError::Line {
        line,
        problem: problem.into(),
    }
}

fn note_error(error: NoteError) -> CheckpointError {
    CheckpointError::Note {
        problem: error.to_string(),
    }
}

/// `<name>+<key id>`, the prefix of a verifier key, which is how users can tell keys apart.
fn key_label(name: &str, key_id: u32) -> String {
    format!("{name}+{key_id:08x}")
}

/// Text from outside, quoted and cut short so that an error message stays readable.
fn quoted(text: &str) -> String {
    const SHOWN_CHARS_MAX: usize = 64;
    match text.char_indices().nth(SHOWN_CHARS_MAX) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
    }
}

/// The signed-note rule: "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII
/// control characters (those below U+0020) other than newline."
fn check_line_characters(line: usize, text: &str) -> Result<(), CheckpointError> {
    match text.chars().find(|&c| c < '\u{20}') {
        None => Ok(()),
        Some('\r') => Err(line_error(
            line,
            "contains a carriage return; lines must end with a newline alone",
        )),
        Some('\n') => Err(line_error(line, "contains a newline inside the line")),
        Some(control) => Err(line_error(
            line,
            format!(
                "contains the control character U+{:04X}, which a checkpoint must not contain",
                u32::from(control)
            ),
        )),
    }
}

fn check_origin_line(origin: &str) -> Result<(), String> {
    if origin.is_empty() {
        return Err("the origin is empty".into());
    }
    if origin.starts_with(char::is_whitespace) || origin.ends_with(char::is_whitespace) {
        return Err(format!(
            "the origin {} has leading or trailing spaces",
            quoted(origin)
        ));
    }
    Ok(())
}

fn check_extension_line(extension: &str) -> Result<(), String> {
    if extension.is_empty() {
        // The usual cause is a signed checkpoint given where a bare body was expected.
        return Err(
            "an extension line is empty; a blank line may only separate a checkpoint \
             from its signatures"
                .into(),
        );
    }
    Ok(())
}

fn parse_size(text: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Err("the tree size is empty".into());
    }
    // u64's FromStr would also take a leading '+'.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{} is not a tree size: expected decimal digits only",
            quoted(text)
        ));
    }
    // tlog-checkpoint: "with no leading zeroes (unless the tree is empty, in which case the tree
    // size is `0`)".
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!("the tree size {} has a leading zero", quoted(text)));
    }
    text.parse().map_err(|_| {
        format!(
            "the tree size {} is larger than the largest, {}",
            quoted(text),
            u64::MAX
        )
    })
}

fn parse_root(text: &str) -> Result<[u8; 32], String> {
    if text.is_empty() {
        return Err("the root hash is empty".into());
    }
    // The STANDARD engine requires canonical padding and zero trailing bits, so each root has
    // exactly one spelling.
    let bytes = BASE64_STANDARD.decode(text).map_err(|error| {
        format!(
            "the root hash {} is not standard base64 with padding: {error}",
            quoted(text)
        )
    })?;
    <[u8; 32]>::try_from(bytes)
        .map_err(|bytes| format!("the root hash is {} bytes; expected 32", bytes.len()))
}

fn parse_verifier_key(text: &str) -> Result<StandardVerifier, CheckpointError> {
    StandardVerifier::new(text).map_err(|error| CheckpointError::VerifierKey {
        key: text.to_owned(),
        problem: match error {
            VerifierError::Format => "expected <name>+<8 hex digits>+<base64 of 0x01 and a \
                                      32-byte Ed25519 public key>"
                .into(),
            VerifierError::Alg => {
                "it is not an Ed25519 key (type 0x01), the only kind supported".into()
            }
            VerifierError::Id => "its key id does not match its name and public key; \
                                  the key text is damaged"
                .into(),
        },
    })
}

fn parse_signing_key(text: &str) -> Result<StandardSigner, CheckpointError> {
    StandardSigner::new(text).map_err(|error| CheckpointError::SigningKey {
        problem: match error {
            SignerError::Format => "expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 of 0x01 \
                                    and a 32-byte Ed25519 seed>"
                .into(),
            SignerError::Alg => {
                "it is not an Ed25519 key (type 0x01), the only kind supported".into()
            }
            SignerError::Id => "its key id does not match its name and key; the key text is \
                                damaged"
                .into(),
        },
    })
}

/// Splits a signed note into its text and parsed signature lines, with errors that name the
/// line. Parsing each line with `Signature::from_bytes` and building the `Note` from the parts
/// applies the same rules as `Note::from_bytes`, which reports only "malformed note".
fn split_signed_note(note: &str) -> Result<(&str, Vec<Signature>), CheckpointError> {
    if note.len() > SIGNED_CHECKPOINT_LEN_MAX {
        return Err(CheckpointError::TooLong {
            len: note.len(),
            limit: SIGNED_CHECKPOINT_LEN_MAX,
        });
    }
    // signed-note: "the text is separated from the signatures by the last empty line in the
    // note".
    let split = note.rfind("\n\n").ok_or(CheckpointError::Unsigned)?;
    let body = &note[..=split];
    let signature_block = &note[split + 2..];
    let body_line_count = body.matches('\n').count();
    for (index, line) in body.split('\n').take(body_line_count).enumerate() {
        check_line_characters(index + 1, line)?;
    }
    let first_signature_line = body_line_count + 2;
    if signature_block.is_empty() {
        return Err(line_error(
            first_signature_line,
            "missing; the blank line must be followed by signature lines",
        ));
    }
    let Some(signature_lines) = signature_block.strip_suffix('\n') else {
        return Err(line_error(
            first_signature_line + signature_block.split('\n').count() - 1,
            "does not end with a newline",
        ));
    };
    let mut signatures = Vec::new();
    for (index, text) in signature_lines.split('\n').enumerate() {
        let line = first_signature_line + index;
        if index == SIGNATURE_COUNT_MAX {
            return Err(line_error(
                line,
                format!("the checkpoint has more than {SIGNATURE_COUNT_MAX} signatures"),
            ));
        }
        check_line_characters(line, text)?;
        let signature = Signature::from_bytes(text.as_bytes()).map_err(|_| {
            line_error(
                line,
                format!(
                    "{} is not a signature line: expected \"— <key name> <base64 of the key id \
                     and the signature>\"",
                    quoted(text)
                ),
            )
        })?;
        signatures.push(signature);
    }
    Ok((body, signatures))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "example.com/claims";
    const ROOT_AB: &str = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";

    fn head() -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size: 3,
            root: [0xab; 32],
            extensions: vec![],
        }
    }

    fn keys(name: &str, seed_byte: u8) -> (SigningKeyText, VerifierKeyText) {
        generate_signing_key(name, [seed_byte; 32]).expect("a valid name")
    }

    fn error_text<T: fmt::Debug>(result: Result<T, CheckpointError>) -> String {
        result.expect_err("expected an error").to_string()
    }

    /// Parses `body`, expects `expected`, and writes it back byte for byte.
    fn check_body(body: &str, expected: &Checkpoint) {
        let parsed = parse_body(body).expect(body);
        assert_eq!(&parsed, expected, "{body:?}");
        assert_eq!(parsed.to_body(), body);
        assert_eq!(parse_unsigned_or_signed(body).as_ref(), Ok(expected));
    }

    fn check_body_error(body: &str, expected: &str) {
        assert_eq!(error_text(parse_body(body)), expected, "{body:?}");
        // With a blank line, it would be read as a signed note.
        if !body.contains("\n\n") {
            assert_eq!(
                error_text(parse_unsigned_or_signed(body)),
                expected,
                "{body:?}"
            );
        }
    }

    #[test]
    fn body_round_trip() {
        check_body(&format!("{ORIGIN}\n3\n{ROOT_AB}\n"), &head());
        check_body(
            "example.com/claims\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
            &Checkpoint {
                size: 0,
                root: [0; 32],
                ..head()
            },
        );
        check_body(
            &format!("{ORIGIN}\n18446744073709551615\n{ROOT_AB}\n"),
            &Checkpoint {
                size: u64::MAX,
                ..head()
            },
        );
        check_body(
            &format!("{ORIGIN}\n3\n{ROOT_AB}\nfirst extension\n— looks like a signature\n"),
            &Checkpoint {
                extensions: vec!["first extension".into(), "— looks like a signature".into()],
                ..head()
            },
        );
        // Readers must not assume the origin follows the recommended form.
        check_body(
            &format!("go.sum database tree\n3\n{ROOT_AB}\n"),
            &Checkpoint {
                origin: "go.sum database tree".into(),
                ..head()
            },
        );
        check_body(
            &format!("例え.jp/台帳\n3\n{ROOT_AB}\n"),
            &Checkpoint {
                origin: "例え.jp/台帳".into(),
                ..head()
            },
        );
    }

    #[test]
    fn body_errors() {
        let root31 = BASE64_STANDARD.encode([0xab; 31]);
        let root33 = BASE64_STANDARD.encode([0xab; 33]);
        for (body, expected) in [
            (
                "",
                "line 1 of the checkpoint: missing; a checkpoint starts with its origin line",
            ),
            ("\n", "line 1 of the checkpoint: the origin is empty"),
            (
                "example.com/claims\n",
                "line 2 of the checkpoint: missing; expected the tree size",
            ),
            (
                "example.com/claims\n3\n",
                "line 3 of the checkpoint: missing; expected the root hash",
            ),
            (
                "example.com/claims",
                "line 1 of the checkpoint: does not end with a newline",
            ),
            (
                "example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
                "line 3 of the checkpoint: does not end with a newline",
            ),
            (
                "example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n",
                "line 4 of the checkpoint: an extension line is empty; a blank line may only \
                 separate a checkpoint from its signatures",
            ),
            (
                "example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\nx\n\n",
                "line 5 of the checkpoint: an extension line is empty; a blank line may only \
                 separate a checkpoint from its signatures",
            ),
            (
                " example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
                "line 1 of the checkpoint: the origin \" example.com/claims\" has leading or \
                 trailing spaces",
            ),
            (
                "example.com/claims \n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n",
                "line 1 of the checkpoint: the origin \"example.com/claims \" has leading or \
                 trailing spaces",
            ),
            (
                "example.com/claims\r\n3\r\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\r\n",
                "line 1 of the checkpoint: contains a carriage return; lines must end with a \
                 newline alone",
            ),
            (
                "example.com/claims\n3\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\ntab\there\n",
                "line 4 of the checkpoint: contains the control character U+0009, which a \
                 checkpoint must not contain",
            ),
        ] {
            check_body_error(body, expected);
        }

        let with_size = |size: &str| format!("{ORIGIN}\n{size}\n{ROOT_AB}\n");
        for (size, expected) in [
            ("", "line 2 of the checkpoint: the tree size is empty"),
            ("03", "line 2 of the checkpoint: the tree size \"03\" has a leading zero"),
            ("00", "line 2 of the checkpoint: the tree size \"00\" has a leading zero"),
            ("-1", "line 2 of the checkpoint: \"-1\" is not a tree size: expected decimal digits only"),
            ("+3", "line 2 of the checkpoint: \"+3\" is not a tree size: expected decimal digits only"),
            (" 3", "line 2 of the checkpoint: \" 3\" is not a tree size: expected decimal digits only"),
            ("3 ", "line 2 of the checkpoint: \"3 \" is not a tree size: expected decimal digits only"),
            ("0x10", "line 2 of the checkpoint: \"0x10\" is not a tree size: expected decimal digits only"),
            ("٣", "line 2 of the checkpoint: \"٣\" is not a tree size: expected decimal digits only"),
            (
                "18446744073709551616",
                "line 2 of the checkpoint: the tree size \"18446744073709551616\" is larger \
                 than the largest, 18446744073709551615",
            ),
        ] {
            check_body_error(&with_size(size), expected);
        }

        let with_root = |root: &str| format!("{ORIGIN}\n3\n{root}\n");
        for (root, expected) in [
            ("", "line 3 of the checkpoint: the root hash is empty".to_owned()),
            (&root31, "line 3 of the checkpoint: the root hash is 31 bytes; expected 32".to_owned()),
            (&root33, "line 3 of the checkpoint: the root hash is 33 bytes; expected 32".to_owned()),
            (
                "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s",
                "line 3 of the checkpoint: the root hash \"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s\" \
                 is not standard base64 with padding: Invalid padding"
                    .to_owned(),
            ),
            (
                // Non-zero trailing bits: decodes to the same bytes as ROOT_AB in lax decoders.
                "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=",
                "line 3 of the checkpoint: the root hash \"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6t=\" \
                 is not standard base64 with padding: Invalid last symbol 116, offset 42."
                    .to_owned(),
            ),
            (
                // The URL-safe alphabet.
                "-6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
                "line 3 of the checkpoint: the root hash \"-6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\" \
                 is not standard base64 with padding: Invalid byte 45, offset 0."
                    .to_owned(),
            ),
            (
                "not base64!",
                "line 3 of the checkpoint: the root hash \"not base64!\" is not standard base64 \
                 with padding: Invalid byte 32, offset 3."
                    .to_owned(),
            ),
        ] {
            check_body_error(&with_root(root), &expected);
        }

        let long = format!(
            "{ORIGIN}\n3\n{ROOT_AB}\n{}\n",
            "x".repeat(CHECKPOINT_BODY_LEN_MAX)
        );
        check_body_error(
            &long,
            &format!(
                "the checkpoint is {} bytes; the limit is {CHECKPOINT_BODY_LEN_MAX}",
                long.len()
            ),
        );
    }

    #[test]
    fn validate_matches_parse() {
        for (checkpoint, expected) in [
            (
                Checkpoint {
                    origin: "".into(),
                    ..head()
                },
                "line 1 of the checkpoint: the origin is empty",
            ),
            (
                Checkpoint {
                    origin: "a\n4".into(),
                    ..head()
                },
                "line 1 of the checkpoint: contains a newline inside the line",
            ),
            (
                Checkpoint {
                    extensions: vec!["ok".into(), "".into()],
                    ..head()
                },
                "line 5 of the checkpoint: an extension line is empty; a blank line may only \
                 separate a checkpoint from its signatures",
            ),
            (
                Checkpoint {
                    extensions: vec!["two\nlines".into()],
                    ..head()
                },
                "line 4 of the checkpoint: contains a newline inside the line",
            ),
        ] {
            assert_eq!(error_text(checkpoint.validate()), expected);
            let (signing_key, _) = keys(ORIGIN, 1);
            assert_eq!(
                error_text(sign_checkpoint(&checkpoint, signing_key.expose_secret())),
                expected
            );
        }
    }

    #[test]
    fn origins() {
        for origin in [
            "example.com/claims",
            "claims.example/ledger-1",
            "ledger",
            "例え.jp/台帳",
        ] {
            assert_eq!(validate_origin(origin), Ok(()), "{origin}");
        }
        for (origin, expected) in [
            ("", "it is empty".to_owned()),
            (
                "a b",
                "it contains a space (U+0020); key names cannot contain spaces".to_owned(),
            ),
            (
                "a\u{a0}b",
                "it contains a space (U+00A0); key names cannot contain spaces".to_owned(),
            ),
            (
                "a\nb",
                "it contains the control character U+000A".to_owned(),
            ),
            (
                "a\u{1}b",
                "it contains the control character U+0001".to_owned(),
            ),
            (
                "a+b",
                "it contains '+', which separates the parts of a key".to_owned(),
            ),
            (
                "https://example.com/claims",
                "it starts with a scheme; write it without one, like example.com/claims".to_owned(),
            ),
            (
                &"a".repeat(256),
                "it is 256 bytes; the limit is 255".to_owned(),
            ),
        ] {
            let error = validate_origin(origin).expect_err(origin);
            assert_eq!(
                error,
                CheckpointError::Origin {
                    origin: origin.to_owned(),
                    problem: expected
                }
            );
            assert!(generate_signing_key(origin, [1; 32]).is_err());
        }
        assert_eq!(
            error_text(validate_origin("a b")),
            "\"a b\" is not usable as a ledger origin: it contains a space (U+0020); key names \
             cannot contain spaces"
        );
    }

    #[test]
    fn a_verifier_key_is_made_only_from_an_intact_signing_key() {
        // Base64 has '+' in its alphabet: keys whose seed encodes to one must work too.
        let mut with_plus = 0;
        for byte in 0..=255u8 {
            let (signing_key, verifier_key) =
                generate_signing_key(ORIGIN, [byte; 32]).expect("a valid name");
            let text = signing_key.expose_secret();
            with_plus += usize::from(text.matches('+').count() > 4);
            assert_eq!(verifier_key_of(text), Ok(verifier_key), "{byte}");
        }
        assert!(with_plus > 0);
        let (signing_key, _) = generate_signing_key(ORIGIN, [3; 32]).expect("a valid name");
        let text = signing_key.expose_secret();
        for damaged in [
            String::new(),
            text.replacen("PRIVATE", "PUBLIC", 1),
            format!("{text}A"),
            text[..text.len() - 4].to_owned(),
            text.replacen(ORIGIN, "other.example/claims", 1),
        ] {
            assert!(verifier_key_of(&damaged).is_err(), "{damaged:?}");
        }
    }

    #[test]
    fn keys_are_deterministic_and_follow_the_spec() {
        use sha2::{Digest, Sha256};
        for (name, seed) in [
            (ORIGIN, [7u8; 32]),
            ("ledger", [0; 32]),
            ("例え.jp/台帳", [0xff; 32]),
        ] {
            let (signing_key, verifier_key) = generate_signing_key(name, seed).expect(name);
            let (again_signing, again_verifier) = generate_signing_key(name, seed).expect(name);
            assert_eq!(signing_key.expose_secret(), again_signing.expose_secret());
            assert_eq!(verifier_key, again_verifier);
            assert_eq!(
                verifier_key_of(signing_key.expose_secret()).as_ref(),
                Ok(&verifier_key),
                "the verifier key is made again from the signing key alone"
            );
            assert_eq!(
                VerifierKeyText::parse(verifier_key.as_str()),
                Ok(verifier_key.clone())
            );
            assert_eq!(verifier_key.name(), name);

            let public = ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes();
            let mut hasher = Sha256::new();
            hasher.update(name.as_bytes());
            hasher.update([0x0a, 0x01]);
            hasher.update(public);
            let digest = hasher.finalize();
            let key_id = format!(
                "{:02x}{:02x}{:02x}{:02x}",
                digest[0], digest[1], digest[2], digest[3]
            );

            let mut public_part = vec![0x01];
            public_part.extend_from_slice(&public);
            assert_eq!(
                verifier_key.as_str(),
                format!("{name}+{key_id}+{}", BASE64_STANDARD.encode(&public_part))
            );
            let mut private_part = vec![0x01];
            private_part.extend_from_slice(&seed);
            assert_eq!(
                signing_key.expose_secret(),
                format!(
                    "PRIVATE+KEY+{name}+{key_id}+{}",
                    BASE64_STANDARD.encode(&private_part)
                )
            );
        }
        let (first, _) = keys(ORIGIN, 1);
        let (second, _) = keys(ORIGIN, 2);
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert_eq!(format!("{first:?}"), "SigningKeyText(<redacted>)");
    }

    /// The example of the signed_note crate's README and of Go's golang.org/x/mod/sumdb/note
    /// documentation: the same key and text give Go's signature, byte for byte.
    #[test]
    fn interoperates_with_go_sumdb_note() {
        let go_signing_key =
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let go_verifier_key = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let go_signed = format!(
            "{text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );

        let private = BASE64_STANDARD
            .decode(go_signing_key.splitn(5, '+').nth(4).expect("a key part"))
            .expect("base64");
        let seed: [u8; 32] = private[1..].try_into().expect("a 32-byte seed");
        let (signing_key, verifier_key) =
            generate_signing_key("PeterNeumann", seed).expect("a valid name");
        assert_eq!(signing_key.expose_secret(), go_signing_key);
        assert_eq!(verifier_key.as_str(), go_verifier_key);

        let signer = StandardSigner::new(signing_key.expose_secret()).expect("our key text");
        let mut note = Note::new(text.as_bytes(), &[]).expect("a note text");
        note.add_sigs(&[&signer]).expect("signing");
        assert_eq!(
            String::from_utf8(note.to_bytes()).expect("UTF-8"),
            go_signed
        );

        // Not a checkpoint, but the signature checks out before the body is parsed.
        assert_eq!(
            error_text(open_signed_checkpoint(&go_signed, go_verifier_key)),
            "line 2 of the checkpoint: \"then you don't know what your problem is.\" is not a \
             tree size: expected decimal digits only"
        );
    }

    /// The example checkpoint of the tlog-checkpoint spec.
    #[test]
    fn reads_the_spec_example() {
        let note = "example.com/behind-the-sofa\n\
                    20852163\n\
                    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                    \n\
                    — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        let checkpoint = parse_unsigned_or_signed(note).expect("the spec's example");
        assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
        assert_eq!(checkpoint.size, 20852163);
        assert_eq!(
            BASE64_STANDARD.encode(checkpoint.root),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        // Its signer's key is not ours: the signature is ignored, and nothing verifies.
        let (_, verifier_key) = keys("example.com/behind-the-sofa", 1);
        let error = open_signed_checkpoint(note, verifier_key.as_str()).expect_err("not our key");
        assert!(
            matches!(&error, CheckpointError::NotSignedByKey { signed_by, .. }
                if signed_by == &["example.com/behind-the-sofa+033de0ae".to_owned()]),
            "{error}"
        );
    }

    /// Pins the exact key and signed text for a fixed seed, so that a change of format cannot go
    /// unnoticed. Ed25519 signatures are deterministic; both values were also computed with an
    /// independent implementation (Python's `cryptography` package).
    #[test]
    fn signed_text_is_stable() {
        let (signing_key, verifier_key) = keys(ORIGIN, 7);
        assert_eq!(verifier_key.as_str(), VERIFIER_KEY_SEED_7);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        assert_eq!(note, SIGNED_WITH_SEED_7);
    }

    const VERIFIER_KEY_SEED_7: &str =
        "example.com/claims+632e1ecc+AepKbGPinFIKvvVQexMuxfmVR3auvr57kkIe6mkURtIs";
    const SIGNED_WITH_SEED_7: &str = "example.com/claims\n\
        3\n\
        q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\
        \n\
        — example.com/claims Yy4ezDSKdVKF0ybBYJX6HDpIu4BELuS56bP3Rc9kvBy5VFkf0s2g7XmwjGxXepruy7Uye4sAn7rKr4rZHwMJCSuTKg0=\n";

    /// The name and key id of a verifier key: `<name>+<key id>`.
    fn label(verifier_key: &VerifierKeyText) -> String {
        let mut parts = verifier_key.as_str().splitn(3, '+');
        let name = parts.next().expect("a name");
        let key_id = parts.next().expect("a key id");
        format!("{name}+{key_id}")
    }

    #[test]
    fn sign_then_open() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        for checkpoint in [
            head(),
            Checkpoint {
                size: 0,
                root: [0; 32],
                ..head()
            },
            Checkpoint {
                extensions: vec!["ext".into()],
                ..head()
            },
        ] {
            let note = sign_checkpoint(&checkpoint, signing_key.expose_secret()).expect("signing");
            assert!(note.starts_with(&format!("{}\n— {ORIGIN} ", checkpoint.to_body())));
            assert_eq!(
                open_signed_checkpoint(&note, verifier_key.as_str()),
                Ok(checkpoint.clone())
            );
            assert_eq!(parse_unsigned_or_signed(&note), Ok(checkpoint));
        }
    }

    #[test]
    fn other_signatures_are_ignored() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let (witness_signing, witness_verifier) = keys("witness.example/w1", 2);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let witness = StandardSigner::new(witness_signing.expose_secret()).expect("witness key");
        let mut cosigned = Note::from_bytes(note.as_bytes()).expect("a note");
        cosigned.add_sigs(&[&witness]).expect("cosigning");
        let cosigned = String::from_utf8(cosigned.to_bytes()).expect("UTF-8");
        assert_eq!(cosigned.matches("\n— ").count(), 2);
        assert_eq!(
            open_signed_checkpoint(&cosigned, verifier_key.as_str()),
            Ok(head())
        );
        // The witness's key verifies the note but is not named after the origin.
        assert_eq!(
            error_text(open_signed_checkpoint(&cosigned, witness_verifier.as_str())),
            "the checkpoint's origin \"example.com/claims\" is not the key name \
             \"witness.example/w1\": a ledger's checkpoints are signed with a key named after \
             its origin"
        );
    }

    #[test]
    fn signer_names_are_escaped() {
        // A signature line's key name may hold DEL and other non-C0 control characters; the
        // error that lists the signers shows them escaped.
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let renamed = note.replacen(&format!("— {ORIGIN} "), "— exam\u{7f}ple\u{9b}2J ", 1);
        assert_ne!(renamed, note);
        let error = error_text(open_signed_checkpoint(&renamed, verifier_key.as_str()));
        assert!(error.contains("exam\\u{7f}ple\\u{9b}2J"), "{error}");
        assert!(!error.chars().any(char::is_control), "{error:?}");
    }

    #[test]
    fn wrong_key() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let signer_label = label(&verifier_key);
        for (other_name, other_seed) in [(ORIGIN, 2), ("example.com/other", 1)] {
            let (_, other) = keys(other_name, other_seed);
            let other_label = label(&other);
            assert_eq!(
                open_signed_checkpoint(&note, other.as_str()),
                Err(CheckpointError::NotSignedByKey {
                    key: other_label.clone(),
                    signed_by: vec![signer_label.clone()],
                })
            );
            assert_eq!(
                error_text(open_signed_checkpoint(&note, other.as_str())),
                format!(
                    "the checkpoint is not signed by key {other_label}; its signatures are by \
                     {signer_label}; check that this is the verifier key published for this ledger"
                )
            );
        }
    }

    #[test]
    fn tampered_body() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let (_, signature_block) = note.split_once("\n\n").expect("a signed note");
        let key = label(&verifier_key);
        let mut flipped_root = head();
        flipped_root.root[31] ^= 1;
        for tampered in [
            Checkpoint { size: 4, ..head() },
            Checkpoint { size: 2, ..head() },
            flipped_root,
            Checkpoint {
                origin: "example.com/claimz".into(),
                ..head()
            },
            Checkpoint {
                extensions: vec!["added".into()],
                ..head()
            },
        ] {
            let forged = format!("{}\n{signature_block}", tampered.to_body());
            assert_eq!(
                open_signed_checkpoint(&forged, verifier_key.as_str()),
                Err(CheckpointError::BadSignature { key: key.clone() }),
                "{forged}"
            );
            // Reading without verifying is what it says.
            assert_eq!(parse_unsigned_or_signed(&forged), Ok(tampered));
        }
    }

    #[test]
    fn tampered_signature() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let key = label(&verifier_key);
        let prefix = format!("{}\n— {ORIGIN} ", head().to_body());
        let signature = note[prefix.len()..].trim_end().to_owned();
        let original = BASE64_STANDARD.decode(&signature).expect("base64");
        let mut outcomes = [0usize; 3];
        for position in 0..signature.len() {
            let mut chars = signature.clone().into_bytes();
            let at = ALPHABET.iter().position(|&c| c == chars[position]);
            // Each character becomes the next one of the alphabet, '=' becomes 'A'.
            chars[position] = at.map_or(b'A', |i| ALPHABET[(i + 1) % ALPHABET.len()]);
            let tampered = String::from_utf8(chars).expect("ASCII");
            let forged = format!("{prefix}{tampered}\n");
            let result = open_signed_checkpoint(&forged, verifier_key.as_str());
            match BASE64_STANDARD.decode(&tampered) {
                Err(_) => {
                    outcomes[0] += 1;
                    assert!(
                        matches!(&result, Err(CheckpointError::Line { line: 5, .. })),
                        "{position}: {result:?}"
                    );
                }
                Ok(bytes) if bytes[..4] != original[..4] => {
                    outcomes[1] += 1;
                    assert!(
                        matches!(&result, Err(CheckpointError::NotSignedByKey { .. })),
                        "{position}: {result:?}"
                    );
                }
                Ok(_) => {
                    outcomes[2] += 1;
                    assert_eq!(
                        result,
                        Err(CheckpointError::BadSignature { key: key.clone() }),
                        "{position}"
                    );
                }
            }
        }
        // Every kind of failure happened: undecodable, other key id, and bad signature.
        assert!(outcomes.iter().all(|&count| count > 0), "{outcomes:?}");
        assert_eq!(outcomes.iter().sum::<usize>(), 92);
    }

    #[test]
    fn malformed_notes() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let body = head().to_body();
        let signature_line = note[body.len() + 1..].to_owned();
        for (text, expected) in [
            (body.clone(), CheckpointError::Unsigned.to_string()),
            (
                format!("{body}\n"),
                "line 5 of the checkpoint: missing; the blank line must be followed by \
                 signature lines"
                    .to_owned(),
            ),
            (
                format!("{body}\n{}", signature_line.trim_end()),
                "line 5 of the checkpoint: does not end with a newline".to_owned(),
            ),
            (
                format!("{body}\n{signature_line}\n"),
                "line 7 of the checkpoint: missing; the blank line must be followed by \
                 signature lines"
                    .to_owned(),
            ),
            (
                format!("{body}\n{}", signature_line.replacen('—', "-", 1)),
                format!(
                    "line 5 of the checkpoint: {} is not a signature line: expected \"— <key \
                     name> <base64 of the key id and the signature>\"",
                    quoted(signature_line.replacen('—', "-", 1).trim_end())
                ),
            ),
            (
                format!("{body}\n{signature_line}garbage\n"),
                "line 6 of the checkpoint: \"garbage\" is not a signature line: expected \"— \
                 <key name> <base64 of the key id and the signature>\""
                    .to_owned(),
            ),
            (
                format!("{body}\n{}", signature_line.replace('\n', "\r\n")),
                "line 5 of the checkpoint: contains a carriage return; lines must end with a \
                 newline alone"
                    .to_owned(),
            ),
            (
                format!("{body}\n{}", signature_line.repeat(SIGNATURE_COUNT_MAX + 1)),
                "line 105 of the checkpoint: the checkpoint has more than 100 signatures"
                    .to_owned(),
            ),
            (
                // The last blank line separates, so the signed text gains a blank line.
                format!("{body}\n\n{signature_line}"),
                CheckpointError::BadSignature {
                    key: label(&verifier_key),
                }
                .to_string(),
            ),
        ] {
            assert_eq!(
                error_text(open_signed_checkpoint(&text, verifier_key.as_str())),
                expected,
                "{text:?}"
            );
        }
        // Reading without verifying still requires well-formed signature lines.
        assert_eq!(
            error_text(parse_unsigned_or_signed(&format!("{body}\n"))),
            "line 5 of the checkpoint: missing; the blank line must be followed by signature lines"
        );
        assert_eq!(
            error_text(parse_unsigned_or_signed(&format!("{body}\ngarbage\n"))),
            "line 5 of the checkpoint: \"garbage\" is not a signature line: expected \"— <key \
             name> <base64 of the key id and the signature>\""
        );
        let long = format!("{body}\n{}", "x".repeat(SIGNED_CHECKPOINT_LEN_MAX));
        assert_eq!(
            error_text(open_signed_checkpoint(&long, verifier_key.as_str())),
            format!(
                "the checkpoint is {} bytes; the limit is {SIGNED_CHECKPOINT_LEN_MAX}",
                long.len()
            )
        );
    }

    #[test]
    fn malformed_verifier_keys() {
        let (signing_key, verifier_key) = keys(ORIGIN, 1);
        let note = sign_checkpoint(&head(), signing_key.expose_secret()).expect("signing");
        let mut parts = verifier_key.as_str().splitn(3, '+');
        let (_, key_id, public) = (
            parts.next().expect("a name"),
            parts.next().expect("a key id"),
            parts.next().expect("a public key"),
        );
        let format =
            "expected <name>+<8 hex digits>+<base64 of 0x01 and a 32-byte Ed25519 public key>";
        let damaged = "its key id does not match its name and public key; the key text is damaged";
        let mut other_algorithm = BASE64_STANDARD.decode(public).expect("base64");
        other_algorithm[0] = 0x02;
        let other_algorithm = BASE64_STANDARD.encode(&other_algorithm);
        let short = BASE64_STANDARD.encode([1; 32]);
        for (key, problem) in [
            (String::new(), format.to_owned()),
            (ORIGIN.to_owned(), format.to_owned()),
            (format!("{ORIGIN}+{key_id}"), format.to_owned()),
            (format!("{ORIGIN}+{key_id}+not base64"), format.to_owned()),
            (
                format!("{ORIGIN}+{}+{public}", &key_id[1..]),
                format.to_owned(),
            ),
            (format!("{ORIGIN}+zzzzzzzz+{public}"), format.to_owned()),
            (
                format!("example.com/other+{key_id}+{public}"),
                damaged.to_owned(),
            ),
            (format!("{ORIGIN}+00000000+{public}"), damaged.to_owned()),
            (format!("{ORIGIN}+{key_id}+{short}"), damaged.to_owned()),
            (
                format!(
                    "{ORIGIN}+{:08x}+{other_algorithm}",
                    signed_note::key_id(
                        ORIGIN,
                        &BASE64_STANDARD.decode(&other_algorithm).expect("base64")
                    )
                ),
                "it is not an Ed25519 key (type 0x01), the only kind supported".to_owned(),
            ),
            (format!("a b+{key_id}+{public}"), format.to_owned()),
        ] {
            let expected = CheckpointError::VerifierKey {
                key: key.clone(),
                problem: problem.clone(),
            };
            assert_eq!(
                open_signed_checkpoint(&note, &key),
                Err(expected.clone()),
                "{key}"
            );
            assert_eq!(VerifierKeyText::parse(&key), Err(expected), "{key}");
        }
        assert_eq!(
            error_text(VerifierKeyText::parse("nonsense")),
            format!("the verifier key \"nonsense\" is not usable: {format}")
        );
    }

    #[test]
    fn malformed_signing_keys() {
        let (signing_key, _) = keys(ORIGIN, 1);
        let secret = signing_key.expose_secret();
        let mut parts = secret
            .strip_prefix("PRIVATE+KEY+")
            .expect("a private key")
            .splitn(3, '+');
        let (name, key_id, private) = (
            parts.next().expect("a name"),
            parts.next().expect("a key id"),
            parts.next().expect("a private key"),
        );
        let label = format!("PRIVATE+KEY+{name}+{key_id}");
        let format = "expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 of 0x01 and a 32-byte Ed25519 seed>";
        let damaged = "its key id does not match its name and key; the key text is damaged";
        for (key, problem) in [
            (String::new(), format),
            (secret.replacen("PRIVATE", "PUBLIC", 1), format),
            (secret.trim_start_matches("PRIVATE+KEY+").to_owned(), format),
            (format!("{label}+{}", &private[4..]), format),
            (
                format!("{label}+{private}").replacen(ORIGIN, "example.com/other", 1),
                damaged,
            ),
        ] {
            let error = sign_checkpoint(&head(), &key).expect_err(&key);
            assert_eq!(
                error,
                CheckpointError::SigningKey {
                    problem: problem.to_owned()
                }
            );
            assert!(!error.to_string().contains(&private[..8]), "{error}");
        }
        // A valid key of another name signs only its own ledger's checkpoints.
        let (other, _) = keys("example.com/other", 1);
        assert_eq!(
            sign_checkpoint(&head(), other.expose_secret()),
            Err(CheckpointError::OriginMismatch {
                origin: ORIGIN.into(),
                key_name: "example.com/other".into()
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn any_valid_checkpoint_round_trips(
            origin in "[a-z0-9][a-z0-9./-]{0,40}",
            size in proptest::prelude::any::<u64>(),
            root in proptest::prelude::any::<[u8; 32]>(),
            extensions in proptest::collection::vec("[ -~]{1,20}", 0..3),
            seed in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let checkpoint = Checkpoint { origin, size, root, extensions };
            let body = checkpoint.to_body();
            proptest::prop_assert_eq!(parse_body(&body), Ok(checkpoint.clone()));
            let (signing_key, verifier_key) =
                generate_signing_key(&checkpoint.origin, seed).expect("a valid origin");
            let note = sign_checkpoint(&checkpoint, signing_key.expose_secret()).expect("signing");
            proptest::prop_assert_eq!(
                open_signed_checkpoint(&note, verifier_key.as_str()),
                Ok(checkpoint.clone())
            );
            proptest::prop_assert_eq!(parse_unsigned_or_signed(&note), Ok(checkpoint));
        }
    }
}
