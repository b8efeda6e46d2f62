# The endpoint's image: tablero-serve with the AWS backend, as the stack's
# ECS task runs it (the task definition gives the flags and the environment).
# Build from the repository root:
#   docker build --platform linux/amd64 -f packaging/aws/serve.Dockerfile -t tablero-serve .

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tablero-serve --features aws

FROM debian:12.12-slim
# ca-certificates: the AWS SDK's TLS connections to S3 and the other services.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 tablero \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /var/lib/tablero tablero
COPY --from=build /src/target/release/tablero-serve /usr/local/bin/tablero-serve
USER 10001:10001
WORKDIR /var/lib/tablero
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tablero-serve"]
