# syntax=docker/dockerfile:1
# pricebook-sync: build with the Rust toolchain, run on a minimal non-root image.
#   docker build -t pricebook-sync .
#   docker run -p 8080:8080 -v pricebook-data:/data pricebook-sync
# The image serves on 0.0.0.0:8080 with its data (SQLite database, generated keys) in the
# /data volume; set DATABASE_URL for PostgreSQL. See README "Deploying".

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit); the binary is copied out.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin pricebook-sync \
    && install -D -m 0755 target/release/pricebook-sync /out/pricebook-sync \
    && mkdir -p /out/data

# glibc, libgcc and CA certificates, no shell, uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/pricebook-sync /usr/local/bin/pricebook-sync
COPY --from=build --chown=65532:65532 /out/data /data
ENV PRICEBOOK_BIND=0.0.0.0:8080 \
    PRICEBOOK_DATA_DIR=/data \
    RUST_LOG=info
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/pricebook-sync", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pricebook-sync"]
CMD ["serve"]
