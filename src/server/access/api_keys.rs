//! API keys: `qb_<prefix>_<secret>`, a 256-bit random secret shown once, stored only as a
//! SHA-256 hash beside the public prefix that finds it.

use crate::error::AppError;

use crate::server::{
    access::audit::{self, Action, Actor, Change, Entity},
    access::principal::Role,
    access::tokens,
    db::{self, Database},
    platform::Platform,
};

/// What every key starts with.
const TAG: &str = "qb";

/// Longest key name.
pub const MAX_NAME_CHARS: usize = 100;

/// A key's name, trimmed: 1 to [`MAX_NAME_CHARS`] characters, else `BadRequest`.
pub fn parse_name(raw: &str) -> Result<&str, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name)
}

/// A freshly made key: `plaintext` goes to the caller once, the rest to storage.
pub struct NewApiKey {
    pub plaintext: String,
    pub prefix: String,
    pub secret_hash: String,
}

impl NewApiKey {
    /// Draws a new key from the operating system's random source.
    pub fn generate() -> Result<NewApiKey, AppError> {
        let prefix = tokens::draw_prefix()?;
        let plaintext = tokens::draw(TAG, &prefix)?;
        Ok(NewApiKey {
            secret_hash: hash(&plaintext),
            plaintext,
            prefix,
        })
    }
}

/// Creates a key for the organization and returns it in plain text: the only time it exists.
pub async fn create(
    db: &Database,
    organization_id: i64,
    role: Role,
    name: &str,
    now: i64,
) -> Result<String, AppError> {
    issue(db, organization_id, role, name, now)
        .await
        .map(|issued| issued.plaintext)
}

/// A key just made: its id and, this once, its plain text.
#[derive(Debug)]
pub struct IssuedKey {
    pub id: i64,
    pub prefix: String,
    pub plaintext: String,
}

/// [`create`], also returning the stored key's id and prefix.
pub async fn issue(
    db: &Database,
    organization_id: i64,
    role: Role,
    name: &str,
    now: i64,
) -> Result<IssuedKey, AppError> {
    // A prefix collision (48 random bits) is astronomically rare; draw again if it happens.
    for _ in 0..3 {
        let key = NewApiKey::generate()?;
        let stored = db::api_keys::insert(
            db.pool(),
            organization_id,
            &key.prefix,
            &key.secret_hash,
            role.as_str(),
            name,
            now,
        )
        .await;
        match stored {
            Ok(id) => {
                return Ok(IssuedKey {
                    id,
                    prefix: key.prefix,
                    plaintext: key.plaintext,
                })
            }
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::Internal)
}

/// [`issue`]s a key named `name` (checked by [`parse_name`]) for the organization on
/// behalf of `actor`, and records it in the audit log. Returns the key and when it was made.
pub async fn issue_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    role: Role,
    name: &str,
) -> Result<(IssuedKey, i64), AppError> {
    let name = parse_name(name)?;
    let now = db::unix_seconds(chrono::Utc::now());
    let issued = issue(&state.db, organization_id, role, name, now).await?;
    tracing::info!(key = issued.prefix, role = role.as_str(), "API key created");
    let change = Change {
        organization_id: Some(organization_id),
        entity: Entity::ApiKey,
        entity_id: issued.id,
        label: format!("{name} (qb_{})", issued.prefix),
        action: Action::Created,
        before: None,
        after: Some(serde_json::json!({"name": name, "role": role.as_str()})),
    };
    audit::record_logged(&state.db, actor, change).await;
    Ok((issued, now))
}

/// Revokes the organization's key `id` on behalf of `actor`, recorded in the audit log: it
/// stops working on the next request. `NotFound` for a key the organization does not have
/// or one already revoked.
pub async fn revoke_by(
    state: &Platform,
    actor: Actor,
    organization_id: i64,
    id: i64,
) -> Result<(), AppError> {
    let now = db::unix_seconds(chrono::Utc::now());
    if !db::api_keys::revoke_by_id(state.db.pool(), organization_id, id, now).await? {
        return Err(AppError::NotFound("API key".into()));
    }
    // Streams opened with the key end now.
    state.live.credentials_changed().await;
    tracing::info!(key = id, "API key revoked");
    let change = Change::revoked(organization_id, Entity::ApiKey, id, format!("key {id}"));
    audit::record_logged(&state.db, actor, change).await;
    Ok(())
}

/// Hex SHA-256 of a whole key, as stored.
pub fn hash(key: &str) -> String {
    tokens::hash(key)
}

/// The public prefix of a well-formed key, or `None` when the text cannot be one of ours.
pub fn prefix_of(key: &str) -> Option<&str> {
    tokens::prefix_of(TAG, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_well_formed_and_matches_its_hash() {
        let key = NewApiKey::generate().expect("random");
        assert_eq!(prefix_of(&key.plaintext), Some(key.prefix.as_str()));
        assert_eq!(hash(&key.plaintext), key.secret_hash);
        assert!(!key.secret_hash.contains(&key.plaintext[16..]));
        let other = NewApiKey::generate().expect("random");
        assert_ne!(key.plaintext, other.plaintext);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for key in [
            "",
            "qb_",
            "sk_live_abc",
            "qb_0123456789ab",
            "qb_0123456789ab_short",
            "qb_0123456789zz_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(prefix_of(key), None, "{key}");
        }
    }
}
