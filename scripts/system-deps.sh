#!/usr/bin/env bash
# System packages and services the full suite needs, kept in one place so .ci/run and a developer's
# machine install the same things. Idempotent: safe to run again.
#
# PostgreSQL (for the @pytest.mark.postgres tests): installs Debian's postgresql when the server
# binaries are missing, starts (or creates) the newest cluster, and makes a login role and database
# for the tests. Print the URL to use with:  bash scripts/system-deps.sh --pg-url
#
# Chromium (for the @pytest.mark.browser tests) and npm (for scripts/build-assets.sh): Debian packages,
# installed when missing.
set -euo pipefail

PG_USER="${NRM_PG_USER:-nrm}"
PG_PASSWORD="${NRM_PG_PASSWORD:-nrm-test}"
PG_DB="${NRM_PG_DB:-nrm_test}"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "system-deps: need root (or sudo) to run: $*" >&2; return 1
    fi
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
    else sudo -u postgres "$@"
    fi
}

pg_version() {  # the newest installed server version, e.g. 15
    ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1
}

pg_port() {
    pg_lsclusters --no-header 2>/dev/null | awk -v v="$(pg_version)" '$1 == v && $2 == "main" {print $3; exit}'
}

pg_url() {
    echo "postgresql+psycopg://${PG_USER}:${PG_PASSWORD}@127.0.0.1:$(pg_port)/${PG_DB}"
}

install_postgresql() {
    local version
    version="$(pg_version)"
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$version" ] \
            && [ -x "/usr/lib/postgresql/$version/bin/postgres" ]; then
        return 0
    fi
    echo "system-deps: installing postgresql"
    if [ "${APT_UPDATED:-0}" = 0 ]; then
        as_root apt-get update
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
}

start_postgresql() {
    local version status
    version="$(pg_version)"
    if ! pg_lsclusters --no-header 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
        as_root pg_createcluster "$version" main
    fi
    status="$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" {print $4; exit}')"
    if [ "$status" != "online" ]; then
        as_root pg_ctlcluster "$version" main start
    fi
    for _ in $(seq 1 30); do
        if pg_isready -q -h 127.0.0.1 -p "$(pg_port)"; then
            return 0
        fi
        sleep 1
    done
    echo "system-deps: PostgreSQL $version did not become ready" >&2
    return 1
}

create_role_and_database() {
    local port
    port="$(pg_port)"
    as_postgres psql -q -v ON_ERROR_STOP=1 -p "$port" -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', '${PG_USER}')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${PG_USER}') \gexec
ALTER ROLE "${PG_USER}" WITH LOGIN CREATEDB PASSWORD '${PG_PASSWORD}';
SELECT format('CREATE DATABASE %I OWNER %I', '${PG_DB}', '${PG_USER}')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${PG_DB}') \gexec
SQL
}

# Debian packages for the browser tests (Chromium, driven by Playwright with executable_path; no
# browser is ever downloaded) and for scripts/build-assets.sh (npm). apt-get update runs only when
# something is missing.
APT_UPDATED=0
apt_install_missing() {  # apt_install_missing CHECK-COMMAND PACKAGE...
    local check="$1"; shift
    if command -v "$check" >/dev/null 2>&1; then
        return 0
    fi
    echo "system-deps: installing $*"
    if [ "$APT_UPDATED" = 0 ]; then
        as_root apt-get update
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

install_browser_and_npm() {
    if [ ! -x /usr/bin/chromium ]; then
        apt_install_missing /usr/bin/chromium chromium fonts-liberation
    fi
    apt_install_missing npm npm
}

if [ "${1:-}" = "--pg-url" ]; then
    pg_url
    exit 0
fi

install_browser_and_npm
install_postgresql
start_postgresql
create_role_and_database
echo "system-deps: PostgreSQL ready at $(pg_url | sed 's/:[^:@]*@/:***@/')"
