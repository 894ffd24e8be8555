# Tessera in a container: a multi-stage build (Rust on Debian 12, then Debian 12 slim with the
# binary only), run as a non-root user with its data in a volume. README, "Docker".
#
#   docker build -t tessera .
#   docker run -d --name tessera -p 8080:8080 -v tessera-data:/var/lib/tessera \
#     -e TESSERA_PUBLIC_URL=https://mfa.example.org tessera
#   docker exec -i tessera tessera user add alice@example.org --admin --password-stdin

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the build between image builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tessera \
    && install -m 0755 target/release/tessera /usr/local/bin/tessera

FROM debian:bookworm-slim
# ca-certificates: outgoing https (gateways, Web Push) checks certificates against the
# system's roots.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so a bind-mounted data folder can be given to it (chown 10001:10001).
RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid tessera --home-dir /var/lib/tessera \
        --no-create-home --shell /usr/sbin/nologin tessera \
    && install -d -m 0700 -o tessera -g tessera /var/lib/tessera
COPY --from=build /usr/local/bin/tessera /usr/bin/tessera

# The SQLite database and the master key: back the volume up (both), or give
# TESSERA_DATABASE_URL_FILE and TESSERA_MASTER_KEY_FILE for PostgreSQL and a key from a secret.
VOLUME /var/lib/tessera
WORKDIR /var/lib/tessera
ENV TESSERA_LISTEN=0.0.0.0:8080 \
    TESSERA_DATA_DIR=/var/lib/tessera
EXPOSE 8080
USER tessera:tessera

# No curl in the image: bash asks /healthz over its /dev/tcp, on port 8080, so keep
# TESSERA_LISTEN's port at 8080 (publish another one with docker run -p).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM (docker stop) drains requests in flight before the process exits.
ENTRYPOINT ["/usr/bin/tessera"]
CMD ["serve"]
