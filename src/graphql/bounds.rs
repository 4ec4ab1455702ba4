//! Length limits on everything the API stores or searches, checked where the input is
//! parsed: a value over its limit is `BAD_USER_INPUT` before any resolver runs, so an
//! outsider's text always has a bounded size (a 5 MB item name used to be stored and then
//! fail every push; a 50,000-character search failed inside SQLite's LIKE).
//!
//! Declared on each argument or input field:
//! `#[graphql(validator(custom = "MaxChars(bounds::NAME)"))]`.

use async_graphql::{CustomValidator, InputValueError};

/// Names: items, connections.
pub const NAME: usize = entity::item::NAME_MAX_CHARS;
/// Item descriptions, free-text custom values.
pub const DESCRIPTION: usize = entity::item::DESCRIPTION_MAX_CHARS;
/// Search text.
pub const SEARCH: usize = 200;
/// Comments (conflict resolutions).
pub const COMMENT: usize = 2_000;
/// Codes, remote ids, entity type and field names, time zones, cron expressions.
pub const CODE: usize = 100;
/// Entries of a list argument (codes, remote ids).
pub const LIST: usize = 1_000;
/// A JSON document (connection config, secrets, directions, a CSV mapping), serialised.
pub const JSON_BYTES: usize = 16 * 1024;

fn too_long<T: async_graphql::InputType>(message: String) -> InputValueError<T> {
    InputValueError::custom(message).with_extension("code", "BAD_USER_INPUT")
}

/// At most this many characters.
pub struct MaxChars(pub usize);

impl CustomValidator<String> for MaxChars {
    fn check(&self, value: &String) -> Result<(), InputValueError<String>> {
        // Counting stops at the limit: a huge value costs no more than a long one.
        match value.chars().nth(self.0) {
            None => Ok(()),
            Some(_) => Err(too_long(format!("is longer than {} characters", self.0))),
        }
    }
}

/// At most `items` entries, each at most `chars` characters.
pub struct MaxList {
    pub items: usize,
    pub chars: usize,
}

impl CustomValidator<Vec<String>> for MaxList {
    fn check(&self, value: &Vec<String>) -> Result<(), InputValueError<Vec<String>>> {
        if value.len() > self.items {
            return Err(too_long(format!("has more than {} entries", self.items)));
        }
        match value.iter().find(|v| v.chars().nth(self.chars).is_some()) {
            Some(_) => Err(too_long(format!(
                "has an entry longer than {} characters",
                self.chars
            ))),
            None => Ok(()),
        }
    }
}

/// At most this many bytes once serialised.
pub struct MaxJsonBytes(pub usize);

impl CustomValidator<serde_json::Value> for MaxJsonBytes {
    fn check(&self, value: &serde_json::Value) -> Result<(), InputValueError<serde_json::Value>> {
        let size = serde_json::to_vec(value)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > self.0 {
            Err(too_long(format!("is larger than {} KiB", self.0 / 1024)))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(MaxChars(3).check(&"ééé".to_owned()).is_ok());
        assert!(MaxChars(3).check(&"éééé".to_owned()).is_err());
        assert!(MaxChars(0).check(&String::new()).is_ok());
        let list = MaxList { items: 2, chars: 2 };
        assert!(list.check(&vec!["ab".into(), "cd".into()]).is_ok());
        assert!(
            list.check(&vec!["ab".into(), "cd".into(), "e".into()])
                .is_err()
        );
        assert!(list.check(&vec!["abc".into()]).is_err());
        assert!(MaxJsonBytes(10).check(&serde_json::json!({"a": 1})).is_ok());
        assert!(
            MaxJsonBytes(10)
                .check(&serde_json::json!({"a": "0123456789"}))
                .is_err()
        );
    }
}
