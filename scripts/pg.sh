#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for OrderHub's tests and benchmarks, on loopback only.
#
#   scripts/pg.sh install   install the PostgreSQL server with apt-get if it is not there
#   scripts/pg.sh start     initialise (once) and start the cluster; prints DATABASE_URL on stdout
#   scripts/pg.sh stop      stop the cluster (the data stays, for the next start)
#   scripts/pg.sh status    exit 0 when the cluster is running
#   scripts/pg.sh url       print DATABASE_URL
#   scripts/pg.sh destroy   stop the cluster and delete its data directory
#
# Environment:
#   ORDERHUB_PGDATA     data directory (default: ./.pgdata in the repository)
#   ORDERHUB_PGPORT     TCP port on 127.0.0.1 (default: 54329)
#   ORDERHUB_PGBIN      directory holding initdb/pg_ctl (default: found on PATH or in
#                       /usr/lib/postgresql/*/bin, newest version first)
#   ORDERHUB_PG_DURABLE set to 1 to start WITHOUT the test-only speed settings
#                       (fsync, synchronous_commit, full_page_writes stay on)
#
# The cluster is tuned for tests: fsync=off, synchronous_commit=off, full_page_writes=off.
# A crash of the machine can corrupt it; never point anything but tests and benchmarks at it.
#
# PostgreSQL refuses to run as root. When run as root, the server runs as the unprivileged
# system user `postgres` (created by Debian's package; created here when missing), which owns
# the data directory.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGPORT_="${ORDERHUB_PGPORT:-54329}"
PGHOST_="127.0.0.1"
DB_USER="orderhub"
DB_PASSWORD="orderhub"
DB_NAME="orderhub"
RUN_AS="postgres"

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# --- finding (or installing) the server -----------------------------------------------------

find_bindir() {
    if [[ -n ${ORDERHUB_PGBIN:-} ]]; then
        [[ -x $ORDERHUB_PGBIN/initdb && -x $ORDERHUB_PGBIN/pg_ctl ]] \
            || die "ORDERHUB_PGBIN=$ORDERHUB_PGBIN holds no initdb/pg_ctl"
        echo "$ORDERHUB_PGBIN"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    local d
    while read -r d; do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
            echo "$d"
            return 0
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r)
    return 1
}

cmd_install() {
    local bindir
    if bindir=$(find_bindir); then
        log "PostgreSQL server found in $bindir"
        return 0
    fi
    log "PostgreSQL server not found: installing it with apt-get"
    local sudo=()
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install PostgreSQL yourself"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql postgresql-contrib
    bindir=$(find_bindir) || die "apt-get installed postgresql but no initdb/pg_ctl was found"
    log "PostgreSQL server installed in $bindir"
}

# --- running as the right user ----------------------------------------------------------------

ensure_run_user() {
    is_root || return 0
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
        log "creating the system user $RUN_AS to run the server"
        useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
            --shell /bin/bash "$RUN_AS"
    fi
}

# Run a server command as the unprivileged user when we are root, else as ourselves.
as_pg() {
    if is_root; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$RUN_AS" -- "$@"
        else
            su "$RUN_AS" -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# --- where the data lives --------------------------------------------------------------------

data_dir() {
    local dir="${ORDERHUB_PGDATA:-$REPO_DIR/.pgdata}"
    [[ $dir = /* ]] || dir="$PWD/$dir"
    if is_root && [[ -z ${ORDERHUB_PGDATA:-} ]] && id -u "$RUN_AS" >/dev/null 2>&1 \
        && ! as_pg test -x "$(dirname "$dir")"; then
        # The server user cannot reach the repository (e.g. it lives under /root): keep the
        # data in a directory of its own, named after the repository so stop finds it again.
        local key
        key=$(printf '%s' "$REPO_DIR" | cksum | cut -d' ' -f1)
        dir="/var/tmp/orderhub-pgdata-$key"
    fi
    echo "$dir"
}

database_url() {
    echo "postgres://$DB_USER:$DB_PASSWORD@$PGHOST_:$PGPORT_/$DB_NAME"
}

pw_file() { echo "$1/orderhub-superuser-password"; }

# --- commands ----------------------------------------------------------------------------------

init_cluster() {
    local bindir=$1 pgdata=$2
    log "initialising a new cluster in $pgdata"
    mkdir -p "$pgdata"
    chmod 700 "$pgdata"
    is_root && chown "$RUN_AS:" "$pgdata"
    local pw tmp
    pw=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    tmp=$(mktemp)
    printf '%s\n' "$pw" >"$tmp"
    is_root && chown "$RUN_AS:" "$tmp"
    local locale=C
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi
    if ! as_pg "$bindir/initdb" -D "$pgdata" -U postgres --pwfile="$tmp" -E UTF8 \
        --locale="$locale" --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$tmp.log" 2>&1; then
        cat "$tmp.log" >&2
        rm -f "$tmp" "$tmp.log"
        die "initdb failed"
    fi
    rm -f "$tmp.log"
    # The superuser password stays inside the data directory, readable by its owner only.
    as_pg sh -c "cat > '$(pw_file "$pgdata")' && chmod 600 '$(pw_file "$pgdata")'" <"$tmp"
    rm -f "$tmp"
    printf "\n# OrderHub: settings written by scripts/pg.sh at every start\ninclude_if_exists = 'orderhub.conf'\n" \
        | as_pg sh -c "cat >> '$pgdata/postgresql.conf'"
}

write_conf() {
    local pgdata=$1 speed
    if [[ ${ORDERHUB_PG_DURABLE:-0} = 1 ]]; then
        speed="# durable mode (ORDERHUB_PG_DURABLE=1): fsync, synchronous_commit, full_page_writes on"
    else
        speed=$'# test-only speed settings: unsafe for real data\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off'
    fi
    as_pg sh -c "cat > '$pgdata/orderhub.conf'" <<EOF
# Written by scripts/pg.sh: a throwaway cluster for tests and benchmarks.
listen_addresses = '$PGHOST_'
port = $PGPORT_
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
$speed
log_min_messages = warning
log_timezone = 'UTC'
timezone = 'UTC'
EOF
}

admin_psql() {
    local bindir=$1 pgdata=$2
    shift 2
    local psql="$bindir/psql"
    [[ -x $psql ]] || psql=$(command -v psql) || die "psql not found"
    PGPASSWORD="$(cat "$(pw_file "$pgdata")")" "$psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$PGHOST_" -p "$PGPORT_" -U postgres -d postgres "$@"
}

is_running() {
    local bindir=$1 pgdata=$2
    [[ -f $pgdata/PG_VERSION ]] || return 1
    as_pg "$bindir/pg_ctl" status -D "$pgdata" >/dev/null 2>&1
}

cmd_start() {
    local bindir pgdata
    bindir=$(find_bindir) || die "PostgreSQL server not found; run: scripts/pg.sh install"
    ensure_run_user
    pgdata=$(data_dir)
    if [[ ! -f $pgdata/PG_VERSION ]]; then
        if [[ -e $pgdata ]] && [[ -n $(ls -A "$pgdata" 2>/dev/null) ]]; then
            die "$pgdata exists but holds no cluster; remove it or set ORDERHUB_PGDATA"
        fi
        init_cluster "$bindir" "$pgdata"
    fi
    if is_running "$bindir" "$pgdata"; then
        log "cluster in $pgdata is already running"
    else
        if (exec 3<>"/dev/tcp/$PGHOST_/$PGPORT_") 2>/dev/null; then
            die "another server already listens on $PGHOST_:$PGPORT_ (a cluster of another checkout?); set ORDERHUB_PGPORT to a free port"
        fi
        write_conf "$pgdata"
        log "starting PostgreSQL ($("$bindir/postgres" --version | awk '{print $3}')) on $PGHOST_:$PGPORT_"
        if ! as_pg "$bindir/pg_ctl" start -w -t 60 -D "$pgdata" -l "$pgdata/server.log" >/dev/null; then
            tail -n 30 "$pgdata/server.log" >&2 || true
            die "the cluster did not start (is port $PGPORT_ taken? set ORDERHUB_PGPORT)"
        fi
    fi
    admin_psql "$bindir" "$pgdata" <<SQL
SELECT 'CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD ''$DB_PASSWORD'''
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') \gexec
ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \gexec
SQL
    database_url
}

cmd_stop() {
    local bindir pgdata
    bindir=$(find_bindir) || { log "PostgreSQL server not found: nothing to stop"; return 0; }
    pgdata=$(data_dir)
    if is_running "$bindir" "$pgdata"; then
        as_pg "$bindir/pg_ctl" stop -w -t 60 -m fast -D "$pgdata" >/dev/null
        log "cluster in $pgdata stopped"
    else
        log "cluster in $pgdata is not running"
    fi
}

cmd_status() {
    local bindir pgdata
    bindir=$(find_bindir) || return 1
    pgdata=$(data_dir)
    if is_running "$bindir" "$pgdata"; then
        log "running: $pgdata on $PGHOST_:$PGPORT_"
        return 0
    fi
    log "not running ($pgdata)"
    return 1
}

cmd_destroy() {
    cmd_stop
    local pgdata
    pgdata=$(data_dir)
    rm -rf "$pgdata"
    log "removed $pgdata"
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) database_url ;;
    destroy) cmd_destroy ;;
    *)
        sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
