#!/usr/bin/env bash
# A PostgreSQL primary and a streaming replica of it, for the read-replica tests: a cluster
# made with initdb, and a second cluster on the next loopback port made from it by
# `pg_basebackup -R` (Debian's PostgreSQL tools). Its own pair, so the suite never edits the
# machine's pg_hba.conf to allow replication.
#
#   tests/replica.sh start   start the pair unless it runs; print the two URLs as
#                            TEST_REPLICA_PRIMARY_URL=… and TEST_REPLICA_URL=… lines
#   tests/replica.sh stop    stop the pair and remove its files
set -euo pipefail

dir="${QB_REPLICA_DIR:-/tmp/quotaboard-replica}"
primary_port="${QB_REPLICA_PRIMARY_PORT:-5434}"
replica_port=$((primary_port + 1))
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "${bin:-}/pg_basebackup" ] || { echo "tests/replica.sh: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }

# The server refuses to run as root.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
answers() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$1"; }
urls() {
  echo "TEST_REPLICA_PRIMARY_URL=postgres://postgres@127.0.0.1:$primary_port/test"
  echo "TEST_REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/test"
}
stop() {
  for cluster in replica primary; do
    if [ -f "$dir/$cluster/PG_VERSION" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/$cluster" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
}

case "${1:-start}" in
  start)
    if answers "$primary_port" && answers "$replica_port"; then urls; exit 0; fi
    stop
    mkdir -p "$dir"
    [ "$(id -u)" != 0 ] || chown postgres "$dir"
    as_postgres "$bin/initdb" -D "$dir/primary" -A trust -U postgres --no-sync >"$dir/initdb.log"
    # Test data only: no fsync.
    cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
fsync = off
CONF
    as_postgres "$bin/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$primary_port" -U postgres test
    as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
      -D "$dir/replica" -R -X stream --checkpoint=fast --no-sync
    echo "port = $replica_port" >>"$dir/replica/postgresql.conf"
    as_postgres "$bin/pg_ctl" -D "$dir/replica" -l "$dir/replica.log" -w start >/dev/null
    for _ in $(seq 1 100); do answers "$replica_port" && break; sleep 0.1; done
    standby=$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -d test -qtAc 'select pg_is_in_recovery()')
    [ "$standby" = t ] || { echo "tests/replica.sh: the replica is not in recovery" >&2; exit 1; }
    urls
    ;;
  stop) stop ;;
  *) echo "usage: tests/replica.sh start|stop" >&2; exit 2 ;;
esac
