# The ETL Lambda's image: `bootstrap` (crates/lambda) on Lambda's
# provided.al2023 runtime, as the stack's EtlFunction runs it (PackageType
# Image). Build from the repository root:
#   docker build --platform linux/amd64 -f packaging/aws/etl.Dockerfile -t tablero-etl .
# arm64 (Graviton): the same file with --platform linux/arm64 on an arm64
# builder, and Architectures: [arm64] on the function (not verified here).
#
# It builds on Amazon Linux 2023 so the binary links against the glibc the
# runtime has.

FROM public.ecr.aws/amazonlinux/amazonlinux:2023.9.20251117.1 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN dnf install -y gcc gcc-c++ make tar gzip \
    && dnf clean all
ENV RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo PATH=/opt/cargo/bin:$PATH
RUN curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --default-toolchain 1.95.0
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tablero-lambda --bin bootstrap

FROM public.ecr.aws/lambda/provided:al2023.2025.11.18.12
# Lambda runs the function as its own unprivileged user; the image needs
# nothing but the binary (no shell tools, no compiler).
COPY --from=build /src/target/release/bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap
CMD ["bootstrap"]
