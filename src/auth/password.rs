//! Password rules and Argon2id hashes.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Passwords are 8 to 1,024 bytes; the upper bound stops anyone making the server hash megabytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a password's length, the only rule: any characters are allowed, NUL included.
pub fn check(password: &str) -> Result<(), String> {
    let bytes = password.len();
    if bytes < MIN_PASSWORD_BYTES {
        return Err(format!(
            "A password is at least {MIN_PASSWORD_BYTES} bytes long."
        ));
    }
    if bytes > MAX_PASSWORD_BYTES {
        return Err(format!(
            "A password is at most {MAX_PASSWORD_BYTES} bytes long, not {bytes}."
        ));
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for the password. Slow by design:
/// call it on the blocking pool.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the stored hash. Without a hash (no such user) it verifies against
/// a hash of a random password all the same, so that the answer takes as long either way and
/// timing cannot tell which usernames exist.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => matches(password, stored),
        None => {
            matches(password, dummy_hash());
            false
        }
    }
}

fn matches(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        // The parameters come from the stored hash, so older hashes keep verifying.
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(err) => {
            log::error!("a stored password hash cannot be read: {err}");
            false
        }
    }
}

static DUMMY: OnceLock<String> = OnceLock::new();

fn dummy_hash() -> &'static str {
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        let _ = getrandom::fill(&mut random);
        let password: String = random.iter().map(|b| format!("{b:02x}")).collect();
        hash(&password).unwrap_or_default()
    })
}

/// Computes the stand-in hash ahead of the first sign-in, off the caller's thread, so that the
/// first attempt for an unknown name is no slower than the others.
pub fn prepare() {
    std::thread::spawn(|| {
        dummy_hash();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let stored = hash("correct horse \0 батарея").expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse \0 батарея", Some(&stored)));
        assert!(!verify("correct horse", Some(&stored)));
        assert!(!verify("anything at all", None));
    }

    #[test]
    fn length_limits_are_in_bytes() {
        assert!(check("1234567").is_err());
        assert!(check("12345678").is_ok());
        assert!(check(&"é".repeat(512)).is_ok());
        assert!(check(&"é".repeat(513)).is_err());
    }
}
