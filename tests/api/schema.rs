/// `schema.graphql` is what `pricebook-sync export-schema` prints; regenerate it with
/// `cargo run -- export-schema --output schema.graphql` when this fails.
#[test]
fn schema_file_matches_the_code() {
    let current = pricebook_sync::graphql::sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == current,
        "schema.graphql is out of date: run `cargo run -- export-schema --output schema.graphql`"
    );
}

/// Every type, field, argument, input field and enum value of the public schema says what
/// it is for: that text is what GraphiQL, codegen and Retool show to the people using it.
#[tokio::test]
async fn every_type_field_and_argument_is_described() {
    let schema = pricebook_sync::graphql::build_schema(None);
    let query = r#"{ __schema { types {
        name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description }
    } } }"#;
    let response = schema.execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let described = |v: &serde_json::Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") {
            continue;
        }
        if !described(t) {
            missing.push(format!("type {name}"));
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            let field = f["name"].as_str().unwrap();
            if !described(f) {
                missing.push(format!("{name}.{field}"));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!("{name}.{field}({})", a["name"].as_str().unwrap()));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if !described(f) {
                missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if !described(v) {
                missing.push(format!("{name}.{}", v["name"].as_str().unwrap()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} schema elements without a description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
