//! AES-256-GCM encryption of connection secrets at rest.

use crate::error::{AppError, AppResult};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        SecretBox {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Encrypts a JSON value; a fresh random nonce is prepended to the ciphertext.
    pub fn seal(&self, value: &serde_json::Value) -> AppResult<String> {
        // Whatever is a secret here is masked in every error, event and log from now on.
        crate::redact::remember_all(value);
        self.seal_unremembered(value)
    }

    /// [`seal`](Self::seal) for a document that is only partly secret: the caller tells
    /// the redactor which parts are.
    pub fn seal_unremembered(&self, value: &serde_json::Value) -> AppResult<String> {
        let plain = serde_json::to_vec(value).map_err(AppError::internal)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_slice())
            .map_err(|_| AppError::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> AppResult<serde_json::Value> {
        let value = self.open_unremembered(sealed)?;
        crate::redact::remember_all(&value);
        Ok(value)
    }

    /// [`open`](Self::open) for a document that is only partly secret.
    pub fn open_unremembered(&self, sealed: &str) -> AppResult<serde_json::Value> {
        let raw = STANDARD
            .decode(sealed)
            .map_err(|_| AppError::internal("stored secret is not base64"))?;
        if raw.len() <= NONCE_LEN {
            return Err(AppError::internal("stored secret is truncated"));
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| AppError::internal("stored secret is truncated"))?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), body)
            .map_err(|_| {
                AppError::internal(
                    "stored secret cannot be decrypted (wrong PRICEBOOK_ENCRYPTION_KEY?)",
                )
            })?;
        serde_json::from_slice(&plain).map_err(AppError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let b = SecretBox::new(&[7u8; 32]);
        let v = serde_json::json!({"client_secret": "s3cr3t"});
        let sealed = b.seal(&v).unwrap();
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(b.open(&sealed).unwrap(), v);
        assert_ne!(sealed, b.seal(&v).unwrap(), "nonces differ");
        assert!(SecretBox::new(&[8u8; 32]).open(&sealed).is_err());
    }
}
