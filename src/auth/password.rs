//! Password rules and Argon2id hashes (PHC strings).

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};

/// Passwords are 8 to 1,024 bytes; the upper bound stops anyone making the server hash megabytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane; 32-byte output.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, Some(32)).unwrap_or_default()
}

/// Why a hash could not be made or read.
pub type HashError = argon2::password_hash::Error;

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

/// Runs `work` on the hashing threads, one per core, with that thread's Argon2 memory. Each hash
/// needs 19 MiB; allocated afresh on whichever thread ran it, the allocator would keep that much
/// for every thread of the blocking pool (360 MiB after a burst of sign-ins, measured). Here each
/// hashing thread allocates it once and reuses it.
fn with_memory<T: Send>(blocks_needed: usize, work: impl FnOnce(&mut [Block]) -> T + Send) -> T {
    thread_local! {
        static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
    }
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let run = move || {
        MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks_needed {
                memory.resize(blocks_needed, Block::new());
            }
            work(&mut memory[..blocks_needed])
        })
    };
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|n| format!("password-hash-{n}"))
            .build()
            .map_err(|err| log::warn!("no threads for password hashing ({err}); hashing inline"))
            .ok()
    });
    match pool {
        Some(pool) => pool.install(run),
        None => run(),
    }
}

/// Argon2 of `password` with `salt` into `out`, with the given algorithm, version and parameters.
fn argon2_into(
    argon2: &Argon2<'_>,
    blocks: usize,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    with_memory(blocks, |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, memory)
    })
    .map_err(HashError::from)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for the password. Slow by design:
/// call it on the blocking pool.
pub fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError::Crypto)?;
    let params = params();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; 32];
    argon2_into(&argon2, params.block_count(), password, &salt, &mut out)?;
    let salt = SaltString::encode_b64(&salt)?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
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
    match try_matches(password, stored) {
        Ok(matches) => matches,
        Err(err) => {
            log::error!("a stored password hash cannot be read: {err}");
            false
        }
    }
}

/// Recomputes the hash with the stored one's own algorithm, version, parameters and salt (so that
/// older hashes keep verifying), and compares in constant time.
fn try_matches(password: &str, stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let expected = parsed.hash.ok_or(HashError::Crypto)?;
    let mut salt = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or(HashError::Crypto)?
        .decode_b64(&mut salt)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    argon2_into(&argon2, params.block_count(), password, salt, &mut out)?;
    Ok(Output::new(&out)? == expected)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        let _ = getrandom::fill(&mut random);
        let password = hex::encode(random);
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
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

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
    fn hashes_agree_with_the_argon2_crates_own() {
        // Ours verify with the crate's verifier, and the crate's (other parameters) with ours.
        let ours = hash("a shared password").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(
            Argon2::default()
                .verify_password(b"a shared password", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        let weaker = Params::new(8 * 1024, 1, 1, None).expect("params");
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, weaker)
            .hash_password(b"a shared password", &salt)
            .expect("hash")
            .to_string();
        assert!(verify("a shared password", Some(&theirs)));
        assert!(!verify("another password", Some(&theirs)));
        assert!(!verify("a shared password", Some("not a PHC string")));
    }

    #[test]
    fn length_limits_are_in_bytes() {
        assert!(check("1234567").is_err());
        assert!(check("12345678").is_ok());
        assert!(check(&"é".repeat(512)).is_ok());
        assert!(check(&"é".repeat(513)).is_err());
    }
}
