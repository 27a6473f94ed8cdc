//! Random secrets for session cookies and API tokens, and the hashes that stand for them in the
//! database.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// API tokens start with this, so that secret scanners can recognise a leaked one.
pub const API_TOKEN_PREFIX: &str = "tdm_";

/// 256 random bits, URL-safe base64 (43 characters), after `prefix`.
pub fn generate(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The SHA-256 of a token, in hex: what the database keeps. A token has 256 bits of entropy, so
/// a fast hash is enough; a leaked database holds no usable token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_hashes_hide_them() {
        let a = super::generate("").expect("random");
        let b = super::generate("").expect("random");
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        let hashed = super::hash(&a);
        assert_eq!(hashed.len(), 64);
        assert!(!hashed.contains(&a));
        assert_eq!(hashed, super::hash(&a));
    }
}
