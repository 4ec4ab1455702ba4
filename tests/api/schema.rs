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
