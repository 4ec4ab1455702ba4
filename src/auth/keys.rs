//! Loads the JWT secret and encryption key from settings, or generates them into the
//! data dir (mode 0600) on first run so a restart keeps sessions and secrets valid.

use crate::config::Settings;
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use std::path::Path;

pub struct Keys {
    pub jwt_secret: Vec<u8>,
    pub encryption_key: [u8; 32],
}

pub fn load_or_generate(settings: &Settings) -> anyhow::Result<Keys> {
    settings
        .ensure_data_dir()
        .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    let jwt_secret = match &settings.jwt_secret {
        Some(s) if s.len() >= 32 => s.as_bytes().to_vec(),
        Some(_) => bail!("PRICEBOOK_JWT_SECRET must be at least 32 characters"),
        None => read_or_create(&settings.data_dir.join("jwt.secret"))?.into_bytes(),
    };
    let key_text = match &settings.encryption_key {
        Some(k) => k.clone(),
        None => read_or_create(&settings.data_dir.join("encryption.key"))?,
    };
    Ok(Keys {
        jwt_secret,
        encryption_key: parse_key(&key_text)?,
    })
}

/// Accepts 32 bytes as base64 or hex.
pub fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .filter(|b| b.len() == 32)
        .or_else(|| STANDARD.decode(text).ok());
    match bytes {
        Some(b) if b.len() == 32 => {
            let mut key = [0u8; 32];
            key.copy_from_slice(&b);
            Ok(key)
        }
        _ => bail!("PRICEBOOK_ENCRYPTION_KEY must be 32 bytes, base64 or hex encoded"),
    }
}

fn read_or_create(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        return std::fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .with_context(|| format!("reading {}", path.display()));
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let text = STANDARD.encode(bytes);
    write_private(path, &text)?;
    Ok(text)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
