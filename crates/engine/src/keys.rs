//! API keys, stored as salted SHA-256 hashes.
//!
//! A key reads `dd_<key id>_<secret>`. The key id finds the row; the secret is
//! hashed with the row's salt and compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqlitePool;
use subtle::ConstantTimeEq;

use crate::store::{now_millis, rfc3339};

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredKey {
    pub key_id: String,
    pub name: String,
    /// RFC 3339 UTC timestamp.
    pub created_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key name {0:?} is invalid: use 3 to 50 letters, digits, spaces, '_' or '-'")]
    InvalidName(String),
    #[error("a key named {0:?} already exists; revoke it first or choose another name")]
    DuplicateName(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Returns true if `name` has 3 to 50 characters, each a letter, digit, space, `_` or `-`.
pub fn is_valid_name(name: &str) -> bool {
    let length = name.chars().count();
    (3..=50).contains(&length)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '_' || c == '-')
}

/// Creates a key and returns the full key, which is not stored anywhere.
pub async fn create(pool: &SqlitePool, name: &str) -> Result<(String, StoredKey), KeyError> {
    if !is_valid_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    let key_id = random_hex(6);
    let secret = random_hex(24);
    let salt = random_hex(16);
    let created_at = now_millis();
    let inserted = sqlx::query("INSERT INTO api_keys (key_id, name, hash, salt, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&key_id)
        .bind(name)
        .bind(hash(&secret, &salt))
        .bind(&salt)
        .bind(created_at)
        .execute(pool)
        .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(KeyError::DuplicateName(name.to_owned()));
        }
        Err(error) => return Err(error.into()),
    }
    let stored = StoredKey {
        key_id: key_id.clone(),
        name: name.to_owned(),
        created_at: rfc3339(created_at),
    };
    Ok((format!("dd_{key_id}_{secret}"), stored))
}

/// Lists keys, oldest first.
pub async fn list(pool: &SqlitePool) -> Result<Vec<StoredKey>, KeyError> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT key_id, name, created_at FROM api_keys ORDER BY created_at, key_id")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(key_id, name, created_at)| StoredKey {
            key_id,
            name,
            created_at: rfc3339(created_at),
        })
        .collect())
}

/// Deletes a key; returns false if no key has this id.
pub async fn revoke(pool: &SqlitePool, key_id: &str) -> Result<bool, KeyError> {
    let deleted = sqlx::query("DELETE FROM api_keys WHERE key_id = ?")
        .bind(key_id)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Returns the key a token belongs to, or `None` if the token is malformed,
/// unknown or revoked.
pub async fn verify(pool: &SqlitePool, token: &str) -> Result<Option<StoredKey>, KeyError> {
    let parts: Vec<&str> = token.split('_').collect();
    let [prefix, key_id, secret] = parts.as_slice() else {
        return Ok(None);
    };
    if *prefix != "dd" || key_id.is_empty() || secret.is_empty() {
        return Ok(None);
    }
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as("SELECT name, hash, salt, created_at FROM api_keys WHERE key_id = ?")
            .bind(key_id)
            .fetch_optional(pool)
            .await?;
    let Some((name, stored_hash, salt, created_at)) = row else {
        return Ok(None);
    };
    let matches: bool = hash(secret, &salt).as_bytes().ct_eq(stored_hash.as_bytes()).into();
    Ok(matches.then(|| StoredKey {
        key_id: (*key_id).to_owned(),
        name,
        created_at: rfc3339(created_at),
    }))
}

fn hash(secret: &str, salt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(salt.as_bytes());
    hex::encode(hasher.finalize())
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::open(&dir.path().join("keys.db")).await.unwrap();
        (dir, pool)
    }

    #[tokio::test]
    async fn created_key_verifies_until_revoked() {
        let (_dir, pool) = pool().await;
        let (token, stored) = create(&pool, "nuke artist").await.unwrap();
        assert!(token.starts_with(&format!("dd_{}_", stored.key_id)));
        assert_eq!(
            verify(&pool, &token).await.unwrap().map(|k| k.name),
            Some("nuke artist".to_owned())
        );

        let mut tampered = token.clone();
        tampered.push('0');
        assert_eq!(verify(&pool, &tampered).await.unwrap(), None);
        assert_eq!(verify(&pool, "dd_only").await.unwrap(), None);

        assert!(revoke(&pool, &stored.key_id).await.unwrap());
        assert_eq!(verify(&pool, &token).await.unwrap(), None);
        assert!(!revoke(&pool, &stored.key_id).await.unwrap());
    }

    #[tokio::test]
    async fn names_are_checked_and_unique() {
        let (_dir, pool) = pool().await;
        assert!(matches!(create(&pool, "ab").await, Err(KeyError::InvalidName(_))));
        assert!(matches!(create(&pool, "bad/name").await, Err(KeyError::InvalidName(_))));
        create(&pool, "houdini_farm-1").await.unwrap();
        assert!(matches!(
            create(&pool, "houdini_farm-1").await,
            Err(KeyError::DuplicateName(_))
        ));
        assert_eq!(list(&pool).await.unwrap().len(), 1);
    }
}
