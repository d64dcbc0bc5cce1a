//! Bearer secrets: `<tag>_<prefix>_<secret>`, a public prefix of 48 random bits that finds
//! the stored row and a 256-bit secret kept only as its SHA-256. API keys (`qb`) and the
//! tokens of portal sessions (`qbp`, `qbl`, `qba`) are all made and read here.

use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Bytes of randomness in the public prefix (12 hex characters).
const PREFIX_BYTES: usize = 6;
/// Bytes of randomness in the secret (64 hex characters, 256 bits).
const SECRET_BYTES: usize = 32;

/// `bytes` from the operating system's random source, as hex.
fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| {
        tracing::error!(%error, "no randomness for a new secret");
        AppError::Internal
    })?;
    Ok(hex::encode(buffer))
}

/// A new public prefix.
pub fn draw_prefix() -> Result<String, AppError> {
    random_hex(PREFIX_BYTES)
}

/// A new whole token `<tag>_<prefix>_<secret>` with a fresh secret.
pub fn draw(tag: &str, prefix: &str) -> Result<String, AppError> {
    Ok(format!("{tag}_{prefix}_{}", random_hex(SECRET_BYTES)?))
}

/// Hex SHA-256 of a whole token, as stored.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The public prefix of a well-formed `<tag>_…` token, or `None` when the text cannot be one.
pub fn prefix_of<'a>(tag: &str, token: &'a str) -> Option<&'a str> {
    let rest = token.strip_prefix(tag)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_BYTES * 2
        && secret.len() == SECRET_BYTES * 2
        && prefix
            .bytes()
            .chain(secret.bytes())
            .all(|b| b.is_ascii_hexdigit());
    well_formed.then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_token_is_well_formed_for_its_tag_only() {
        let prefix = draw_prefix().expect("random");
        let token = draw("qbp", &prefix).expect("random");
        assert_eq!(prefix_of("qbp", &token), Some(prefix.as_str()));
        assert_eq!(prefix_of("qb", &token), None);
        assert_eq!(prefix_of("qba", &token), None);
        assert_ne!(token, draw("qbp", &prefix).expect("random"));
        assert_eq!(hash(&token).len(), 64);
    }
}
