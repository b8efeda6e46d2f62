#!/usr/bin/env bash
# Builds the desktop app's .deb with the Tauri bundler (packaging/) and checks
# it: installs with dpkg -i, the installed binary starts (under Xvfb) and
# opens a workspace, then uninstalls. `--release` builds the optimised
# package to ship (and the release CLI), both with the AWS backend; the
# default (debug) is what CI checks.
# The AppImage is configured (packaging/tauri.bundle.json) but not built
# here: its bundling step downloads tools from the internet.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
tablero_setup_desktop
tablero_setup_e2e
profile=debug; flag=--debug
if [ "${1:-}" = "--release" ]; then profile=release; flag=; fi

[ -d ui/dist ] || (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
# npm ci refuses this lock file: the registry mirror omits the CLI's other-platform
# optional packages from it; the version is pinned exactly in package.json.
(cd packaging && npm install --no-audit --no-fund --loglevel=error)
# The release package has the AWS backend (`--features aws`). The debug one
# CI installs does not: its build would compile the AWS SDK a second time
# (`tauri build` resolves the dependencies' features for the app alone);
# the app with the AWS backend is tested by scripts/e2e-aws.sh.
features=()
[ "$profile" = release ] && features=(--features aws)
packaging/node_modules/.bin/tauri build $flag "${features[@]}" --bundles deb --config packaging/tauri.bundle.json
deb=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb | head -1)
echo "==> built $deb"
if [ "$profile" = release ]; then
    # The release CLI, with the AWS backend too.
    cargo build --release --locked -p tablero-cli --features aws
    echo "==> built $CARGO_TARGET_DIR/release/tablero"
    exit 0
fi

tablero_sudo dpkg -i "$deb"
trap 'tablero_sudo dpkg -r tablero >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
tmp=$(mktemp -d)
/usr/bin/tablero-desktop --version
set +e
TABLERO_WORKSPACE="$tmp/ws" timeout 15 xvfb-run -a /usr/bin/tablero-desktop > "$tmp/app.log" 2>&1
rc=$?
set -e
# 124: still running when the timeout stopped it, i.e. it started and stayed up.
if [ $rc -ne 124 ] || [ ! -f "$tmp/ws/tablero.toml" ]; then
    echo "the installed app did not start (exit $rc):"; cat "$tmp/app.log"; exit 1
fi
echo "==> the installed app started and opened $tmp/ws"
