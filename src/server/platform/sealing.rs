//! Secrets the server must read back (webhook signing secrets) are stored sealed:
//! XChaCha20-Poly1305 under the server's key, with a random nonce per value and the owning
//! organization bound in as associated data, so a copy of the database alone reveals none of
//! them and a sealed value moved to another organization's row does not open.
//!
//! The key is `secret-key` (64 hex digits; `QUOTABOARD_SECRET_KEY`) or, for SQLite, a file
//! beside the database made on first start (`quotaboard.db.key`, readable by its owner only).

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};

/// Bytes in a key.
const KEY_BYTES: usize = 32;
/// Bytes in a nonce (XChaCha20: random nonces never collide in practice).
const NONCE_BYTES: usize = 24;
/// What a sealed value starts with; anything else in a secret column is a value stored
/// before sealing.
pub const PREFIX: &str = "sealed1:";

/// The server's key for sealed values. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey([u8; KEY_BYTES]);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

/// Why a key could not be had or a value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error("secret-key must be 64 hexadecimal digits (32 bytes)")]
    BadKey,
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0} does not hold 64 hexadecimal digits")]
    BadKeyFile(PathBuf),
    #[error("the stored secret was not sealed by this server's key (secret-key or the key file beside the database changed)")]
    WrongKey,
}

impl SealingKey {
    /// Parses 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<SealingKey, SealingError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SealingError::BadKey)?;
        <[u8; KEY_BYTES]>::try_from(bytes.as_slice())
            .map(SealingKey)
            .map_err(|_| SealingError::BadKey)
    }

    /// A new random key.
    pub fn generate() -> Result<SealingKey, SealingError> {
        let mut key = [0_u8; KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| SealingError::Random(e.to_string()))?;
        Ok(SealingKey(key))
    }

    /// The key in `path`, or a new one written there (owner-only permissions) when the file
    /// does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<SealingKey, SealingError> {
        let failed = |source| SealingError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                SealingKey::from_hex(&text).map_err(|_| SealingError::BadKeyFile(path.into()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SealingKey::generate()?;
                match key.write_new(path) {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "new key for sealed secrets written");
                        Ok(key)
                    }
                    // Two servers starting at once keep whichever key came first.
                    Err(SealingError::KeyFile { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists =>
                    {
                        SealingKey::load_or_create(path)
                    }
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(failed(error)),
        }
    }

    /// Writes the key to a new file at `path`, readable by its owner only; never replaces
    /// a file.
    pub fn write_new(&self, path: &Path) -> Result<(), SealingError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(path)
            .and_then(|mut file| {
                file.write_all(format!("{}\n", self.to_hex()).as_bytes())?;
                file.sync_all()
            })
            .map_err(|source| SealingError::KeyFile {
                path: path.to_path_buf(),
                source,
            })
    }

    fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `plaintext` sealed for `organization_id`: `sealed1:` and the hex of nonce and
    /// ciphertext.
    pub fn seal(&self, organization_id: i64, plaintext: &str) -> Result<String, SealingError> {
        let mut nonce = [0_u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealingError::Random(e.to_string()))?;
        let aad = associated_data(organization_id);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption fails only for messages of gigabytes.
            .map_err(|_| SealingError::BadKey)?;
        Ok(format!(
            "{PREFIX}{}{}",
            hex::encode(nonce),
            hex::encode(sealed)
        ))
    }

    /// The plaintext of a value [`SealingKey::seal`] made for `organization_id`.
    pub fn open(&self, organization_id: i64, sealed: &str) -> Result<String, SealingError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| hex::decode(rest).ok())
            .filter(|bytes| bytes.len() > NONCE_BYTES)
            .ok_or(SealingError::WrongKey)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let aad = associated_data(organization_id);
        let plaintext = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealingError::WrongKey)?;
        String::from_utf8(plaintext).map_err(|_| SealingError::WrongKey)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.0))
    }
}

fn associated_data(organization_id: i64) -> Vec<u8> {
    format!("quotaboard webhook secret of organization {organization_id}").into_bytes()
}

/// Where the key for a SQLite database at `database_path` is kept.
pub fn key_file_for(database_path: &Path) -> PathBuf {
    let mut name = database_path.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_organization() {
        let key = SealingKey::generate().expect("key");
        let sealed = key.seal(7, "whsec_abc").expect("seal");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(key.open(7, &sealed).expect("open"), "whsec_abc");
        // Another organization's row, another key, a changed byte: nothing opens.
        assert!(matches!(key.open(8, &sealed), Err(SealingError::WrongKey)));
        let other = SealingKey::generate().expect("key");
        assert!(matches!(
            other.open(7, &sealed),
            Err(SealingError::WrongKey)
        ));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).expect("hex");
        assert!(matches!(
            key.open(7, &tampered),
            Err(SealingError::WrongKey)
        ));
        assert!(matches!(
            key.open(7, "whsec_abc"),
            Err(SealingError::WrongKey)
        ));
        // A fresh nonce each time: the same secret never seals to the same text.
        assert_ne!(key.seal(7, "whsec_abc").expect("seal"), sealed);
    }

    #[test]
    fn keys_are_64_hex_digits_and_never_printed() {
        let text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = SealingKey::from_hex(&format!(" {text}\n")).expect("key");
        assert_eq!(key.to_hex(), text);
        assert!(!format!("{key:?}").contains("0011"));
        assert!(SealingKey::from_hex("abc").is_err());
        assert!(SealingKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(SealingKey::from_hex(&"00".repeat(31)).is_err());
    }

    #[test]
    fn the_key_file_is_made_once_for_its_owner_and_then_reused() {
        let dir = std::env::temp_dir().join(format!(
            "quotaboard-sealing-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = key_file_for(&dir.join("quotaboard.db"));
        assert!(path.ends_with("quotaboard.db.key"));
        let first = SealingKey::load_or_create(&path).expect("created");
        let again = SealingKey::load_or_create(&path).expect("read");
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").expect("write");
        assert!(matches!(
            SealingKey::load_or_create(&path),
            Err(SealingError::BadKeyFile(_))
        ));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
