//! Dashboard users: who they are, their role, and their password kept only as an argon2id
//! hash.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::AppError;

use crate::server::{
    access::audit::{self, Action, Actor, Change, Entity},
    db::{self, memberships, organizations, users::NewUser, Database},
};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (hashing cost grows with length).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum UserRole {
    /// Reads their organization's usage.
    Member,
    /// Also manages their organization.
    Admin,
    /// Operates the instance: every organization, no organization of their own.
    #[value(name = "platform-admin")]
    PlatformAdmin,
}

impl UserRole {
    /// As stored: `member`, `admin`, `platform-admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Member => "member",
            UserRole::Admin => "admin",
            UserRole::PlatformAdmin => "platform-admin",
        }
    }
}

/// An email address, trimmed and lower-cased: one `@` with text on both sides, no spaces,
/// at most 320 characters.
pub fn parse_email(text: &str) -> Result<String, String> {
    let email = text.trim().to_lowercase();
    let valid = email.chars().count() <= 320
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(format!("{text:?} is not an email address"))
    }
}

/// `Err` with the rule when `password` is shorter than [`MIN_PASSWORD_CHARS`] or longer
/// than [`MAX_PASSWORD_CHARS`] characters.
pub fn check_password_length(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(format!(
            "A password must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        ))
    }
}

/// The PHC string of an argon2id hash of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    check_password_length(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| format!("cannot hash the password: {error}"))
}

/// True when `password` matches the stored PHC `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a user; returns the id. Members and admins need an existing organization;
/// platform admins must have none. A taken email is refused.
pub async fn create(
    database: &Database,
    email: &str,
    password: &str,
    organization: Option<&str>,
    role: UserRole,
    now: i64,
) -> Result<i64, String> {
    let email = parse_email(email)?;
    let organization_id = match (role, organization) {
        (UserRole::PlatformAdmin, Some(_)) => {
            return Err("a platform admin belongs to no organization: leave out --org".into())
        }
        (UserRole::PlatformAdmin, None) => None,
        (_, None) => return Err(format!("a {} needs --org", role.as_str())),
        (_, Some(slug)) => Some(
            organizations::find_by_slug(database.pool(), slug)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no organization {slug:?}"))?
                .id,
        ),
    };
    let password_hash = hash_password(password)?;
    let user = NewUser {
        organization_id,
        email: &email,
        password_hash: &password_hash,
        role: role.as_str(),
    };
    let mut transaction = database.begin_write().await.map_err(|e| e.to_string())?;
    let id = db::users::insert(&mut *transaction, &user, now)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(e) if e.is_unique_violation() => {
                format!("a user with email {email:?} exists already")
            }
            _ => error.to_string(),
        })?;
    if let Some(organization_id) = organization_id {
        memberships::insert(&mut *transaction, id, organization_id, role.as_str(), now)
            .await
            .map_err(|e| e.to_string())?;
    }
    transaction.commit().await.map_err(|e| e.to_string())?;
    Ok(id)
}

/// Adds the user with `email` to the organization `slug` as `role` (member or admin), so
/// they can switch to it from the dashboard; for a membership they have, sets its role.
pub async fn join(
    database: &Database,
    email: &str,
    organization: &str,
    role: UserRole,
    now: i64,
) -> Result<(), String> {
    if role == UserRole::PlatformAdmin {
        return Err("a platform admin belongs to no organization".into());
    }
    let email = parse_email(email)?;
    let pool = database.pool();
    let organization_id = organizations::find_by_slug(pool, organization)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no organization {organization:?}"))?
        .id;
    let user_id = db::users::id_of(pool, &email)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {email:?}"))?;
    let before = memberships::of_user(pool, user_id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|m| m.organization_id == organization_id);
    memberships::insert(pool, user_id, organization_id, role.as_str(), now)
        .await
        .map_err(|e| e.to_string())?;
    let change = Change {
        organization_id: Some(organization_id),
        entity: Entity::Membership,
        entity_id: user_id,
        label: email.clone(),
        action: if before.is_some() {
            Action::Updated
        } else {
            Action::Created
        },
        before: before.map(|m| serde_json::json!({ "role": m.role })),
        after: Some(serde_json::json!({ "role": role.as_str() })),
    };
    audit::record(database, Actor::Cli, change)
        .await
        .map_err(|e| e.to_string())
}

/// Disables the user `user_id`, ending every session of theirs in the same transaction, or
/// (`disabled: false`) lets them sign in again; recorded in the audit log as `actor`'s
/// change. Asking for what already is changes nothing. A disabled user's sessions stop
/// working on this server at once when the caller then announces
/// [`crate::server::platform::live::LiveUpdates::credentials_changed`], elsewhere within `read-cache-ms`.
///
/// Errors: `NotFound` for no such user; `BadRequest` for a user disabling themselves.
pub async fn set_disabled(
    database: &Database,
    actor: Actor,
    user_id: i64,
    disabled: bool,
    now: i64,
) -> Result<(), AppError> {
    if disabled && actor == Actor::User(user_id) {
        return Err(AppError::BadRequest(
            "You cannot disable yourself: ask another operator".into(),
        ));
    }
    let user = db::sessions::credentials_of(database.pool(), user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("User".into()))?;
    if user.disabled_at.is_some() == disabled {
        return Ok(());
    }
    let mut transaction = database.begin_write().await?;
    if !db::users::set_disabled(&mut *transaction, user_id, disabled.then_some(now)).await? {
        // Another operator made the same change first: theirs is the one audited.
        return Ok(());
    }
    let ended = if disabled {
        db::sessions::revoke_all_of_user(&mut *transaction, user_id, None, now).await?
    } else {
        0
    };
    transaction.commit().await?;
    tracing::info!(user = user_id, disabled, ended, "user disabled or enabled");
    let change = Change {
        organization_id: None,
        entity: Entity::User,
        entity_id: user_id,
        label: user.email,
        action: Action::Updated,
        before: Some(serde_json::json!({ "disabled": !disabled })),
        after: Some(serde_json::json!({ "disabled": disabled })),
    };
    audit::record_logged(database, actor, change).await;
    Ok(())
}

/// [`set_disabled`] for the user with `email`, from the command line.
pub async fn set_disabled_by_email(
    database: &Database,
    email: &str,
    disabled: bool,
    now: i64,
) -> Result<(), String> {
    let email = parse_email(email)?;
    let user_id = db::users::id_of(database.pool(), &email)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {email:?}"))?;
    set_disabled(database, Actor::Cli, user_id, disabled, now)
        .await
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_as_salted_argon2id_hashes() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("correct horse").expect("hash"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn short_passwords_and_malformed_emails_are_refused() {
        assert!(hash_password("1234567").is_err());
        assert_eq!(
            parse_email(" Ana@Example.com ").as_deref(),
            Ok("ana@example.com")
        );
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "a na@example.com",
            "a@b@c",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
