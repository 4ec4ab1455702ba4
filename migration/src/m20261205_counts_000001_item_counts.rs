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
//! SQLite counts with row-level triggers (cheap there). Updates and deletes are counted
//! by `BEFORE` triggers: a trigger sees the rows a multi-row statement changed before its
//! own, so "does another link of this item have this status" is answered row by row.
//! Inserts are counted by `AFTER INSERT` triggers, because the sync's upserts (`INSERT …
//! ON CONFLICT (id) DO UPDATE`) fire `BEFORE INSERT` for rows that turn out to be
//! updates; a new link counts its item under a status when no link of the item with that
//! status has a smaller id.
//!
//! PostgreSQL counts with statement-level `AFTER` triggers over transition tables (one
//! per event: `REFERENCING NEW TABLE` for inserts, `OLD TABLE` for deletes, both for
//! updates, which therefore cannot name columns), each writing one grouped insert per
//! statement: a row-level trigger per changed row made 52k link inserts take 3.4 times as
//! long. An upsert fires the insert trigger for the rows it inserted and the update
//! trigger for the rows it updated. For `s/…` a link trigger compares, per item and
//! status the statement touched, the links the item has now with the links it had before
//! (now minus the statement's net change), so an item with several links counts once.
//!
//! On both, an insert and an update of links of one item with one status in the same
//! statement would be miscounted; the code never writes links that way (one connection
//! per statement, one link per item and connection). On PostgreSQL a link trigger first
//! locks its items (`FOR NO KEY UPDATE`, in id order) and then counts in a new snapshot,
//! so two transactions changing links of one item, or a link and the item's deletion,
//! take turns instead of each counting from a stale view.
//!
//! SQLite (one writer) keeps one row per scope (upsert). PostgreSQL appends delta rows
//! instead: updating one shared row per scope would serialise, and deadlock,
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
    // PostgreSQL only (`IF EXISTS` on SQLite).
    "item_counts_items_unlink",
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

/// PostgreSQL: the body of a statement-level link trigger. `changes` selects the links the
/// statement added (`d = 1`) and removed (`d = -1`) as `(account_id, item_id,
/// connection_id, sync_status, d)`; an update is its old row removed and its new row added.
/// The items are locked first (in id order), so two transactions changing links of one
/// item, or a link and the item's deletion, take turns; the counts are then read afresh.
/// An item is under `s/{status}` when it has a link in that status: after the statement it
/// has `after` of them, before it `after - net`, and only a change of "has any" counts.
fn postgres_links_body(changes: &str) -> String {
    format!(
        "BEGIN
           PERFORM 1 FROM items WHERE id IN (SELECT item_id FROM ({changes}) ch)
             ORDER BY id FOR NO KEY UPDATE;
           WITH ch AS ({changes}),
           live AS (SELECT ch.* FROM ch JOIN items i ON i.id = ch.item_id
                    WHERE i.deleted_at IS NULL),
           pairs AS (SELECT account_id, item_id, sync_status, SUM(d) AS net FROM live
                     GROUP BY account_id, item_id, sync_status HAVING SUM(d) <> 0),
           had AS (SELECT p.account_id, p.sync_status, p.net, COUNT(l.id) AS after
                   FROM pairs p LEFT JOIN item_links l ON l.item_id = p.item_id
                     AND l.sync_status = p.sync_status
                   GROUP BY p.account_id, p.item_id, p.sync_status, p.net)
           INSERT INTO item_counts (account_id, scope, n)
           SELECT account_id, 'c/' || connection_id || '/' || sync_status, SUM(d) FROM live
             GROUP BY account_id, connection_id, sync_status HAVING SUM(d) <> 0
           UNION ALL
           SELECT account_id, 's/' || sync_status, SUM(d) FROM (
             SELECT account_id, sync_status,
               (CASE WHEN after > 0 THEN 1 ELSE 0 END)
               - (CASE WHEN after - net > 0 THEN 1 ELSE 0 END) AS d FROM had) t
             GROUP BY account_id, sync_status HAVING SUM(d) <> 0;
           RETURN NULL;
         END"
    )
}

fn postgres_statements() -> Vec<String> {
    let (old, new) = (item_scope("o"), item_scope("n"));
    let link = "account_id, item_id, connection_id, sync_status";
    // The links an update moved to another item, connection or status.
    let moved = "FROM old_rows o JOIN new_rows n ON n.id = o.id \
                 WHERE (o.item_id, o.connection_id, o.sync_status) \
                 <> (n.item_id, n.connection_id, n.sync_status)";
    let function = |name: &str, body: &str| {
        format!("CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$ {body} $fn$")
    };
    let trigger = |name: &str, event: &str, table: &str, referencing: &str| {
        format!(
            "CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} \
             FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    };
    vec![
        "CREATE TABLE item_counts (id bigserial PRIMARY KEY, account_id bigint NOT NULL, \
         scope varchar(80) NOT NULL, n bigint NOT NULL, \
         CONSTRAINT fk_item_counts_account_id FOREIGN KEY (account_id) REFERENCES accounts (id) \
         ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE)"
            .into(),
        "CREATE INDEX idx_item_counts_scope ON item_counts (account_id, scope, n)".into(),
        function(
            "item_counts_items_insert",
            &format!(
                "BEGIN
                   INSERT INTO item_counts (account_id, scope, n)
                     SELECT account_id, {new}, COUNT(*) FROM new_rows n GROUP BY 1, 2;
                   RETURN NULL;
                 END"
            ),
        ),
        // Rows whose scope is unchanged (a price update) drop out at the join; an item
        // deleted or restored moves its links in or out of the link scopes.
        function(
            "item_counts_items_update",
            &format!(
                "BEGIN
                   WITH ch AS (
                     SELECT n.account_id, n.id, {old} AS os, {new} AS ns,
                       CASE WHEN (o.deleted_at IS NULL) = (n.deleted_at IS NULL) THEN 0
                            WHEN n.deleted_at IS NULL THEN 1 ELSE -1 END AS flip
                     FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {old} <> {new}),
                   links AS (SELECT ch.account_id, ch.id, ch.flip, l.connection_id, l.sync_status
                             FROM ch JOIN item_links l ON l.item_id = ch.id WHERE ch.flip <> 0)
                   INSERT INTO item_counts (account_id, scope, n)
                   SELECT account_id, scope, SUM(d) FROM (
                     SELECT account_id, os AS scope, -1 AS d FROM ch
                     UNION ALL SELECT account_id, ns, 1 FROM ch
                     UNION ALL SELECT account_id, 'c/' || connection_id || '/' || sync_status,
                       flip FROM links
                     UNION ALL SELECT account_id, 's/' || sync_status, flip FROM (
                       SELECT DISTINCT account_id, id, sync_status, flip FROM links) s
                   ) t GROUP BY account_id, scope HAVING SUM(d) <> 0;
                   RETURN NULL;
                 END"
            ),
        ),
        function(
            "item_counts_items_delete",
            &format!(
                "BEGIN
                   INSERT INTO item_counts (account_id, scope, n)
                     SELECT account_id, {old}, -COUNT(*) FROM old_rows o GROUP BY 1, 2;
                   RETURN NULL;
                 END"
            ),
        ),
        // The links' foreign key cascade runs after the item is gone, when the link
        // trigger can no longer tell whether it was live: delete them first, while it
        // exists. No write path of the application hard-deletes items, so this per-row
        // trigger is off every sync and edit path.
        "CREATE FUNCTION item_counts_items_unlink() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN DELETE FROM item_links WHERE item_id = OLD.id; RETURN OLD; END $fn$"
            .into(),
        function(
            "item_counts_links_insert",
            &postgres_links_body(&format!("SELECT {link}, 1 AS d FROM new_rows")),
        ),
        function(
            "item_counts_links_update",
            &postgres_links_body(&format!(
                "SELECT o.account_id, o.item_id, o.connection_id, o.sync_status, -1 AS d \
                 {moved} UNION ALL \
                 SELECT n.account_id, n.item_id, n.connection_id, n.sync_status, 1 {moved}"
            )),
        ),
        function(
            "item_counts_links_delete",
            &postgres_links_body(&format!("SELECT {link}, -1 AS d FROM old_rows")),
        ),
        trigger(
            "item_counts_items_insert",
            "INSERT",
            "items",
            "REFERENCING NEW TABLE AS new_rows",
        ),
        trigger(
            "item_counts_items_update",
            "UPDATE",
            "items",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        trigger(
            "item_counts_items_delete",
            "DELETE",
            "items",
            "REFERENCING OLD TABLE AS old_rows",
        ),
        "CREATE TRIGGER item_counts_items_unlink BEFORE DELETE ON items \
         FOR EACH ROW EXECUTE FUNCTION item_counts_items_unlink()"
            .into(),
        trigger(
            "item_counts_links_insert",
            "INSERT",
            "item_links",
            "REFERENCING NEW TABLE AS new_rows",
        ),
        trigger(
            "item_counts_links_update",
            "UPDATE",
            "item_links",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        trigger(
            "item_counts_links_delete",
            "DELETE",
            "item_links",
            "REFERENCING OLD TABLE AS old_rows",
        ),
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
            // On PostgreSQL each trigger runs the function of its name.
            if postgres {
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {t}()"))
                    .await?;
            }
        }
        db.execute_unprepared("DROP TABLE IF EXISTS item_counts")
            .await?;
        Ok(())
    }
}
