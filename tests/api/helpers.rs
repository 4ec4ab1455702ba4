use entity::enums::Role;
use pricebook_sync::app::Application;
use pricebook_sync::config::Settings;
use pricebook_sync::state::AppState;
use pricebook_sync::store;
use serde_json::{Value, json};
use std::sync::Once;

pub const ADMIN_EMAIL: &str = "admin@a.test";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A fresh PostgreSQL database per test when TEST_DATABASE_URL is set; fails instead of
/// skipping when PRICEBOOK_REQUIRE_PG=1 and it is not.
pub async fn database_url(dir: &std::path::Path) -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sea_orm::ConnectionTrait;
            let name = format!("pbtest_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let (prefix, _) = base
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL ends with /dbname");
            Some(format!("{prefix}/{name}"))
        }
        _ => {
            if std::env::var("PRICEBOOK_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("PRICEBOOK_REQUIRE_PG=1 but TEST_DATABASE_URL is not set");
            }
            let _ = dir;
            None
        }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Like `spawn`, with settings changed first (e.g. CORS origins, a database URL).
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::for_dir(dir.path());
        settings.database_url = database_url(dir.path()).await;
        settings.admin_email = Some(ADMIN_EMAIL.into());
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        // Schedules are on after a first full sync: a test crossing a quarter hour must not
        // get a scheduled run it did not ask for. Schedule tests call `scheduler_tick`.
        settings.scheduler = false;
        // Tests fire bursts of concurrent requests on a busy debug build: admission control
        // queues them instead of answering 503 after 200 ms. The admission tests
        // (`isolation`) set their own limits.
        settings.graphql_queue_timeout_ms = 30_000;
        configure(&mut settings);
        let app = Application::build(settings).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            state,
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.address.replacen("http", "ws", 1))
    }

    /// POSTs a GraphQL request; returns the JSON body (data and/or errors).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    /// Like `gql` but panics on errors and returns `data`.
    pub async fn gql_ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(None, "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token user { id email role } } }", json!({ "e": email, "p": password }))
            .await
    }

    pub async fn admin_token(&self) -> String {
        token_of(&self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await)
    }

    /// Creates a user (in a named account, created when new) and signs in.
    pub async fn user_token(&self, account: &str, email: &str, role: Role) -> String {
        let acct = store::accounts::find_or_create(&self.state.db, account)
            .await
            .expect("account");
        let hash = pricebook_sync::auth::password::hash("user-password-1".into())
            .await
            .expect("hash");
        store::users::create(&self.state.db, acct.id, email, hash, role)
            .await
            .expect("user");
        token_of(&self.login(email, "user-password-1").await)
    }

    pub async fn account_id_of(&self, token: &str) -> i64 {
        self.state
            .jwt
            .verify(token)
            .expect("valid token")
            .account_id
    }
}

pub fn token_of(login: &Value) -> String {
    login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {login}"))
        .to_owned()
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}

/// A local item row (no link), as a sync or an import would insert it.
pub fn item_row(
    account_id: i64,
    kind: entity::enums::ItemKind,
    code: String,
    name: String,
    cost: Option<entity::Money>,
    price: Option<entity::Money>,
    active: bool,
) -> entity::item::ActiveModel {
    use sea_orm::Set;
    let now = chrono::Utc::now();
    entity::item::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        code: Set(code),
        name: Set(name),
        description: Set(None),
        cost: Set(cost),
        price: Set(price),
        member_price: Set(None),
        add_on_price: Set(None),
        active: Set(active),
        category_id: Set(None),
        weight_kg: Set(None),
        length_cm: Set(None),
        width_cm: Set(None),
        height_cm: Set(None),
        quantity: Set(None),
        attributes: Set(json!({})),
        local_modified_at: Set(None),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Inserts `n` items (codes ITEM-0000…) directly, as a sync would.
pub async fn seed_items(app: &TestApp, account_id: i64, n: usize) -> Vec<i64> {
    use entity::{Money, enums::ItemKind, item};
    use sea_orm::EntityTrait;
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let rows = chunk.iter().map(|i| {
            item_row(
                account_id,
                if i % 3 == 0 {
                    ItemKind::Service
                } else {
                    ItemKind::Material
                },
                format!("ITEM-{i:04}"),
                format!("Item {}", (n - i) % 97),
                Some(Money::from(rust_decimal::Decimal::new(*i as i64 * 125, 2))),
                Some(Money::from(rust_decimal::Decimal::new(*i as i64 * 250, 2))),
                i % 10 != 0,
            )
        });
        item::Entity::insert_many(rows)
            .exec(&app.state.db)
            .await
            .expect("seed items");
    }
    let all = store::items::list(
        &app.state.db,
        account_id,
        &Default::default(),
        Default::default(),
        false,
        &store::page::PageArgs {
            first: Some(500),
            ..Default::default()
        },
    )
    .await
    .expect("list");
    ids.extend(all.rows.iter().map(|(_, m)| m.id));
    ids
}

impl TestApp {
    pub fn emulator(&self) -> &pricebook_sync::sandbox::servicetitan::Emulator {
        &self
            .state
            .sandboxes
            .as_ref()
            .expect("sandbox mounted in tests")
            .servicetitan
    }

    /// Creates a ServiceTitan sandbox connection through GraphQL; returns its id. Push on
    /// save is off: tests using this helper drive their runs themselves (`run_sync`), and
    /// a background push run would race them. `push_on_save.rs` tests the default.
    pub async fn sandbox_connection(&self, token: &str, name: &str, extra_config: Value) -> i64 {
        let mut config = json!({ "sandbox": true, "maxRetries": 3 });
        if let (Some(c), Some(extra)) = (config.as_object_mut(), extra_config.as_object()) {
            c.extend(extra.clone());
        }
        let d = self
            .gql_ok(token, "mutation($n:String!,$c:JSON!){ createConnection(input:{ name:$n, provider: SERVICETITAN, config:$c, startSync: false, pushOnSave: false }) { id } }", json!({ "n": name, "c": config }))
            .await;
        d["createConnection"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Turns push on save on or off for a connection (`updateConnection`). Tests about
    /// something else that edit items and then sync themselves turn it off, so no run
    /// queued by an edit competes with theirs.
    pub async fn set_push_on_save(&self, token: &str, connection_id: i64, on: bool) {
        let d = self
            .gql_ok(token, "mutation($c:ID!,$p:Boolean!){ updateConnection(id:$c, input:{ pushOnSave: $p }) { pushOnSave } }", json!({ "c": connection_id.to_string(), "p": on }))
            .await;
        assert_eq!(d["updateConnection"]["pushOnSave"], on);
    }

    /// Runs one sync to the end in the foreground (the engine, over real HTTP to the emulator).
    pub async fn run_sync(
        &self,
        connection_id: i64,
        mode: entity::enums::RunMode,
        params: Value,
        dry_run: bool,
    ) -> entity::sync_run::Model {
        let conn = store::connections::get_unscoped(&self.state.db, connection_id)
            .await
            .expect("connection");
        let run = store::runs::create(
            &self.state.db,
            store::runs::NewRun {
                account_id: conn.account_id,
                connection_id,
                mode,
                trigger: entity::enums::RunTrigger::Cli,
                dry_run,
                params,
                requested_by: None,
                status: entity::enums::RunStatus::Running,
            },
        )
        .await
        .expect("run row");
        let reporter = pricebook_sync::sync::progress::LastState::default();
        let cancel = tokio_util::sync::CancellationToken::new();
        pricebook_sync::sync::runner::execute(
            &self.state.db,
            &self.state.registry,
            &run,
            &reporter,
            &cancel,
        )
        .await
        .expect("run recorded")
    }

    pub async fn item_by_code(&self, account_id: i64, code: &str) -> entity::item::Model {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::item::Entity::find()
            .filter(entity::item::Column::AccountId.eq(account_id))
            .filter(entity::item::Column::Code.eq(code))
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("item {code} not found"))
    }
}

/// A graphql-transport-ws client subscribed to one operation.
pub struct Subscription {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl TestApp {
    pub async fn subscribe(&self, token: &str, query: &str, variables: Value) -> Subscription {
        Subscription::connect(&self.ws_url(), token, query, variables).await
    }
}

impl Subscription {
    pub async fn connect(url: &str, token: &str, query: &str, variables: Value) -> Subscription {
        use futures::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        ws.send(Message::text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string())).await.unwrap();
        let ack = ws.next().await.unwrap().unwrap();
        assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
        ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }).to_string())).await.unwrap();
        Subscription { ws }
    }
}

impl Subscription {
    /// The next message (`next`, `error` or `complete`), or None on timeout.
    pub async fn next(&mut self, timeout: std::time::Duration) -> Option<Value> {
        use futures::StreamExt;
        loop {
            let msg = tokio::time::timeout(timeout, self.ws.next())
                .await
                .ok()??
                .ok()?;
            if let Ok(text) = msg.to_text() {
                let v: Value = serde_json::from_str(text).ok()?;
                if v["type"] == "ping" {
                    continue;
                }
                return Some(v);
            }
        }
    }
}

impl Subscription {
    /// Whether the operation ends with an error of this code within a few messages (ones
    /// already in flight may come first).
    pub async fn ends_with_error(&mut self, code: &str) -> bool {
        for _ in 0..3 {
            let Some(msg) = self.next(std::time::Duration::from_secs(5)).await else {
                return false;
            };
            if msg["payload"]["errors"][0]["extensions"]["code"] == code {
                return true;
            }
        }
        false
    }
}

impl TestApp {
    /// Polls a run until it ends.
    pub async fn wait_for_run(&self, token: &str, run_id: &str) -> Value {
        for _ in 0..600 {
            let d = self.gql_ok(token, "query($id:ID!){ syncRun(id:$id) { id status progress stage error errorCode attempts trigger counters { fetched created updated deleted pushed conflicts skipped errors } } }", json!({ "id": run_id })).await;
            let status = d["syncRun"]["status"].as_str().unwrap().to_owned();
            if status != "QUEUED" && status != "RUNNING" {
                return d["syncRun"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("run {run_id} did not finish");
    }

    pub async fn start_sync(&self, token: &str, connection_id: i64, mode: &str) -> Value {
        let d = self
            .gql_ok(token, "mutation($c:ID!,$m:SyncMode!){ startSync(connectionId:$c, mode:$m) { alreadyRunning run { id status progress } } }", json!({ "c": connection_id.to_string(), "m": mode }))
            .await;
        d["startSync"].clone()
    }
}

pub async fn stored_secrets(app: &TestApp, connection_id: i64) -> Value {
    pricebook_sync::store::connections::read_secrets(
        &app.state.db,
        &app.state.secrets,
        connection_id,
    )
    .await
    .unwrap()
    .unwrap()
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn runs_of(app: &TestApp, token: &str, connection_id: i64) -> Vec<Value> {
    let d = app
        .gql_ok(
            token,
            "query($c:ID!){ syncRuns(connectionId:$c) { edges { node { id status trigger } } } }",
            json!({ "c": connection_id.to_string() }),
        )
        .await;
    d["syncRuns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Marks a test as skipped because something it needs is missing: prints a line that the
/// test harness does not capture (so a default run shows it), counts it for the summary
/// printed when the test binary exits, and fails instead when `require_var` is set.
pub fn skip(test: &str, reason: &str, require_var: &str) {
    use std::io::Write;
    use std::sync::Mutex;
    static SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    extern "C" fn summary() {
        let skipped = SKIPPED.lock().map(|s| s.clone()).unwrap_or_default();
        if !skipped.is_empty() {
            let _ = writeln!(
                std::io::stderr(),
                "\n{} test(s) SKIPPED, their area went untested: {}",
                skipped.len(),
                skipped.join(", ")
            );
        }
    }
    if std::env::var(require_var).is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("{require_var} is set but {test} cannot run: {reason}");
    }
    let mut list = SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if list.is_empty() {
        // SAFETY: registers a plain `extern "C"` function once; it only reads a static.
        unsafe { libc::atexit(summary) };
    }
    list.push(test.to_owned());
    // Straight to the file descriptor: `eprintln!` output of a passing test is captured.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {reason} (set {require_var}=1 to fail instead)"
    );
}

impl TestApp {
    /// `uploadCsv` as a GraphQL multipart request (the file as `prices.csv`): any of its
    /// arguments in `vars` (target defaults to ITEM_COSTS), `selection` of the result.
    pub async fn upload_csv(
        &self,
        token: &str,
        file: Vec<u8>,
        selection: &str,
        vars: Value,
    ) -> Value {
        let query = format!(
            "mutation($file: Upload!, $target: CsvTarget!, $connectionId: ID, $mapping: JSON, $dryRun: Boolean!, $decimalSeparator: DecimalSeparator) {{ uploadCsv(file: $file, target: $target, connectionId: $connectionId, mapping: $mapping, dryRun: $dryRun, decimalSeparator: $decimalSeparator) {{ {selection} }} }}"
        );
        let mut variables = json!({ "file": null, "target": "ITEM_COSTS", "dryRun": false });
        for (k, v) in vars.as_object().cloned().unwrap_or_default() {
            variables[k] = v;
        }
        let form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({ "query": query, "variables": variables }).to_string(),
            )
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(file)
                    .file_name("prices.csv")
                    .mime_str("text/csv")
                    .unwrap(),
            );
        self.client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            // Multipart is a "simple" content type: CSRF prevention asks for this header.
            .header("x-pricebook-csrf", "1")
            .multipart(form)
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("json body")
    }
}
