# The training image: `tablero-train` (crates/trainer) under SageMaker's
# training-container contract. SageMaker runs `<image> train`; the entry
# point reads /opt/ml/input, writes /opt/ml/model and /opt/ml/output.
# Build from the repository root:
#   docker build --platform linux/amd64 -f packaging/aws/trainer.Dockerfile -t tablero-train .

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tablero-trainer --bin tablero-train

FROM debian:12.12-slim
RUN groupadd --system --gid 10001 tablero \
    && useradd --system --uid 10001 --gid 10001 --no-create-home tablero
COPY --from=build /src/target/release/tablero-train /usr/local/bin/tablero-train
# SageMaker mounts /opt/ml owned by root when it runs the job as root; with
# the job's unprivileged user (10001) these folders stay writable.
RUN mkdir -p /opt/ml/model /opt/ml/output /opt/ml/input \
    && chown -R 10001:10001 /opt/ml
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/tablero-train"]
CMD ["train"]
