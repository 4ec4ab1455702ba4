use crate::alerts::message;
use crate::error::AppError;
use crate::graphql::types::alert::{AlertDelivery, AlertEvent, CreatedAlertTarget};
use crate::graphql::{admin, parse_id, state};
use crate::store::{
    self,
    alerts::{NewTarget, TargetSecret},
};
use async_graphql::{Context, ID, InputObject, Object};
use rand::RngCore;

/// Longest conflict age a target may wait for: 30 days.
const MAX_CONFLICT_AGE_MINUTES: i32 = 30 * 24 * 60;

/// A new alert target: a webhook URL (a Slack incoming-webhook URL works as is).
#[derive(InputObject)]
pub struct CreateAlertTargetInput {
    /// A name for people (1–200 characters).
    pub name: String,
    /// HTTPS URL the alerts are POSTed to; stored encrypted.
    pub url: String,
    /// What it receives (default: every event).
    pub events: Option<Vec<AlertEvent>>,
    /// Open conflicts older than this many minutes are alerted, once each (default 1440,
    /// a day; 0 to 43200).
    #[graphql(default = 1440)]
    pub conflict_age_minutes: i32,
}

fn signing_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Creates an alert target (admins only) and answers its signing secret, once.
    async fn create_alert_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target to create.")] input: CreateAlertTargetInput,
    ) -> async_graphql::Result<CreatedAlertTarget> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::bad_input("name must be 1 to 200 characters").into());
        }
        if input.url.len() > 2048 {
            return Err(AppError::bad_input("url is longer than 2048 characters").into());
        }
        let url = crate::alerts::check_url(&input.url, st.settings.insecure_alert_urls)?;
        if !(0..=MAX_CONFLICT_AGE_MINUTES).contains(&input.conflict_age_minutes) {
            return Err(AppError::bad_input(format!(
                "conflictAgeMinutes must be 0 to {MAX_CONFLICT_AGE_MINUTES}"
            ))
            .into());
        }
        let mut events: Vec<String> = input
            .events
            .unwrap_or_else(|| vec![AlertEvent::ConnectionHealth, AlertEvent::ConflictsWaiting])
            .into_iter()
            .map(|e| e.name().to_owned())
            .collect();
        events.sort();
        events.dedup();
        let secret = signing_secret();
        let target = store::alerts::create_target(
            &st.db,
            &st.secrets,
            c.account_id,
            NewTarget {
                name,
                url_display: crate::alerts::display_url(&url),
                secret: TargetSecret {
                    url: url.to_string(),
                    signing_secret: secret.clone(),
                },
                events,
                conflict_age_minutes: input.conflict_age_minutes,
                created_by: Some(c.user_id),
            },
        )
        .await?;
        store::audit::record(
            &st.db,
            c,
            "alert_target.create",
            Some(("alert_target", target.id.to_string())),
            serde_json::json!({ "name": target.name, "url": target.url_display, "events": target.events }),
        )
        .await?;
        Ok(CreatedAlertTarget {
            target: target.into(),
            signing_secret: secret,
        })
    }

    /// Deletes an alert target and its delivery log (admins only).
    async fn delete_alert_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target's id.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "alert target")?;
        let target = store::alerts::get_target(&st.db, c.account_id, id).await?;
        store::alerts::delete_target(&st.db, c.account_id, id).await?;
        store::audit::record(
            &st.db,
            c,
            "alert_target.delete",
            Some(("alert_target", id.to_string())),
            serde_json::json!({ "name": target.name }),
        )
        .await?;
        Ok(true)
    }

    /// Queues a test alert to a target (admins only); follow it in `alertDeliveries`.
    async fn send_test_alert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The target's id.")] id: ID,
    ) -> async_graphql::Result<AlertDelivery> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let target =
            store::alerts::get_target(&st.db, c.account_id, parse_id(&id, "alert target")?).await?;
        let body = message::test_body(&target.name, chrono::Utc::now());
        Ok(
            store::alerts::enqueue(&st.db, &target, message::TEST, &body)
                .await?
                .into(),
        )
    }
}
