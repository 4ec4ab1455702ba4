use crate::error::AppError;
use crate::graphql::types::run::{StartSyncPayload, SyncRun};
use crate::graphql::types::vendor_feed::VendorFeed;
use crate::graphql::{admin, editor, parse_id, state};
use crate::jobs::schedule;
use crate::store::{
    self,
    vendor_feeds::{FeedPatch, FeedSecret, NewFeed},
};
use crate::sync::feeds;
use async_graphql::{Context, ID, InputObject, Json, Object};
use entity::enums::RunTrigger;

/// A new vendor price feed: where to download the vendor's price list, and when.
#[derive(InputObject)]
pub struct CreateVendorFeedInput {
    /// The connection whose linked items the rows match (runs are recorded on it).
    pub connection_id: ID,
    /// The vendor every row is priced for (e.g. `CED`).
    pub vendor: String,
    /// HTTPS URL of the CSV file; user info or a token in it is stored encrypted.
    pub url: String,
    /// Request headers, e.g. `{"Authorization": "Bearer …"}`; stored encrypted.
    pub headers: Option<Json<serde_json::Value>>,
    /// Header mapping as `uploadCsv` takes it (without a vendor: the feed names it).
    pub mapping: Option<Json<serde_json::Value>>,
    /// Cron expression in the connection's time zone (default `0 3 * * *`, daily 03:00).
    pub schedule: Option<String>,
    /// Whether the schedule runs (default true); `startVendorFeed` works either way.
    #[graphql(default = true)]
    pub enabled: bool,
}

/// Changes to a vendor feed; fields left out stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateVendorFeedInput {
    /// The vendor every row is priced for.
    pub vendor: Option<String>,
    /// A new URL (the next check downloads the file again).
    pub url: Option<String>,
    /// Replaces the request headers (`{}` removes them).
    pub headers: Option<Json<serde_json::Value>>,
    /// Replaces the header mapping (as `uploadCsv` takes it).
    pub mapping: Option<Json<serde_json::Value>>,
    /// A new cron expression in the connection's time zone.
    pub schedule: Option<String>,
    /// Turns the schedule on or off.
    pub enabled: Option<bool>,
}

fn vendor_name(v: &str) -> async_graphql::Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 200 {
        return Err(AppError::bad_input("vendor must be 1 to 200 characters").into());
    }
    Ok(v.to_owned())
}

fn checked_schedule(s: &str) -> async_graphql::Result<String> {
    schedule::parse(s)?;
    Ok(s.trim().to_owned())
}

#[derive(Default)]
pub struct FeedMutation;

#[Object]
impl FeedMutation {
    /// Creates a vendor price feed (admins only). Its first check runs at the next tick
    /// of its schedule, or now with `startVendorFeed`.
    async fn create_vendor_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed to create.")] input: CreateVendorFeedInput,
    ) -> async_graphql::Result<VendorFeed> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let conn = store::connections::get(
            &st.db,
            c.account_id,
            parse_id(&input.connection_id, "connection")?,
        )
        .await?;
        let vendor = vendor_name(&input.vendor)?;
        let url = feeds::check_url(&input.url, st.settings.insecure_feed_urls)?;
        let mapping = input
            .mapping
            .map(|j| j.0)
            .unwrap_or_else(|| serde_json::json!({}));
        feeds::import_mapping(&mapping, &vendor)?;
        let new = NewFeed {
            connection_id: conn.id,
            vendor,
            url_display: feeds::display_url(&url),
            secret: FeedSecret {
                url: url.to_string(),
                headers: feeds::check_headers(input.headers.as_ref().map(|j| &j.0))?,
            },
            mapping,
            schedule: checked_schedule(
                input.schedule.as_deref().unwrap_or(feeds::DEFAULT_SCHEDULE),
            )?,
            enabled: input.enabled,
        };
        let feed = store::vendor_feeds::create(&st.db, &st.secrets, c.account_id, new).await?;
        store::audit::record(
            &st.db,
            c,
            "vendor_feed.create",
            Some(("vendor_feed", feed.id.to_string())),
            serde_json::json!({ "vendor": feed.vendor, "url": feed.url_display, "schedule": feed.schedule }),
        )
        .await?;
        Ok(feed.into())
    }

    /// Changes a vendor feed (admins only).
    async fn update_vendor_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] id: ID,
        #[graphql(desc = "What to change.")] input: UpdateVendorFeedInput,
    ) -> async_graphql::Result<VendorFeed> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "vendor feed")?;
        let current = store::vendor_feeds::get(&st.db, c.account_id, id).await?;
        let vendor = input.vendor.as_deref().map(vendor_name).transpose()?;
        let mapping = input.mapping.map(|j| j.0);
        feeds::import_mapping(
            mapping.as_ref().unwrap_or(&current.mapping),
            vendor.as_deref().unwrap_or(&current.vendor),
        )?;
        let mut patch = FeedPatch {
            vendor,
            mapping,
            schedule: input
                .schedule
                .as_deref()
                .map(checked_schedule)
                .transpose()?,
            enabled: input.enabled,
            ..Default::default()
        };
        if input.url.is_some() || input.headers.is_some() {
            let mut secret = store::vendor_feeds::open_secret(&st.secrets, &current)?;
            if let Some(text) = &input.url {
                let url = feeds::check_url(text, st.settings.insecure_feed_urls)?;
                patch.url_display = Some(feeds::display_url(&url));
                secret.url = url.to_string();
            }
            if let Some(h) = &input.headers {
                secret.headers = feeds::check_headers(Some(&h.0))?;
            }
            patch.secret = Some(secret);
        }
        let feed =
            store::vendor_feeds::update(&st.db, &st.secrets, c.account_id, id, patch).await?;
        store::audit::record(
            &st.db,
            c,
            "vendor_feed.update",
            Some(("vendor_feed", feed.id.to_string())),
            serde_json::json!({ "vendor": feed.vendor, "url": feed.url_display, "schedule": feed.schedule, "enabled": feed.enabled }),
        )
        .await?;
        Ok(feed.into())
    }

    /// Deletes a vendor feed (admins only); the prices it imported stay.
    async fn delete_vendor_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "vendor feed")?;
        let feed = store::vendor_feeds::get(&st.db, c.account_id, id).await?;
        store::vendor_feeds::delete(&st.db, c.account_id, id).await?;
        store::audit::record(
            &st.db,
            c,
            "vendor_feed.delete",
            Some(("vendor_feed", id.to_string())),
            serde_json::json!({ "vendor": feed.vendor, "url": feed.url_display }),
        )
        .await?;
        Ok(true)
    }

    /// Checks a vendor feed now: queues its run (conditional download, then import).
    /// With a run of its connection active, returns that run with `alreadyRunning: true`.
    async fn start_vendor_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The feed.")] id: ID,
    ) -> async_graphql::Result<StartSyncPayload> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let feed =
            store::vendor_feeds::get(&st.db, c.account_id, parse_id(&id, "vendor feed")?).await?;
        let (run, already_running) = st
            .jobs
            .start_feed(&feed, RunTrigger::User, Some(c.user_id))
            .await?;
        Ok(StartSyncPayload {
            run: SyncRun(run),
            already_running,
        })
    }
}
