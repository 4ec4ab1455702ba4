//! Maintained counts for `items { totalCount }`: `item_counts (account_id, scope, n)`, kept
//! by triggers on `items` and `item_links`, so every write path (sync pages, CSV imports,
//! conflict resolutions, local edits, deletes and restores, link changes, whatever comes
//! next) keeps them exact in its own transaction without knowing about them.
//!
//! Scopes (what `n` counts):
//! - `i/{kind}/{active 0|1}/{deleted 0|1}`: items;
//! - `c/{connection_id}/{sync_status}`: live items linked to that connection in that status
//!   (one link per item and connection, so links and items count alike);
//! - `s/{sync_status}`: live items with at least one link in that status.
//!
//! Updates and deletes are counted by row-level `BEFORE` triggers: a trigger sees the rows
//! a multi-row statement changed before its own, so "does another link of this item have
//! this status" is answered row by row. Inserts are counted by `AFTER INSERT` triggers,
//! because the sync's upserts (`INSERT … ON CONFLICT (id) DO UPDATE`) fire `BEFORE INSERT`
//! for rows that turn out to be updates; a new link counts its item under a status when
//! no link of the item with that status has a smaller id, which holds whether the other
//! rows of a multi-row insert are visible yet (SQLite) or all at once (PostgreSQL). An
//! insert and an update of links of one item with one status in the same statement
//! would be miscounted; the code never writes links that way (one connection per
//! statement, one link per item and connection). On PostgreSQL a link trigger first locks its item
//! row (`FOR NO KEY UPDATE`), so two transactions changing links of one item, or a link
//! and the item's deletion, take turns instead of each counting from a stale view.
//!
//! SQLite (one writer) keeps one row per scope (upsert). PostgreSQL appends a delta row
//! per change instead: updating one shared row per scope would serialise, and deadlock,
//! concurrent writers of one account; the store sums the deltas and folds them back into
//! one row per scope when they pile up (`store::item_counts`).
//!
//! Existing rows are counted once here. Items are never moved between accounts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The `i/…` scope of an items row (`r` is `NEW` or `OLD`).
fn item_scope(r: &str) -> String {
    format!(
        "('i/' || {r}.kind || '/' || (CASE WHEN {r}.active THEN '1' ELSE '0' END) || '/' \
         || (CASE WHEN {r}.deleted_at IS NULL THEN '0' ELSE '1' END))"
    )
}

/// Every scope counted from the rows as they are: the migration's backfill, and
/// `store::item_counts::rebuild` after a copy.
pub const BACKFILL: &str = "INSERT INTO item_counts (account_id, scope, n) \
     SELECT account_id, scope, COUNT(*) FROM ( \
       SELECT account_id, 'i/' || kind || '/' || (CASE WHEN active THEN '1' ELSE '0' END) || '/' \
         || (CASE WHEN deleted_at IS NULL THEN '0' ELSE '1' END) AS scope FROM items \
     ) t GROUP BY account_id, scope \
     UNION ALL \
     SELECT l.account_id, 'c/' || l.connection_id || '/' || l.sync_status, COUNT(*) \
       FROM item_links l JOIN items i ON i.id = l.item_id WHERE i.deleted_at IS NULL \
       GROUP BY l.account_id, l.connection_id, l.sync_status \
     UNION ALL \
     SELECT l.account_id, 's/' || l.sync_status, COUNT(DISTINCT l.item_id) \
       FROM item_links l JOIN items i ON i.id = l.item_id WHERE i.deleted_at IS NULL \
       GROUP BY l.account_id, l.sync_status";

const TRIGGERS: &[&str] = &[
    "item_counts_items_insert",
    "item_counts_items_update",
    "item_counts_items_delete",
    "item_counts_links_insert",
    "item_counts_links_update",
    "item_counts_links_delete",
];

/// SQLite: add `delta` to `scope` for `account` when `cond` holds (upsert, one row per scope).
fn sqlite_add(account: &str, scope: &str, delta: &str, cond: &str) -> String {
    format!(
        "INSERT INTO item_counts (account_id, scope, n) SELECT {account}, {scope}, {delta} \
         WHERE {cond} ON CONFLICT (account_id, scope) DO UPDATE SET n = n + excluded.n;"
    )
}

fn sqlite_link_remove() -> String {
    let live = "EXISTS (SELECT 1 FROM items WHERE id = OLD.item_id AND deleted_at IS NULL)";
    let last = "NOT EXISTS (SELECT 1 FROM item_links o WHERE o.item_id = OLD.item_id \
                AND o.sync_status = OLD.sync_status AND o.id <> OLD.id)";
    sqlite_add(
        "OLD.account_id",
        "'c/' || OLD.connection_id || '/' || OLD.sync_status",
        "-1",
        live,
    ) + &sqlite_add(
        "OLD.account_id",
        "'s/' || OLD.sync_status",
        "-1",
        &format!("{live} AND {last}"),
    )
}

/// `others`: which other links of the item with the new status mean it is counted already.
fn sqlite_link_add(others: &str) -> String {
    let live = "EXISTS (SELECT 1 FROM items WHERE id = NEW.item_id AND deleted_at IS NULL)";
    let first = format!(
        "NOT EXISTS (SELECT 1 FROM item_links o WHERE o.item_id = NEW.item_id \
         AND o.sync_status = NEW.sync_status AND {others})"
    );
    sqlite_add(
        "NEW.account_id",
        "'c/' || NEW.connection_id || '/' || NEW.sync_status",
        "1",
        live,
    ) + &sqlite_add(
        "NEW.account_id",
        "'s/' || NEW.sync_status",
        "1",
        &format!("{live} AND {first}"),
    )
}

fn sqlite_statements() -> Vec<String> {
    let (old, new) = (item_scope("OLD"), item_scope("NEW"));
    let flip = "CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END";
    let flipped = "(OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)";
    vec![
        "CREATE TABLE item_counts (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
         account_id integer NOT NULL, scope varchar(80) NOT NULL, n bigint NOT NULL, \
         FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE \
         DEFERRABLE INITIALLY IMMEDIATE)"
            .into(),
        "CREATE UNIQUE INDEX idx_item_counts_scope ON item_counts (account_id, scope)".into(),
        format!(
            "CREATE TRIGGER item_counts_items_insert AFTER INSERT ON items BEGIN {} END",
            sqlite_add("NEW.account_id", &new, "1", "true")
        ),
        format!(
            "CREATE TRIGGER item_counts_items_update BEFORE UPDATE OF kind, active, deleted_at \
             ON items WHEN {old} <> {new} BEGIN {}{} \
             INSERT INTO item_counts (account_id, scope, n) \
               SELECT NEW.account_id, 'c/' || l.connection_id || '/' || l.sync_status, {flip} \
               FROM item_links l WHERE l.item_id = NEW.id AND {flipped} \
               ON CONFLICT (account_id, scope) DO UPDATE SET n = n + excluded.n; \
             INSERT INTO item_counts (account_id, scope, n) \
               SELECT DISTINCT NEW.account_id, 's/' || l.sync_status, {flip} \
               FROM item_links l WHERE l.item_id = NEW.id AND {flipped} \
               ON CONFLICT (account_id, scope) DO UPDATE SET n = n + excluded.n; END",
            sqlite_add("OLD.account_id", &old, "-1", "true"),
            sqlite_add("NEW.account_id", &new, "1", "true"),
        ),
        // The item's links go first, while it still exists, so their own triggers count
        // them out (a cascade would run after the item is gone).
        format!(
            "CREATE TRIGGER item_counts_items_delete BEFORE DELETE ON items BEGIN \
             DELETE FROM item_links WHERE item_id = OLD.id; {} END",
            sqlite_add("OLD.account_id", &old, "-1", "true")
        ),
        format!(
            "CREATE TRIGGER item_counts_links_insert AFTER INSERT ON item_links BEGIN {} END",
            sqlite_link_add("o.id < NEW.id")
        ),
        format!(
            "CREATE TRIGGER item_counts_links_update BEFORE UPDATE OF item_id, connection_id, \
             sync_status ON item_links WHEN OLD.item_id <> NEW.item_id \
             OR OLD.connection_id <> NEW.connection_id OR OLD.sync_status <> NEW.sync_status \
             BEGIN {}{} END",
            sqlite_link_remove(),
            sqlite_link_add("o.id <> OLD.id")
        ),
        format!(
            "CREATE TRIGGER item_counts_links_delete BEFORE DELETE ON item_links BEGIN {} END",
            sqlite_link_remove()
        ),
    ]
}

fn postgres_statements() -> Vec<String> {
    let (old, new) = (item_scope("OLD"), item_scope("NEW"));
    let add = |account: &str, scope: &str, delta: &str| {
        format!(
            "INSERT INTO item_counts (account_id, scope, n) VALUES ({account}, {scope}, {delta});"
        )
    };
    vec![
        "CREATE TABLE item_counts (id bigserial PRIMARY KEY, account_id bigint NOT NULL, \
         scope varchar(80) NOT NULL, n bigint NOT NULL, \
         CONSTRAINT fk_item_counts_account_id FOREIGN KEY (account_id) REFERENCES accounts (id) \
         ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE)"
            .into(),
        "CREATE INDEX idx_item_counts_scope ON item_counts (account_id, scope, n)".into(),
        format!(
            "CREATE FUNCTION item_counts_items() RETURNS trigger LANGUAGE plpgsql AS $fn$
             DECLARE d bigint;
             BEGIN
               IF TG_OP = 'INSERT' THEN
                 {ins}
                 RETURN NEW;
               ELSIF TG_OP = 'DELETE' THEN
                 -- The links go first, while the item exists, so their triggers count them out.
                 DELETE FROM item_links WHERE item_id = OLD.id;
                 {del}
                 RETURN OLD;
               END IF;
               IF {old} <> {new} THEN
                 {del}
                 {ins}
               END IF;
               IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
                 d := CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END;
                 INSERT INTO item_counts (account_id, scope, n)
                   SELECT NEW.account_id, 'c/' || l.connection_id || '/' || l.sync_status, d
                   FROM item_links l WHERE l.item_id = NEW.id;
                 INSERT INTO item_counts (account_id, scope, n)
                   SELECT DISTINCT NEW.account_id, 's/' || l.sync_status, d
                   FROM item_links l WHERE l.item_id = NEW.id;
               END IF;
               RETURN NEW;
             END $fn$",
            ins = add("NEW.account_id", &new, "1"),
            del = add("OLD.account_id", &old, "-1"),
        ),
        format!(
            "CREATE FUNCTION item_counts_links() RETURNS trigger LANGUAGE plpgsql AS $fn$
             DECLARE live boolean;
             BEGIN
               IF TG_OP = 'UPDATE' AND OLD.item_id = NEW.item_id
                  AND OLD.connection_id = NEW.connection_id
                  AND OLD.sync_status = NEW.sync_status THEN
                 RETURN NEW;
               END IF;
               IF TG_OP <> 'INSERT' THEN
                 SELECT deleted_at IS NULL INTO live FROM items WHERE id = OLD.item_id
                   FOR NO KEY UPDATE;
                 IF live THEN
                   {c_old}
                   IF NOT EXISTS (SELECT 1 FROM item_links o WHERE o.item_id = OLD.item_id
                                  AND o.sync_status = OLD.sync_status AND o.id <> OLD.id) THEN
                     {s_old}
                   END IF;
                 END IF;
                 IF TG_OP = 'DELETE' THEN
                   RETURN OLD;
                 END IF;
               END IF;
               SELECT deleted_at IS NULL INTO live FROM items WHERE id = NEW.item_id
                 FOR NO KEY UPDATE;
               IF live THEN
                 {c_new}
                 IF NOT EXISTS (SELECT 1 FROM item_links o WHERE o.item_id = NEW.item_id
                                AND o.sync_status = NEW.sync_status
                                AND CASE WHEN TG_OP = 'INSERT' THEN o.id < NEW.id
                                         ELSE o.id <> OLD.id END) THEN
                   {s_new}
                 END IF;
               END IF;
               RETURN NEW;
             END $fn$",
            c_old = add(
                "OLD.account_id",
                "'c/' || OLD.connection_id || '/' || OLD.sync_status",
                "-1"
            ),
            s_old = add("OLD.account_id", "'s/' || OLD.sync_status", "-1"),
            c_new = add(
                "NEW.account_id",
                "'c/' || NEW.connection_id || '/' || NEW.sync_status",
                "1"
            ),
            s_new = add("NEW.account_id", "'s/' || NEW.sync_status", "1"),
        ),
        "CREATE TRIGGER item_counts_items_insert AFTER INSERT ON items \
         FOR EACH ROW EXECUTE FUNCTION item_counts_items()"
            .into(),
        "CREATE TRIGGER item_counts_items_update BEFORE UPDATE OF kind, active, deleted_at \
         ON items FOR EACH ROW EXECUTE FUNCTION item_counts_items()"
            .into(),
        "CREATE TRIGGER item_counts_items_delete BEFORE DELETE ON items \
         FOR EACH ROW EXECUTE FUNCTION item_counts_items()"
            .into(),
        "CREATE TRIGGER item_counts_links_insert AFTER INSERT ON item_links \
         FOR EACH ROW EXECUTE FUNCTION item_counts_links()"
            .into(),
        "CREATE TRIGGER item_counts_links_update BEFORE UPDATE OF item_id, connection_id, \
         sync_status ON item_links FOR EACH ROW EXECUTE FUNCTION item_counts_links()"
            .into(),
        "CREATE TRIGGER item_counts_links_delete BEFORE DELETE ON item_links \
         FOR EACH ROW EXECUTE FUNCTION item_counts_links()"
            .into(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match db.get_database_backend() {
            DatabaseBackend::Postgres => postgres_statements(),
            _ => sqlite_statements(),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        db.execute_unprepared(BACKFILL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        for t in TRIGGERS {
            let table = if t.contains("links") {
                "item_links"
            } else {
                "items"
            };
            let on = if postgres {
                format!(" ON {table}")
            } else {
                String::new()
            };
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}{on}"))
                .await?;
        }
        if postgres {
            db.execute_unprepared(
                "DROP FUNCTION IF EXISTS item_counts_items(); \
                 DROP FUNCTION IF EXISTS item_counts_links()",
            )
            .await?;
        }
        db.execute_unprepared("DROP TABLE IF EXISTS item_counts")
            .await?;
        Ok(())
    }
}
