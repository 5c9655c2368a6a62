#!/usr/bin/env bash
# A private PostgreSQL server for moclab's web tests (and for trying `moclab serve --database` for real).
#
# Installs Debian's postgresql package when no server is installed, creates a cluster of its own (not
# Debian's `main` cluster) in $MOCLAB_PG_DIR, starts it listening on 127.0.0.1:$MOCLAB_PG_PORT only, and
# makes a `moclab` role (password `moclab`, allowed to create the test databases) with a `moclab` database.
# Idempotent: a server already answering on the port is left as it is. Prints the database URL.
#
#   bash scripts/postgres.sh          # start (or find) the server
#   bash scripts/postgres.sh stop     # stop it
set -euo pipefail

port=${MOCLAB_PG_PORT:-54329}
# Outside the work tree: the `postgres` user must reach it, and a clone under a private temporary folder
# would not let it.
data=${MOCLAB_PG_DIR:-/tmp/moclab-postgres-$port}
url="postgres://moclab:moclab@127.0.0.1:$port/moclab"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "moclab needs Debian's postgresql package; install it as root (apt-get install postgresql)." >&2
    exit 1
  fi
}

server_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $found && -x $found/initdb ]]; then
    echo "$found"
  fi
}

bin=$(server_bin)
if [[ -z $bin ]]; then
  echo "Installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin=$(server_bin)
fi

# The cluster's processes run as `postgres` when we are root (PostgreSQL refuses to run as root).
if [[ $(id -u) -eq 0 ]]; then
  as_owner=(runuser -u postgres --)
  owner=postgres
else
  as_owner=()
  owner=$(id -un)
fi

if [[ ${1:-start} == stop ]]; then
  if [[ -f $data/postmaster.pid ]]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" stop -m fast >/dev/null
    echo "stopped the server in $data"
  fi
  exit 0
fi

if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "$url"
  exit 0
fi

if [[ ! -f $data/PG_VERSION ]]; then
  mkdir -p "$data"
  chown "$owner" "$data"
  chmod 700 "$data"
  "${as_owner[@]}" "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi

# Listen on loopback only; the socket goes into the data folder, not the system's /run/postgresql.
"${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >/dev/null

psql=("${as_owner[@]}" "$bin/psql" -X -q -h "$data" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'moclab'") ]]; then
  "${psql[@]}" -c "CREATE ROLE moclab LOGIN CREATEDB PASSWORD 'moclab'"
fi
if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'moclab'") ]]; then
  "${psql[@]}" -c "CREATE DATABASE moclab OWNER moclab"
fi
echo "$url"
