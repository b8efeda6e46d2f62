# Sourced: starts moto's standalone server (the AWS wire protocol for S3,
# SageMaker, STS, API Gateway, IAM) on 127.0.0.1 at a free port, exports
# TABLERO_MOTO_URL, and stops it when the calling script exits.
# Needs tablero_setup_moto (scripts/setup.sh) first.
tablero_start_moto() {
    local port
    port=$("$TABLERO_MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$TABLERO_MOTO_PYTHON" -m moto.server -H 127.0.0.1 -p "$port" > "${TMPDIR:-/tmp}/tablero-moto-$port.log" 2>&1 &
    TABLERO_MOTO_PID=$!
    export TABLERO_MOTO_URL="http://127.0.0.1:$port"
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "moto did not start on $port:"; cat "${TMPDIR:-/tmp}/tablero-moto-$port.log"; return 1
}

tablero_stop_moto() {
    [ -n "${TABLERO_MOTO_PID:-}" ] && kill "$TABLERO_MOTO_PID" 2>/dev/null || true
}

# Starts scripts/lambda-emulator.py (the Lambda Invoke and Runtime APIs on
# 127.0.0.1) running this build's ETL `bootstrap` against moto with the
# buckets of TABLERO_{RAW,CLEAN,MODELS}_BUCKET; exports TABLERO_LAMBDA_URL.
# Stopped by tablero_stop_lambda.
tablero_start_lambda() {
    local out="${TMPDIR:-/tmp}/tablero-lambda-$$.out"
    AWS_ENDPOINT_URL="$TABLERO_MOTO_URL" AWS_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}" \
        AWS_SESSION_TOKEN="${AWS_SESSION_TOKEN:-}" \
        python3 scripts/lambda-emulator.py --bootstrap "$CARGO_TARGET_DIR/debug/bootstrap" > "$out" 2>&1 &
    TABLERO_LAMBDA_PID=$!
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$out" 2>/dev/null; then
            export TABLERO_LAMBDA_URL="http://127.0.0.1:$(sed -n 's/^listening on //p' "$out" | head -1)"
            return 0
        fi
        sleep 0.1
    done
    echo "the Lambda emulator did not start:"; cat "$out"; return 1
}

tablero_stop_lambda() {
    [ -n "${TABLERO_LAMBDA_PID:-}" ] && kill "$TABLERO_LAMBDA_PID" 2>/dev/null || true
}
