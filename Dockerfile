# Understudy in a container: the `understudy` binary (its bundled cassettes and
# audio are compiled into it) on a small Debian runtime, as a non-root user.
#
#   docker build -t understudy .
#   docker run --rm -p 8765:8765 understudy                       # serve --host 0.0.0.0
#   docker run --rm understudy conform                             # the bundled suite
#
# Two stages: the builder compiles a release build with the locked
# dependencies; the runtime keeps only the binary, CA roots (for `record`
# and `--target` against real providers over TLS) and the cassettes as files
# (/usr/share/understudy/cassettes, for `--cassettes` and as examples).
#
# Needs BuildKit (the default builder since Docker 23; DOCKER_BUILDKIT=1 on
# 20.10) for the cache mounts. There is deliberately no `# syntax=` line: it
# would make every build pull a frontend image (docker/dockerfile) from Docker
# Hub, which fails where Docker Hub cannot be reached; BuildKit's built-in
# Dockerfile frontend already has `RUN --mount`. Without Docker Hub, the two
# base images can be made from Debian's packages: scripts/container-local-bases.sh.

ARG RUST_VERSION=1
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p understudy \
    && install -m 0755 target/release/understudy /usr/local/bin/understudy

FROM debian:bookworm-slim
# ca-certificates is left unpinned on purpose: CA roots should be the current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 understudy \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/understudy understudy
COPY --from=builder /usr/local/bin/understudy /usr/local/bin/understudy
COPY fixtures/cassettes /usr/share/understudy/cassettes
USER 10001:10001
WORKDIR /home/understudy
# serve (8765), record (8766), agent (8767); a TLS port is chosen with --tls-port.
EXPOSE 8765 8766 8767
ENTRYPOINT ["understudy"]
CMD ["serve", "--host", "0.0.0.0"]
