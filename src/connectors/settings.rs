//! What each provider needs to be configured, checked before a connection is stored.

use crate::error::{AppError, AppResult};
use entity::enums::Provider;

/// Keys a provider's non-secret config and its secrets must carry.
pub fn required_keys(provider: Provider) -> (&'static [&'static str], &'static [&'static str]) {
    match provider {
        Provider::ServiceTitan => (&["tenant"], &["clientId", "clientSecret", "appKey"]),
        Provider::Jobber => (&[], &["clientId", "clientSecret"]),
        // Username and password, or a refresh token: checked by the connector's settings.
        Provider::ShipHero => (&[], &[]),
        Provider::Fulfil => (&["merchant"], &["apiKey"]),
        Provider::Amazon => (&["marketplaceId", "region"], &["clientId", "clientSecret"]),
    }
}

/// Checks a connection's settings before they are stored; sandbox connections get their
/// credentials generated, so only real ones must bring secrets.
pub fn validate_settings(
    provider: Provider,
    config: &serde_json::Value,
    secrets: Option<&serde_json::Value>,
) -> AppResult<()> {
    if !config.is_object() {
        return Err(AppError::bad_input("config must be a JSON object"));
    }
    if let Some(base) = config.get("baseUrl") {
        let ok = base
            .as_str()
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
        if !ok {
            return Err(AppError::bad_input("config.baseUrl must be an http(s) URL"));
        }
    }
    if provider == Provider::Jobber {
        crate::connectors::jobber::api_version(config)?;
    }
    if provider == Provider::ShipHero
        && let Some(source) = config.get("source").filter(|v| !v.is_null())
    {
        crate::sync::route::parse_source(source)?;
    }
    let sandbox = config
        .get("sandbox")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if provider == Provider::ShipHero && !sandbox && secrets.is_some() {
        let has = |k: &str| {
            secrets
                .and_then(|s| s.get(k))
                .and_then(|v| v.as_str())
                .is_some_and(|v| !v.is_empty())
        };
        let login = has("username") && has("password");
        if !(has("refreshToken") || login) {
            return Err(AppError::bad_input(
                "secrets.refreshToken (or secrets.username and secrets.password) is required for shiphero",
            ));
        }
    }
    let (config_keys, secret_keys) = required_keys(provider);
    for key in config_keys {
        if config.get(*key).is_none_or(|v| v.is_null()) && !sandbox {
            return Err(AppError::bad_input(format!(
                "config.{key} is required for {}",
                provider.as_str()
            )));
        }
    }
    if let Some(secrets) = secrets {
        if !secrets.is_object() {
            return Err(AppError::bad_input("secrets must be a JSON object"));
        }
        if !sandbox {
            for key in secret_keys {
                if secrets
                    .get(*key)
                    .and_then(|v| v.as_str())
                    .is_none_or(str::is_empty)
                {
                    return Err(AppError::bad_input(format!(
                        "secrets.{key} is required for {}",
                        provider.as_str()
                    )));
                }
            }
        }
    } else if !sandbox
        && !secret_keys.is_empty()
        && provider != Provider::Jobber
        && provider != Provider::Amazon
    {
        return Err(AppError::bad_input(format!(
            "secrets are required for {}",
            provider.as_str()
        )));
    }
    Ok(())
}

/// Directions default to two-way for every entity type.
pub fn default_directions() -> serde_json::Value {
    serde_json::json!({ "default": "both" })
}

pub fn validate_directions(directions: &serde_json::Value) -> AppResult<()> {
    let Some(map) = directions.as_object() else {
        return Err(AppError::bad_input(
            "directions must be an object like {\"materials\": \"pull\"}",
        ));
    };
    for (entity, dir) in map {
        if !matches!(dir.as_str(), Some("pull" | "push" | "both")) {
            return Err(AppError::bad_input(format!(
                "directions.{entity} must be pull, push or both"
            )));
        }
    }
    Ok(())
}
