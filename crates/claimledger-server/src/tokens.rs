//! Who may read and write: the tokens file.
//!
//! One token a line: `sha256:<64 hex digits of SHA-256 of the token> <role> <author>`, where
//! the role is `reader` or `writer` and the author (the rest of the line) is the name every
//! entry written with the token carries. Blank lines and lines starting with `#` are ignored.
//! Only hashes are stored: a token is 32 random bytes, so a hash cannot be turned back into
//! it. A presented token is hashed and compared with every stored hash in constant time.

use claimledger_core::input::check_author;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every token, so that one found in a log or a paste is recognisable.
pub const TOKEN_PREFIX: &str = "clt_";

/// The largest tokens file read.
pub const TOKENS_FILE_LEN_MAX: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Reader,
    Writer,
}

impl Role {
    pub fn parse(text: &str) -> Result<Role, String> {
        match text {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            other => Err(format!("{other:?} is not a role; use reader or writer")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
        }
    }
}

/// Who a token names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub author: String,
}

#[derive(Clone)]
struct Entry {
    hash: [u8; 32],
    grant: Grant,
}

/// The tokens of a tokens file.
#[derive(Clone, Default)]
pub struct Tokens(Vec<Entry>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} tokens)", self.0.len())
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new token, and its line for the tokens file. `random` is 32 bytes from the operating
/// system's random source (the caller's: this crate reads none).
pub fn new_token(random: [u8; 32], role: Role, author: &str) -> Result<(String, String), String> {
    check_author(author).map_err(|e| format!("author {author:?}: {}", e.reason))?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let line = format!("sha256:{} {} {author}", hex(&hash(&token)), role.as_str());
    Ok((token, line))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Tokens {
    /// Reads a tokens file's text; an error names the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("line {}: {why}", number + 1);
            let mut parts = line.splitn(3, ' ');
            let (Some(digest), Some(role), Some(author)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(
                    "expected `sha256:<hash> <role> <author>`, as `claims token` writes it",
                ));
            };
            let digest = digest
                .strip_prefix("sha256:")
                .ok_or_else(|| bad("the hash must start with `sha256:`"))?;
            let hash = parse_hex32(digest).ok_or_else(|| bad("the hash must be 64 hex digits"))?;
            let role = Role::parse(role).map_err(|e| bad(&e))?;
            let author = author.trim();
            check_author(author).map_err(|e| bad(&format!("author: {}", e.reason)))?;
            entries.push(Entry {
                hash,
                grant: Grant {
                    role,
                    author: author.to_owned(),
                },
            });
        }
        Ok(Tokens(entries))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whom `token` names, if anyone. Every stored hash is compared, each in constant time,
    /// so that the time taken says nothing about which hash, or how much of one, matched.
    pub fn check(&self, token: &str) -> Option<Grant> {
        let presented = hash(token);
        let mut found = None;
        for entry in &self.0 {
            if bool::from(entry.hash.ct_eq(&presented)) {
                found = Some(entry.grant.clone());
            }
        }
        found
    }
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_found_by_its_line() {
        let (token, line) = new_token([7; 32], Role::Writer, "Ana Díaz").unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(
            !line.contains(&token),
            "the line holds the hash, not the token"
        );
        let (other, other_line) = new_token([8; 32], Role::Reader, "bot").unwrap();
        let tokens = Tokens::parse(&format!("# team\n\n{line}\n{other_line}\n")).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(
            tokens.check(&token),
            Some(Grant {
                role: Role::Writer,
                author: "Ana Díaz".into()
            })
        );
        assert_eq!(tokens.check(&other).map(|g| g.role), Some(Role::Reader));
        assert_eq!(tokens.check("clt_00"), None);
        assert_eq!(tokens.check(""), None);
        assert_eq!(tokens.check(&token[..token.len() - 1]), None);
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, expected) in [
            ("x", "line 1: expected `sha256:<hash> <role> <author>`"),
            (
                "\nmd5:00 writer ana",
                "line 2: the hash must start with `sha256:`",
            ),
            (
                "sha256:abc writer ana",
                "line 1: the hash must be 64 hex digits",
            ),
            (
                &format!("sha256:{} admin ana", "a".repeat(64)),
                "line 1: \"admin\" is not a role",
            ),
            (
                &format!("sha256:{} writer ana\u{7}", "a".repeat(64)),
                "line 1: author",
            ),
        ] {
            let error = Tokens::parse(text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
        assert!(new_token([0; 32], Role::Writer, "").is_err());
    }
}
