//! The database goes away and comes back while the server runs: readiness and requests
//! fail fast with the reason, and everything works again without a restart. PostgreSQL
//! only (a SQLite file cannot go down), reached through a TCP proxy the test stops.

use crate::helpers::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP forwarder to the database that can refuse connections (listener closed, open
/// connections cut) and accept them again on the same port.
struct Proxy {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target,
            tasks: Default::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Refuses new connections and cuts the open ones.
    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn resume(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

#[tokio::test]
async fn database_outage_fails_fast_and_recovers_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database_url(dir.path()).await else {
        skip(
            "outage::database_outage_fails_fast_and_recovers_without_restart",
            "needs PostgreSQL (set TEST_DATABASE_URL)",
            "PRICEBOOK_REQUIRE_PG",
        );
        return;
    };
    // postgres://user@host:port/db → the proxy in place of host:port.
    let (scheme_user, rest) = url.split_once('@').expect("URL with user@host");
    let (host_port, db) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host_port.to_owned()).await;
    let proxied = format!("{scheme_user}@127.0.0.1:{}/{db}", proxy.port);
    let app = TestApp::spawn_with(|s| s.database_url = Some(proxied)).await;
    let token = app.admin_token().await;
    let query = json!({ "query": "{ items(first: 1) { totalCount } }" });
    let items = || {
        app.client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&query)
            .send()
    };
    assert_eq!(items().await.unwrap().status(), 200);
    let readyz = || async {
        app.client
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .unwrap()
    };

    proxy.stop();
    let started = Instant::now();
    let r = readyz().await;
    let took = started.elapsed();
    assert_eq!(r.status(), 503);
    assert!(took < Duration::from_secs(1), "/readyz took {took:?}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["reason"]
            .as_str()
            .unwrap()
            .starts_with("database unavailable"),
        "{body}"
    );

    let started = Instant::now();
    let r = items().await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(took < Duration::from_secs(6), "a request took {took:?}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("database unavailable"),
        "{body}"
    );

    proxy.resume().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if readyz().await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again after 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = items().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["items"]["totalCount"], 0, "{body}");
}
