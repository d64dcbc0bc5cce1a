//! The audit log: every change to licenses, assignments, keys, webhooks, roles, portal
//! sessions and embedding origins is
//! recorded with who made it, when, and the fields before and after.

use chrono::Utc;
use serde_json::Value;

use sqlx::{Any, Executor};

use crate::error::AppError;

use crate::server::{
    access::principal::{ApiPrincipal, Credential},
    db::{
        self,
        audit::{self, NewAuditEvent},
        Database,
    },
};

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, by id.
    User(i64),
    /// An API key, by id.
    Key(i64),
    /// The command line on the server.
    Cli,
}

impl From<&ApiPrincipal> for Actor {
    fn from(principal: &ApiPrincipal) -> Self {
        match principal.credential {
            Credential::ApiKey(id) => Actor::Key(id),
            Credential::Session(id) => Actor::User(id),
        }
    }
}

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    License,
    Subscription,
    ApiKey,
    Webhook,
    Membership,
    /// A dashboard user (disabled or enabled again by the operator).
    User,
    /// A customer's portal session (created, revoked).
    PortalSession,
    /// An origin allowed to frame the embed view (added: created, removed: revoked).
    EmbedOrigin,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::License => "license",
            Entity::Subscription => "subscription",
            Entity::ApiKey => "api_key",
            Entity::Webhook => "webhook",
            Entity::Membership => "membership",
            Entity::User => "user",
            Entity::PortalSession => "portal_session",
            Entity::EmbedOrigin => "embed_origin",
        }
    }
}

/// How it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Assigned,
    Revoked,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Assigned => "assigned",
            Action::Revoked => "revoked",
        }
    }
}

/// One change to record.
#[derive(Clone, Debug)]
pub struct Change {
    pub organization_id: Option<i64>,
    pub entity: Entity,
    pub entity_id: i64,
    /// A name a person recognises: the license's, the key's, the webhook's URL …
    pub label: String,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    /// The organization's `entity` `entity_id` revoked, with no fields to show.
    pub fn revoked(organization_id: i64, entity: Entity, entity_id: i64, label: String) -> Change {
        Change {
            organization_id: Some(organization_id),
            entity,
            entity_id,
            label,
            action: Action::Revoked,
            before: None,
            after: None,
        }
    }
}

/// How the log names `actor`: the user's email, `key qb_<prefix>`, or `cli`.
pub async fn actor_label(database: &Database, actor: Actor) -> Result<String, AppError> {
    let pool = database.pool();
    Ok(match actor {
        Actor::User(id) => db::users::email_of(pool, id)
            .await?
            .unwrap_or_else(|| format!("user {id}")),
        Actor::Key(id) => db::api_keys::prefix_by_id(pool, id)
            .await?
            .map_or_else(|| format!("key {id}"), |prefix| format!("key qb_{prefix}")),
        Actor::Cli => "cli".to_string(),
    })
}

/// Records `change` as made now by the actor named `actor` (see [`actor_label`]), through
/// `executor`: inside the transaction that makes the change, where there is one.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    actor: &str,
    change: &Change,
) -> Result<(), AppError> {
    let before = change.before.as_ref().map(Value::to_string);
    let after = change.after.as_ref().map(Value::to_string);
    let entity_id = change.entity_id.to_string();
    let event = NewAuditEvent {
        actor,
        organization_id: change.organization_id,
        entity: change.entity.as_str(),
        entity_id: &entity_id,
        label: &change.label,
        action: change.action.as_str(),
        before: before.as_deref(),
        after: after.as_deref(),
    };
    audit::record(executor, &event, db::unix_seconds(Utc::now())).await?;
    Ok(())
}

/// Records `change` as made now by `actor`.
pub async fn record(database: &Database, actor: Actor, change: Change) -> Result<(), AppError> {
    let actor = actor_label(database, actor).await?;
    insert(database.pool(), &actor, &change).await
}

/// [`record`] for a change already made and answered for: a failure is logged with the
/// change rather than failing a request whose effect (and one-time secret) stands.
pub async fn record_logged(database: &Database, actor: Actor, change: Change) {
    let described = format!(
        "{} {} {}",
        change.entity.as_str(),
        change.entity_id,
        change.action.as_str()
    );
    if let Err(error) = record(database, actor, change).await {
        tracing::error!(%error, change = described, "change made but not written to the audit log");
    }
}
