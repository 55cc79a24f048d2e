#!/usr/bin/env bash
# Throwaway PostgreSQL server for the test suite (loopback only, trust auth).
#
#   eval "$(bash .ci/postgres.sh start)"      # prints: export TRACKER_TEST_PG_URL=... TRACKER_PG_DIR=...
#   .venv/bin/pytest                           # PG tests now run against it
#   bash .ci/postgres.sh stop                  # stops the server, deletes $TRACKER_PG_DIR
#                                              # (or: bash .ci/postgres.sh stop /tmp/tracker-pg.XXXX)
#
# start: installs PostgreSQL with apt-get when no server binaries are found (root only; runs
#        `apt-get update` unless TRACKER_APT_UPDATED=1), creates a data dir inside a fresh
#        mktemp dir, initdb, starts the server on 127.0.0.1 on a free port, waits for
#        pg_isready. Only the export lines go to stdout; progress goes to stderr. On any
#        failure it cleans up after itself and exits non-zero.
# stop:  stops the server (fast) and removes the temp dir. Safe to call twice.
#
# As root, initdb and the server run as the `postgres` OS user (runuser); as a normal user
# they run as that user. Env knobs: TRACKER_PG_PORT (default: a free port, else 55432).
set -euo pipefail

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    # Newest version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL server binaries not found and not root: install the 'postgresql' package"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server binaries not found and apt-get is unavailable"
    export DEBIAN_FRONTEND=noninteractive
    if [[ "${TRACKER_APT_UPDATED:-}" != 1 ]]; then
        log "apt-get update"
        apt-get update -q </dev/null >&2 || die "apt-get update failed"
    fi
    log "apt-get install -y postgresql"
    apt-get install -y -q --no-install-recommends postgresql </dev/null >&2 ||
        die "apt-get install postgresql failed"
}

# Run a command as the database OS user.
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        local runuser
        runuser="$(command -v runuser || echo /usr/sbin/runuser)"
        "$runuser" -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    if [[ -n "${TRACKER_PG_PORT:-}" ]]; then
        printf '%s\n' "$TRACKER_PG_PORT"
        return
    fi
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return
        fi
    done
    printf '55432\n'
}

cmd_start() {
    local bindir
    if ! bindir="$(find_bindir)"; then
        install_postgres
        bindir="$(find_bindir)" || die "PostgreSQL installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
    fi
    log "using $bindir ($("$bindir/postgres" --version 2>/dev/null || echo 'unknown version'))"

    if [[ "$(id -u)" -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "OS user 'postgres' does not exist (install the postgresql package)"
    fi

    local base
    local tmproot="${TMPDIR:-/tmp}"
    # The postgres OS user must be able to reach the dir: as root, ignore a private TMPDIR.
    [[ "$(id -u)" -ne 0 ]] || tmproot=/tmp
    base="$(mktemp -d "$tmproot/tracker-pg.XXXXXX")"
    # From here on, a failure removes what we created.
    # shellcheck disable=SC2064
    trap "cmd_stop '$base' >/dev/null 2>&1 || true" EXIT
    mkdir -p "$base/data" "$base/sock"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown -R postgres: "$base"
    fi
    chmod 700 "$base" "$base/data"

    log "initdb in $base/data"
    as_pg "$bindir/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$base/initdb.log" 2>&1 || {
        cat "$base/initdb.log" >&2
        die "initdb failed"
    }

    local port attempt
    for attempt in 1 2 3; do
        port="$(free_port)"
        log "starting server on 127.0.0.1:$port (attempt $attempt)"
        if as_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$base/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >&2; then
            break
        fi
        cat "$base/postgres.log" >&2 || true
        [[ -z "${TRACKER_PG_PORT:-}" && $attempt -lt 3 ]] || die "PostgreSQL server failed to start"
    done

    local i ready=0
    for i in $(seq 1 60); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
            ready=1
            break
        fi
        sleep 0.5
    done
    if [[ $ready -ne 1 ]]; then
        cat "$base/postgres.log" >&2 || true
        die "PostgreSQL did not become ready on 127.0.0.1:$port"
    fi
    printf '%s\n' "$bindir" >"$base/bindir"
    trap - EXIT

    log "ready: postgresql+asyncpg://postgres@127.0.0.1:$port/postgres (stop: bash .ci/postgres.sh stop $base)"
    printf 'export TRACKER_TEST_PG_URL=%q\n' "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
    printf 'export TRACKER_PG_DIR=%q\n' "$base"
}

cmd_stop() {
    local base="${1:-${TRACKER_PG_DIR:-}}"
    [[ -n "$base" ]] || die "usage: postgres.sh stop [DIR] (or set TRACKER_PG_DIR)"
    [[ -d "$base" ]] || {
        log "nothing to stop: $base does not exist"
        return 0
    }
    case "$(basename "$base")" in
    tracker-pg.*) ;;
    *) die "refusing to remove $base (not a tracker-pg.* dir)" ;;
    esac
    local bindir=""
    if [[ -f "$base/bindir" ]]; then
        bindir="$(cat "$base/bindir")"
    else
        bindir="$(find_bindir || true)"
    fi
    if [[ -n "$bindir" && -f "$base/data/postmaster.pid" ]]; then
        log "stopping server in $base"
        as_pg "$bindir/pg_ctl" -D "$base/data" -m fast -w -t 30 stop >&2 ||
            log "pg_ctl stop failed (continuing with cleanup)"
    fi
    rm -rf -- "$base"
    log "removed $base"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop "${2:-}" ;;
*)
    echo "usage: bash .ci/postgres.sh start|stop [DIR]" >&2
    exit 2
    ;;
esac
