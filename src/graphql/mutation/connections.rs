use crate::connectors::settings as connectors;
use crate::graphql::bounds::{self, MaxChars, MaxJsonBytes};
use crate::graphql::types::connection::Connection;
use crate::graphql::types::enums::{AdoptionPolicy, ConnectionStatus, Provider};
use crate::graphql::{admin, parse_id, state};
use crate::jobs::StartRequest;
use crate::store::{
    self,
    connections::{ConnectionPatch, NewConnection},
};
use crate::sync::health;
use async_graphql::{Context, ID, InputObject, Json, Object};
use entity::enums::{ConnectionHealth, RunMode, RunTrigger};

/// A new connection to an upstream system.
#[derive(InputObject)]
pub struct CreateConnectionInput {
    /// A name unique in the account, e.g. `servicetitan` or `demo` (at most 255 characters).
    #[graphql(validator(custom = "MaxChars(bounds::NAME)"))]
    pub name: String,
    /// The upstream system.
    pub provider: Provider,
    /// Non-secret settings, e.g. {"tenant": 123, "baseUrl": "…"} or {"sandbox": true}.
    #[graphql(
        default_with = "Json(serde_json::json!({}))",
        validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)")
    )]
    pub config: Json<serde_json::Value>,
    /// Credentials; stored encrypted, never returned.
    #[graphql(validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)"))]
    pub secrets: Option<Json<serde_json::Value>>,
    /// Per entity type, which way data flows: `{"default": "both", "materials": "pull"}` with `pull`, `push` or `both` (default both).
    #[graphql(validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)"))]
    pub directions: Option<Json<serde_json::Value>>,
    /// IANA time zone of its schedules, e.g. `America/Chicago` (default UTC).
    #[graphql(
        default_with = "String::from(\"UTC\")",
        validator(custom = "MaxChars(bounds::CODE)")
    )]
    pub time_zone: String,
    /// Queue the first full sync right away (default true).
    #[graphql(default = true)]
    pub start_sync: bool,
    /// What the first sync does with existing local items whose code matches a remote
    /// record but whose values differ: a FIRST_LINK conflict (default), or one side wins.
    #[graphql(default_with = "AdoptionPolicy::Conflict")]
    pub adoption_policy: AdoptionPolicy,
    /// Push on save: a local edit (`updateItem`) queues a push run for this connection at
    /// once, coalesced with the edits already waiting (default true). Off: edits wait for
    /// the next sync or `retryItem`.
    #[graphql(default = true)]
    pub push_on_save: bool,
}

/// Changes to a connection; absent fields stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateConnectionInput {
    /// A new name, unique in the account (at most 255 characters).
    #[graphql(validator(custom = "MaxChars(bounds::NAME)"))]
    pub name: Option<String>,
    /// Replaces the non-secret settings.
    #[graphql(validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)"))]
    pub config: Option<Json<serde_json::Value>>,
    /// Credentials to set: merged into the stored ones (stored encrypted, never returned).
    #[graphql(validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)"))]
    pub secrets: Option<Json<serde_json::Value>>,
    /// Replaces the per-entity directions (`pull`, `push` or `both`).
    #[graphql(validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)"))]
    pub directions: Option<Json<serde_json::Value>>,
    /// ACTIVE to sync, PAUSED to stop syncing.
    pub status: Option<ConnectionStatus>,
    /// IANA time zone of its schedules.
    #[graphql(validator(custom = "MaxChars(bounds::CODE)"))]
    pub time_zone: Option<String>,
    /// Merge edits to different fields on both sides automatically instead of making conflicts.
    pub auto_merge_disjoint_fields: Option<bool>,
    /// What later first links do (existing links and conflicts are not changed).
    pub adoption_policy: Option<AdoptionPolicy>,
    /// Push on save on or off (see `CreateConnectionInput.pushOnSave`); edits already
    /// queued stay queued.
    pub push_on_save: Option<bool>,
}

fn check_time_zone(tz: &str) -> async_graphql::Result<()> {
    tz.parse::<chrono_tz::Tz>()
        .map(|_| ())
        .map_err(|_| crate::error::AppError::bad_input(format!("unknown time zone '{tz}'")).into())
}

/// New credentials end NEEDS_REAUTH (the next run tells whether they work); an OAuth
/// connection stops being NOT_CONNECTED once it holds a refresh token.
async fn reconnected(
    db: &impl sea_orm::ConnectionTrait,
    st: &crate::state::AppState,
    conn: &entity::connection::Model,
) -> async_graphql::Result<Option<ConnectionHealth>> {
    Ok(match conn.health {
        ConnectionHealth::NeedsReauth => Some(ConnectionHealth::Active),
        ConnectionHealth::NotConnected => {
            let secrets = store::connections::read_secrets(db, &st.secrets, conn.id).await?;
            let consented = !crate::connectors::oauth::lacks_consent(
                conn.provider,
                &conn.config,
                secrets.as_ref(),
            );
            consented.then_some(ConnectionHealth::Active)
        }
        _ => None,
    })
}

#[derive(Default)]
pub struct ConnectionMutation;

#[Object]
impl ConnectionMutation {
    /// Creates a connection (admins only). Secrets are encrypted at rest.
    async fn create_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Provider, name, settings and credentials.")] input: CreateConnectionInput,
    ) -> async_graphql::Result<Connection> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let provider = input.provider.into();
        let secrets = input.secrets.map(|j| j.0);
        connectors::validate_settings(provider, &input.config, secrets.as_ref())?;
        let directions = input
            .directions
            .map(|j| j.0)
            .unwrap_or_else(connectors::default_directions);
        connectors::validate_directions(&directions)?;
        check_time_zone(&input.time_zone)?;
        // OAuth providers get their first sync from the callback, once tokens exist.
        let awaits_consent = crate::connectors::oauth::supported(provider)
            && secrets
                .as_ref()
                .and_then(|s| s.get(crate::connectors::token::keys::REFRESH_TOKEN))
                .is_none();
        let start_sync = input.start_sync && !awaits_consent;
        let not_connected =
            crate::connectors::oauth::lacks_consent(provider, &input.config.0, secrets.as_ref());
        let new = NewConnection {
            provider,
            name: input.name,
            config: input.config.0,
            directions,
            secrets,
            time_zone: input.time_zone,
            adoption_policy: input.adoption_policy.into(),
            push_on_save: input.push_on_save,
        };
        let txn = store::db::begin_write(&st.db).await?;
        let created = store::connections::create(&txn, &st.secrets, c.account_id, new).await?;
        let created = if not_connected {
            let reason = Some("waiting for OAuth consent (startOAuth)".to_owned());
            health::set(
                &txn,
                &created,
                ConnectionHealth::NotConnected,
                reason,
                health::Cause::User(c),
            )
            .await?;
            store::connections::get(&txn, c.account_id, created.id).await?
        } else {
            created
        };
        store::audit::record(
            &txn,
            c,
            "connection.create",
            Some(("connection", created.id.to_string())),
            serde_json::json!({ "name": created.name, "provider": created.provider }),
        )
        .await?;
        txn.commit().await?;
        if start_sync {
            // Enqueued, not run: the response does not wait for the sync.
            let req = StartRequest {
                mode: RunMode::Full,
                params: Default::default(),
                dry_run: false,
                trigger: RunTrigger::Connect,
                requested_by: Some(c.user_id),
                force: false,
            };
            st.jobs.start_sync(c.account_id, created.id, req).await?;
        }
        Ok(created.into())
    }

    /// Changes a connection (admins only); omitted fields stay. `secrets` are merged into the stored ones.
    async fn update_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection.")] id: ID,
        #[graphql(desc = "The fields to change.")] input: UpdateConnectionInput,
    ) -> async_graphql::Result<Connection> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "connection")?;
        let current = store::connections::get(&st.db, c.account_id, id).await?;
        let config = input.config.map(|j| j.0);
        let secrets = input.secrets.map(|j| j.0);
        if config.is_some() || secrets.is_some() {
            let cfg = config.clone().unwrap_or_else(|| current.config.clone());
            // Partial secret updates are merged later, so only check their shape here.
            if let Some(s) = &secrets
                && !s.is_object()
            {
                return Err(
                    crate::error::AppError::bad_input("secrets must be a JSON object").into(),
                );
            }
            // Validate the connection as it will be: stored secrets with the new ones merged in.
            let mut merged = store::connections::read_secrets(&st.db, &st.secrets, id)
                .await?
                .unwrap_or_else(|| serde_json::json!({}));
            if let (Some(target), Some(source)) = (
                merged.as_object_mut(),
                secrets.as_ref().and_then(|s| s.as_object()),
            ) {
                target.extend(source.clone());
            }
            let has_any = merged.as_object().is_some_and(|m| !m.is_empty());
            connectors::validate_settings(current.provider, &cfg, has_any.then_some(&merged))?;
        }
        let directions = input.directions.map(|j| j.0);
        if let Some(d) = &directions {
            connectors::validate_directions(d)?;
        }
        if let Some(tz) = &input.time_zone {
            check_time_zone(tz)?;
        }
        let changed: Vec<&str> = [
            ("name", input.name.is_some()),
            ("config", config.is_some()),
            ("secrets", secrets.is_some()),
            ("directions", directions.is_some()),
            ("status", input.status.is_some()),
            ("timeZone", input.time_zone.is_some()),
            (
                "autoMergeDisjointFields",
                input.auto_merge_disjoint_fields.is_some(),
            ),
            ("adoptionPolicy", input.adoption_policy.is_some()),
            ("pushOnSave", input.push_on_save.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let patch = ConnectionPatch {
            name: input.name,
            config,
            directions,
            secrets,
            status: input.status.map(Into::into),
            time_zone: input.time_zone,
            auto_merge_disjoint: input.auto_merge_disjoint_fields,
            adoption_policy: input.adoption_policy.map(Into::into),
            push_on_save: input.push_on_save,
        };
        let new_secrets = patch.secrets.is_some();
        let txn = store::db::begin_write(&st.db).await?;
        let mut updated =
            store::connections::update(&txn, &st.secrets, c.account_id, id, patch).await?;
        if new_secrets && let Some(to) = reconnected(&txn, st, &updated).await? {
            health::set(&txn, &updated, to, None, health::Cause::User(c)).await?;
            updated = store::connections::get(&txn, c.account_id, id).await?;
        }
        store::audit::record(
            &txn,
            c,
            "connection.update",
            Some(("connection", id.to_string())),
            serde_json::json!({ "changed": changed }),
        )
        .await?;
        txn.commit().await?;
        Ok(updated.into())
    }

    /// Deletes a connection, its links and secrets; items stay.
    async fn delete_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "connection")?;
        let txn = store::db::begin_write(&st.db).await?;
        let existing = store::connections::get(&txn, c.account_id, id).await?;
        store::connections::delete(&txn, c.account_id, id).await?;
        store::audit::record(
            &txn,
            c,
            "connection.delete",
            Some(("connection", id.to_string())),
            serde_json::json!({ "name": existing.name }),
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
}
