use crate::helpers::*;
use entity::enums::Role;
use serde_json::json;

/// Account B can neither read nor change anything of account A, through any entry point.
#[tokio::test]
async fn accounts_are_isolated() {
    let app = TestApp::spawn().await;
    let a = app.admin_token().await;
    let account_a = app.account_id_of(&a).await;
    let item_ids = seed_items(&app, account_a, 5).await;
    let conn = app
        .gql_ok(&a, r#"mutation{ createConnection(input:{ name:"a-conn", provider: SERVICETITAN, config:{sandbox:true} }) { id } }"#, json!({}))
        .await;
    let conn_id = conn["createConnection"]["id"].as_str().unwrap().to_owned();
    app.gql_ok(
        &a,
        "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"A edit\" }) { id } }",
        json!({ "id": item_ids[0].to_string() }),
    )
    .await;

    let b = app
        .user_token("tenant-b", "admin@b.test", Role::Admin)
        .await;
    let item = item_ids[0].to_string();

    // Reads.
    let lists = app.gql_ok(&b, "{ items { totalCount edges { node { id } } } connections { totalCount } auditLog { totalCount edges { node { action actor } } } vendorPrices { totalCount } categories { totalCount } }", json!({})).await;
    assert_eq!(lists["items"]["totalCount"], 0);
    assert_eq!(lists["connections"]["totalCount"], 0);
    assert_eq!(lists["vendorPrices"]["totalCount"], 0);
    for entry in lists["auditLog"]["edges"].as_array().unwrap() {
        assert_eq!(
            entry["node"]["actor"], "admin@b.test",
            "B sees only its own audit entries"
        );
    }
    assert_eq!(
        error_code(
            &app.gql(
                Some(&b),
                "query($id:ID!){ item(id:$id) { id } }",
                json!({ "id": item })
            )
            .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        error_code(
            &app.gql(
                Some(&b),
                "query($id:ID!){ connection(id:$id) { id } }",
                json!({ "id": conn_id })
            )
            .await
        ),
        "NOT_FOUND"
    );
    let by_conn = app
        .gql_ok(
            &b,
            "query($c:ID!){ items(connectionId:$c) { totalCount } }",
            json!({ "c": conn_id }),
        )
        .await;
    assert_eq!(by_conn["items"]["totalCount"], 0);

    // Writes.
    let r = app
        .gql(
            Some(&b),
            "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"stolen\" }) { id } }",
            json!({ "id": item }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
    let r = app
        .gql(
            Some(&b),
            "mutation($id:ID!){ updateConnection(id:$id, input:{ name: \"stolen\" }) { id } }",
            json!({ "id": conn_id }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
    let r = app
        .gql(
            Some(&b),
            "mutation($id:ID!){ deleteConnection(id:$id) }",
            json!({ "id": conn_id }),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");

    // A's data is untouched.
    let after = app
        .gql_ok(
            &a,
            "query($id:ID!,$c:ID!){ item(id:$id) { name } connection(id:$c) { name } }",
            json!({ "id": item, "c": conn_id }),
        )
        .await;
    assert_eq!(after["item"]["name"], "A edit");
    assert_eq!(after["connection"]["name"], "a-conn");
}

#[tokio::test]
async fn secrets_are_never_returned_and_encrypted_at_rest() {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let a = app.admin_token().await;
    let created = app
        .gql_ok(
            &a,
            r#"mutation{ createConnection(input:{ name:"st", provider: SERVICETITAN, config:{ tenant: 42 }, secrets:{ clientId:"cid", clientSecret:"very-secret-value", appKey:"ak" } }) { id config hasSecrets } }"#,
            json!({}),
        )
        .await;
    assert_eq!(created["createConnection"]["hasSecrets"], true);
    let text = created.to_string();
    assert!(!text.contains("very-secret-value"));
    let rows = entity::connection_token::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].ciphertext.contains("very-secret-value"));
    let audit = app
        .gql_ok(&a, "{ auditLog { edges { node { details } } } }", json!({}))
        .await;
    assert!(!audit.to_string().contains("very-secret-value"));

    // Missing required secrets for a real provider is a clean input error.
    let r = app.gql(Some(&a), r#"mutation{ createConnection(input:{ name:"st2", provider: SERVICETITAN, config:{ tenant: 42 }, secrets:{ clientId:"x" } }) { id } }"#, json!({})).await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("clientSecret")
    );
    // Duplicate names too.
    let r = app.gql(Some(&a), r#"mutation{ createConnection(input:{ name:"st", provider: JOBBER, config:{ sandbox: true } }) { id } }"#, json!({})).await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
}
