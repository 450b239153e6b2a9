#!/usr/bin/env bash
# Installs what the interoperability runs need, on a fresh machine or an old one:
# - Debian packages: cmake (to build the Paho C library under the paho-mqtt crate),
#   mosquitto and mosquitto-clients, chromium (run headless by broker/tests/browser.rs) and
#   postgresql and redis-server (servers of their own started by broker/tests/auth_*.rs),
#   with apt-get when run as root (otherwise it says what to install and stops);
# - interop/.venv: Python paho-mqtt, pinned in python/requirements.txt;
# - interop/node/node_modules: MQTT.js, exactly as node/package-lock.json pins it.
# Running it again does only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
# Headless Chromium runs MQTT.js in a real browser (broker/tests/browser.rs).
[ -x /usr/bin/chromium ] || need+=(chromium)
# A real PostgreSQL for [auth.postgres] (broker/tests/auth_postgres.rs starts its own).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# A real Redis for [auth.redis] (broker/tests/auth_redis.rs starts its own).
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: apt-get install ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "setup: please install the Debian packages: ${need[*]}" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: python venv in interop/.venv"
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r python/requirements.txt

if [ ! -f node/node_modules/.package-lock.json ] \
    || [ node/package-lock.json -nt node/node_modules/.package-lock.json ]; then
    echo "setup: npm ci in interop/node"
    (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: interop clients ready"
