//! Room secrets, encrypted at rest with XChaCha20-Poly1305 under a key derived from the
//! server secret. Values never leave this module except to the caller that asked for them.

use std::path::Path;
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rusqlite::{OptionalExtension, params};
use sha2::Sha256;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SecretError {
    #[error("secret storage failed: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("secret {0} cannot be decrypted with this server's secret")]
    Undecryptable(String),
}

/// What may be shown about a secret: everything but its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretInfo {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub delegated_to: Option<String>,
}

/// The encryption key for a room's secrets: HMAC-SHA256(server secret, label).
pub fn derive_key(server_secret: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(server_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(b"roomdeck secrets v1");
    mac.finalize().into_bytes().into()
}

pub struct SecretStore {
    conn: Mutex<rusqlite::Connection>,
    cipher: XChaCha20Poly1305,
}

impl SecretStore {
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<SecretStore, SecretError> {
        let conn = super::open_sqlite(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS secrets (
                 id TEXT PRIMARY KEY,
                 name TEXT NOT NULL,
                 type TEXT NOT NULL,
                 delegated_to TEXT,
                 nonce BLOB NOT NULL,
                 value BLOB NOT NULL,
                 updated_at INTEGER NOT NULL);",
        )?;
        Ok(SecretStore {
            conn: Mutex::new(conn),
            cipher: XChaCha20Poly1305::new(key.into()),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a secret under `id`, replacing any value it had. The id is bound into the
    /// ciphertext, so a value cannot be moved to another id unnoticed.
    pub fn set(&self, info: &SecretInfo, value: &[u8]) -> Result<(), SecretError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value,
                    aad: info.id.as_bytes(),
                },
            )
            .expect("encryption of an in-memory buffer does not fail");
        self.conn().execute(
            "INSERT OR REPLACE INTO secrets(id, name, type, delegated_to, nonce, value, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now'))",
            params![
                info.id,
                info.name,
                info.secret_type,
                info.delegated_to,
                &nonce[..],
                sealed
            ],
        )?;
        Ok(())
    }

    /// The secret with this id, or else the newest one with this name (and type, if given).
    pub fn find(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        secret_type: Option<&str>,
    ) -> Result<Option<SecretInfo>, SecretError> {
        let conn = self.conn();
        let row = |r: &rusqlite::Row| {
            Ok(SecretInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                secret_type: r.get(2)?,
                delegated_to: r.get(3)?,
            })
        };
        let found = match (id, name) {
            (Some(id), _) => conn.query_row("SELECT id, name, type, delegated_to FROM secrets WHERE id = ?1", [id], row).optional()?,
            (None, Some(name)) => conn
                .query_row(
                    "SELECT id, name, type, delegated_to FROM secrets WHERE name = ?1 AND (?2 IS NULL OR type = ?2)
                     ORDER BY updated_at DESC LIMIT 1",
                    params![name, secret_type],
                    row,
                )
                .optional()?,
            (None, None) => None,
        };
        Ok(found)
    }

    pub fn value(&self, id: &str) -> Result<Option<Vec<u8>>, SecretError> {
        let sealed: Option<(Vec<u8>, Vec<u8>)> = self
            .conn()
            .query_row(
                "SELECT nonce, value FROM secrets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((nonce, sealed)) = sealed else {
            return Ok(None);
        };
        let Ok(nonce) = <[u8; 24]>::try_from(nonce.as_slice()) else {
            return Err(SecretError::Undecryptable(id.to_string()));
        };
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed,
                    aad: id.as_bytes(),
                },
            )
            .map(Some)
            .map_err(|_| SecretError::Undecryptable(id.to_string()))
    }

    pub fn list(&self) -> Result<Vec<SecretInfo>, SecretError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, type, delegated_to FROM secrets ORDER BY name, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(SecretInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                secret_type: r.get(2)?,
                delegated_to: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Removes a secret; false when there was none.
    pub fn delete(&self, id: &str) -> Result<bool, SecretError> {
        Ok(self
            .conn()
            .execute("DELETE FROM secrets WHERE id = ?1", [id])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str) -> SecretInfo {
        SecretInfo {
            id: id.into(),
            name: "api-key".into(),
            secret_type: "text/plain".into(),
            delegated_to: None,
        }
    }

    #[test]
    fn values_round_trip_and_are_not_stored_in_the_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SecretStore::open(&path, &derive_key("server secret")).unwrap();
        store.set(&info("a"), b"hunter2-very-secret").unwrap();
        assert_eq!(store.value("a").unwrap().unwrap(), b"hunter2-very-secret");
        assert_eq!(
            store.find(None, Some("api-key"), None).unwrap().unwrap().id,
            "a"
        );
        assert_eq!(store.list().unwrap(), vec![info("a")]);
        drop(store);
        let raw = std::fs::read(&path).unwrap();
        let wal = std::fs::read(dir.path().join("s.db-wal")).unwrap_or_default();
        let needle = b"hunter2-very-secret";
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle)
                && !wal.windows(needle.len()).any(|w| w == needle)
        );
    }

    #[test]
    fn another_server_secret_cannot_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        SecretStore::open(&path, &derive_key("one"))
            .unwrap()
            .set(&info("a"), b"v")
            .unwrap();
        let other = SecretStore::open(&path, &derive_key("two")).unwrap();
        assert!(matches!(
            other.value("a"),
            Err(SecretError::Undecryptable(_))
        ));
    }

    #[test]
    fn delete_reports_whether_there_was_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::open(&dir.path().join("s.db"), &derive_key("k")).unwrap();
        store.set(&info("a"), b"v").unwrap();
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap());
        assert_eq!(store.value("a").unwrap(), None);
    }
}
