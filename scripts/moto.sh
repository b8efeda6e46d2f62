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
