#!/bin/bash
# Entrypoint of critmin's Neo4j image: the official image's interface on the pinned jars.
#   NEO4J_AUTH=neo4j/<password>   initial password (8+ characters), set before the first start
#   NEO4J_AUTH=none               authentication off
#   NEO4J_<setting>               a neo4j.conf setting: '_' -> '.', '__' -> '_'
#   NEO4J_PLUGINS='["apoc"]'      accepted: APOC core is in the image (nothing is downloaded)
#   /conf/neo4j.conf              if mounted, applied before the variables
# Started as root, it gives /data and /logs to the user neo4j and runs everything as that user.
set -euo pipefail

NEO4J_HOME=${NEO4J_HOME:-/var/lib/neo4j}
CONF=$NEO4J_HOME/conf/neo4j.conf

die() {
  echo "neo4j image: $*" >&2
  exit 1
}

if [ "$(id -u)" = 0 ]; then
  for dir in /data /logs; do
    mkdir -p "$dir"
    # Only when something there is not neo4j's: a chown of a large store takes long.
    if [ -n "$(find "$dir" ! -user neo4j -print -quit)" ]; then
      chown -R neo4j:neo4j "$dir"
    fi
  done
  chown neo4j:neo4j "$NEO4J_HOME/conf" "$NEO4J_HOME/run"
  exec setpriv --reuid=7474 --regid=7474 --init-groups "$0" "$@"
fi

set_setting() { # KEY VALUE: replace every line of KEY in neo4j.conf by KEY=VALUE
  local key=$1 value=$2
  awk -v key="$key" 'index($0, key "=") != 1' "$CONF" >"$CONF.new"
  printf '%s=%s\n' "$key" "$value" >>"$CONF.new"
  mv "$CONF.new" "$CONF"
}

setting() { # KEY: the value neo4j.conf gives KEY (the last one wins)
  awk -v key="$1" 'index($0, key "=") == 1 { value = substr($0, length(key) + 2) } END { print value }' "$CONF"
}

cp "$NEO4J_HOME/conf.default/neo4j.conf" "$CONF"
if [ -f /conf/neo4j.conf ]; then
  while IFS= read -r line; do
    case "$line" in '#'* | '') continue ;; *=*) set_setting "${line%%=*}" "${line#*=}" ;; esac
  done </conf/neo4j.conf
fi

# NEO4J_<setting> variables, as the official image reads them.
while IFS= read -r name; do
  case "$name" in
    NEO4J_AUTH | NEO4J_AUTH_PATH | NEO4J_PLUGINS | NEO4J_HOME | NEO4J_CONF | NEO4J_VERSION | \
      NEO4J_EDITION | NEO4J_DEBUG | NEO4J_ACCEPT_LICENSE_AGREEMENT) continue ;;
    NEO4J_*) ;;
    *) continue ;;
  esac
  key=${name#NEO4J_}
  key=${key//__/$'\x01'}
  key=${key//_/.}
  key=${key//$'\x01'/_}
  set_setting "$key" "${!name}"
done < <(compgen -e)

if [ -n "${NEO4J_PLUGINS:-}" ]; then
  for plugin in $(echo "$NEO4J_PLUGINS" | tr -d '[]" ' | tr ',' ' '); do
    case "$plugin" in
      apoc | apoc-core) ;;
      *) die "plugin '$plugin' is not in this image (it fetches nothing); only APOC core is included" ;;
    esac
  done
fi

data_dir=$(setting server.directories.data)
case "${NEO4J_AUTH:-}" in
  "") ;; # Neo4j's default: neo4j/neo4j, to be changed at the first login
  none) set_setting dbms.security.auth_enabled false ;;
  */*)
    user=${NEO4J_AUTH%%/*}
    password=${NEO4J_AUTH#*/}
    [ "$user" = neo4j ] || die "NEO4J_AUTH: the user must be neo4j, not '$user'"
    [ "${#password}" -ge 8 ] || die "NEO4J_AUTH: the password needs 8 or more characters"
    if [ ! -d "${data_dir:-/data}/databases/system" ]; then
      # Through an argument file, so the password is not in the process list.
      args=$(mktemp "$NEO4J_HOME/run/initial-password.XXXXXX")
      printf '%s\n' "$password" >"$args"
      # The admin tool itself, without neo4j-admin's launcher JVM: one JVM start less.
      # shellcheck disable=SC2086
      NEO4J_CONF=$NEO4J_HOME/conf java ${CRITMIN_LAUNCHER_JAVA_OPTS:--Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
        -cp "$NEO4J_HOME/lib/*" org.neo4j.cli.AdminTool dbms set-initial-password "@$args" >/dev/null || {
        rm -f "$args"
        die "neo4j-admin dbms set-initial-password failed"
      }
      rm -f "$args"
    fi
    ;;
  *) die "NEO4J_AUTH must be neo4j/<password> or none" ;;
esac

if [ "${1:-}" = neo4j ] && [ $# -eq 1 ]; then
  exec neo4j console
fi
exec "$@"
