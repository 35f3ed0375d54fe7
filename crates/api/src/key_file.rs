//! The signing key at rest, sealed with a key file (`--key-file`): AES-256-GCM under a key
//! derived from the file with HKDF-SHA256, the key id as associated data, stored as
//! `enc:v1:` and base64 of nonce and ciphertext. Without a key file the private key is
//! stored as is, protected by the database's file mode and credentials.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf::{Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};

const PREFIX: &str = "enc:v1:";
/// Shortest key file accepted: 32 bytes of key material (e.g. `openssl rand -base64 32`).
pub const MIN_KEY_FILE_BYTES: usize = 32;

pub struct KeyFile {
    key: LessSafeKey,
}

/// Only that it is one: the key never shows.
impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyFile(..)")
    }
}

impl KeyFile {
    /// The sealing key derived from a key file's contents (trailing newlines ignored).
    pub fn from_contents(contents: &[u8]) -> Result<Self, String> {
        let material = contents.trim_ascii_end();
        if material.len() < MIN_KEY_FILE_BYTES {
            return Err(format!(
                "the key file must hold at least {MIN_KEY_FILE_BYTES} bytes of key material"
            ));
        }
        let prk = Salt::new(HKDF_SHA256, b"roster key file v1").extract(material);
        let okm = prk
            .expand(&[b"signing key"], &AES_256_GCM)
            .map_err(|_| "cannot derive a key from the key file".to_owned())?;
        let key = UnboundKey::from(okm);
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Seals a private key (base64 PKCS#8 as stored) for key `kid`.
    pub fn seal(&self, kid: &str, private_key: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness for a nonce".to_owned())?;
        let mut data = private_key.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut data,
            )
            .map_err(|_| "cannot seal the signing key".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`KeyFile::seal`] made for `kid`.
    pub fn open(&self, kid: &str, stored: &str) -> Result<String, String> {
        let wrong = || format!("the key file does not open signing key {kid}");
        let sealed = stored.strip_prefix(PREFIX).ok_or_else(wrong)?;
        let bytes = STANDARD.decode(sealed).map_err(|_| wrong())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

/// Whether a stored private key is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &[u8] = b"0123456789abcdef0123456789abcdef\n";

    #[test]
    fn a_sealed_key_opens_only_with_its_file_and_kid() {
        let k = KeyFile::from_contents(FILE).unwrap();
        let sealed = k.seal("kid-1", "cHJpdmF0ZQ==").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("cHJpdmF0ZQ"));
        assert_eq!(k.open("kid-1", &sealed).unwrap(), "cHJpdmF0ZQ==");
        assert!(k.open("kid-2", &sealed).is_err());
        let other = KeyFile::from_contents(b"another key file, also 32 bytes long").unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
        // Two seals of one key differ (fresh nonces).
        assert_ne!(sealed, k.seal("kid-1", "cHJpdmF0ZQ==").unwrap());
    }

    #[test]
    fn short_key_files_are_refused() {
        let err = KeyFile::from_contents(b"short\n").unwrap_err();
        assert!(err.contains("32 bytes"), "{err}");
    }
}
