#!/usr/bin/env bash
# Entrypoint of the testbed's offline Kafka image. It gives the configuration
# interface of the upstream apache/kafka image (its run/configure/launch
# scripts and kafka.docker.KafkaDockerWrapper):
#
# - Every environment variable KAFKA_* except the JVM/script ones listed in
#   NOT_PROPERTIES becomes a broker property: drop the prefix, lower-case,
#   then "_" -> ".", "..." -> "-", ".." -> "_" (KAFKA_NODE_ID -> node.id,
#   KAFKA_LOG_DIRS -> log.dirs, KAFKA_ABC___DEF -> abc-def, KAFKA_ABC__DEF ->
#   abc_def).
# - /mnt/shared/config/server.properties, if mounted, is the base and the
#   variables are appended to it (they win); without it the variables alone
#   are the configuration; with neither, the image's default server.properties
#   (one combined broker+controller on localhost) is used.
# - KAFKA_LISTENERS defaults to KAFKA_ADVERTISED_LISTENERS with every host
#   replaced by 0.0.0.0 (not on a controller-only node).
# - CLUSTER_ID (default 5L6g3nShT-eMCtK--X86sw, as upstream) formats the log
#   directories that are not formatted yet; formatted ones are left alone, so
#   a restart keeps its data.
# - KAFKA_LOG4J_ROOT_LOGLEVEL, KAFKA_LOG4J_LOGGERS ("logger=LEVEL,...") and
#   KAFKA_TOOLS_LOG4J_LOGLEVEL set log levels; KAFKA_HEAP_OPTS, KAFKA_OPTS,
#   KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_GC_LOG_OPTS, KAFKA_LOG4J_OPTS,
#   KAFKA_JMX_OPTS, KAFKA_JMX_PORT and KAFKA_JMX_HOSTNAME go to the JVM.
# - SSL listeners: KAFKA_SSL_KEYSTORE_FILENAME, KAFKA_SSL_KEYSTORE_CREDENTIALS,
#   KAFKA_SSL_KEY_CREDENTIALS, KAFKA_SSL_TRUSTSTORE_FILENAME and
#   KAFKA_SSL_TRUSTSTORE_CREDENTIALS name files under /etc/kafka/secrets.
#
# Additions of this image:
# - The Prometheus JMX exporter agent serves /metrics on
#   KAFKA_JMX_EXPORTER_PORT (default 7071; set it empty to disable), with
#   KAFKA_JMX_EXPORTER_CONFIG, else /mnt/shared/config/jmx-exporter.yml, else
#   the image's /etc/kafka/docker/jmx-exporter.yml.
# - log.dirs defaults to /var/lib/kafka/data (the image's volume) when the
#   configuration names no log directory.
# - Arguments VAR=value are exported first (upstream's run script); any other
#   command is executed instead of the broker (e.g. `bash`, `kafka-topics.sh`).
#
# The broker is exec'ed: java becomes PID 1 and shuts down cleanly on SIGTERM.
set -euo pipefail

home=/opt/kafka
defaults=/etc/kafka/docker
mounted=/mnt/shared/config
config=$home/config
default_log_dir=/var/lib/kafka/data

# KAFKA_* variables that are not broker properties (KafkaDockerWrapper's list,
# plus the ones this image adds).
NOT_PROPERTIES="KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS KAFKA_OPTS
KAFKA_JMX_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS
KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL
KAFKA_JMX_HOSTNAME KAFKA_JMX_PORT KAFKA_HOME KAFKA_DEBUG
KAFKA_JMX_EXPORTER_PORT KAFKA_JMX_EXPORTER_CONFIG
KAFKA_SSL_KEYSTORE_FILENAME KAFKA_SSL_KEYSTORE_CREDENTIALS
KAFKA_SSL_KEY_CREDENTIALS KAFKA_SSL_TRUSTSTORE_FILENAME
KAFKA_SSL_TRUSTSTORE_CREDENTIALS"

if [ $# -gt 0 ]; then
  case "$1" in
    *=*)
      echo "===> Overriding env params with args ..."
      for kv in "$@"; do
        export "${kv?}"
      done
      ;;
    *)
      exec "$@"
      ;;
  esac
fi

echo "===> User"
id

if [ -z "${CLUSTER_ID:-}" ]; then
  echo "CLUSTER_ID not set. Setting it to default value: \"5L6g3nShT-eMCtK--X86sw\""
  export CLUSTER_ID=5L6g3nShT-eMCtK--X86sw
fi

echo "===> Configuring ..."

if [ -n "${KAFKA_PROCESS_ROLES:-}" ]; then
  echo "Running in KRaft mode..."
  if [ "$KAFKA_PROCESS_ROLES" = controller ] && [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
    # Unset in case it is set with an empty value.
    unset KAFKA_ADVERTISED_LISTENERS
  fi
fi

# LISTENERS defaults to ADVERTISED_LISTENERS with hosts replaced by 0.0.0.0.
if [ -z "${KAFKA_LISTENERS:-}" ] && [ "${KAFKA_PROCESS_ROLES:-}" != controller ] &&
  [ -n "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
  KAFKA_LISTENERS=$(printf '%s' "$KAFKA_ADVERTISED_LISTENERS" | sed -e 's|://[^:]*:|://0.0.0.0:|g')
  export KAFKA_LISTENERS
fi

# SSL: key and trust stores and their passwords are files in /etc/kafka/secrets.
secret() { # VAR: the content of /etc/kafka/secrets/$VAR
  local f="/etc/kafka/secrets/${!1}"
  if [ ! -r "$f" ]; then
    echo "$1: $f is not readable" >&2
    exit 1
  fi
  cat "$f"
}
if [[ "${KAFKA_ADVERTISED_LISTENERS:-}" == *SSL://* ]]; then
  echo "SSL is enabled."
  if [ -n "${KAFKA_SSL_KEYSTORE_FILENAME:-}" ]; then
    export KAFKA_SSL_KEYSTORE_LOCATION="/etc/kafka/secrets/$KAFKA_SSL_KEYSTORE_FILENAME"
  fi
  if [ -n "${KAFKA_SSL_KEY_CREDENTIALS:-}" ]; then
    KAFKA_SSL_KEY_PASSWORD=$(secret KAFKA_SSL_KEY_CREDENTIALS)
    export KAFKA_SSL_KEY_PASSWORD
  fi
  if [ -n "${KAFKA_SSL_KEYSTORE_CREDENTIALS:-}" ]; then
    KAFKA_SSL_KEYSTORE_PASSWORD=$(secret KAFKA_SSL_KEYSTORE_CREDENTIALS)
    export KAFKA_SSL_KEYSTORE_PASSWORD
  fi
  if [ -n "${KAFKA_SSL_TRUSTSTORE_FILENAME:-}" ]; then
    export KAFKA_SSL_TRUSTSTORE_LOCATION="/etc/kafka/secrets/$KAFKA_SSL_TRUSTSTORE_FILENAME"
  fi
  if [ -n "${KAFKA_SSL_TRUSTSTORE_CREDENTIALS:-}" ]; then
    KAFKA_SSL_TRUSTSTORE_PASSWORD=$(secret KAFKA_SSL_TRUSTSTORE_CREDENTIALS)
    export KAFKA_SSL_TRUSTSTORE_PASSWORD
  fi
fi
if [[ "${KAFKA_ADVERTISED_LISTENERS:-}" == *SASL_*://* ]] && [[ "${KAFKA_OPTS:-}" != *java.security.auth.login.config* ]]; then
  echo "SASL is enabled: KAFKA_OPTS should contain the 'java.security.auth.login.config' property."
fi

# server.properties
env_properties() {
  local name key not
  not=" $(echo $NOT_PROPERTIES) "
  for name in $(compgen -e | LC_ALL=C sort); do
    case "$name" in KAFKA_*) ;; *) continue ;; esac
    case "$not" in *" $name "*) continue ;; esac
    key=${name#KAFKA_}
    key=${key,,}
    key=${key//_/.}
    key=${key//.../-}
    key=${key//../_}
    printf '%s=%s\n' "$key" "${!name}"
  done
}
mkdir -p "$config"
server=$config/server.properties
props=$(env_properties)
if [ -f "$mounted/server.properties" ]; then
  echo "User provided kafka configs found via file input. Any properties provided via env variables will be appended to this."
  cp "$mounted/server.properties" "$server"
  printf '\n%s\n' "$props" >>"$server"
else
  printf '%s\n' "$props" >"$server"
  if [ -n "$props" ]; then
    echo "User provided kafka configs found via environment variables."
  fi
fi
if ! grep -q '[^[:space:]]' "$server"; then
  echo "User provided kafka configs not found (neither via file input nor via environment variables). Falling back to default configs."
  cp "$defaults/server.properties" "$server"
fi

prop() { # KEY: its last value in server.properties
  local k=${1//./\\.}
  sed -n -e "s/^[[:space:]]*$k[[:space:]]*[=:][[:space:]]*//p" "$server" | tail -n 1
}
if [ -z "$(prop log.dirs)" ] && [ -z "$(prop log.dir)" ]; then
  printf 'log.dirs=%s\n' "$default_log_dir" >>"$server"
fi

# Logging: the image's files or the mounted ones, plus the levels from the
# environment in a second file that log4j2 merges over the first.
for f in log4j2.yaml tools-log4j2.yaml; do
  if [ -f "$mounted/$f" ]; then
    cp "$mounted/$f" "$config/$f"
  else
    cp "$defaults/$f" "$config/$f"
  fi
done
rm -f "$config/log4j2-env.properties" "$config/tools-log4j2-env.properties"
if [ -n "${KAFKA_LOG4J_ROOT_LOGLEVEL:-}${KAFKA_LOG4J_LOGGERS:-}" ]; then
  {
    if [ -n "${KAFKA_LOG4J_ROOT_LOGLEVEL:-}" ]; then
      echo "rootLogger.level = $KAFKA_LOG4J_ROOT_LOGLEVEL"
    fi
    i=0
    IFS=, read -r -a loggers <<<"${KAFKA_LOG4J_LOGGERS:-}"
    for l in "${loggers[@]}"; do
      name=$(echo "${l%%=*}" | tr -d '[:space:]')
      level=$(echo "${l#*=}" | tr -d '[:space:]')
      if [ -z "$name" ] || [ "$name" = "$l" ]; then
        continue
      fi
      i=$((i + 1))
      echo "logger.env$i.name = $name"
      echo "logger.env$i.level = $level"
    done
  } >"$config/log4j2-env.properties"
fi
if [ -n "${KAFKA_TOOLS_LOG4J_LOGLEVEL:-}" ]; then
  echo "rootLogger.level = $KAFKA_TOOLS_LOG4J_LOGLEVEL" >"$config/tools-log4j2-env.properties"
fi

# Storage: format with CLUSTER_ID every log directory not formatted yet.
# (kafka-storage.sh format --ignore-formatted skips formatted ones; when all
# are, the JVM is not even started.)
dirs="$(prop log.dirs)"
dirs="${dirs:-$(prop log.dir)}"
unformatted=""
for d in ${dirs//,/ } $(prop metadata.log.dir); do
  if [ ! -f "$d/meta.properties" ]; then
    unformatted="$unformatted $d"
  fi
done
if [ -n "$unformatted" ]; then
  echo "===> Formatting storage with cluster id $CLUSTER_ID:$unformatted"
  # --cluster-id=ID, not "--cluster-id ID": an id may begin with "-", which
  # the tool would take for an option.
  "$home/bin/kafka-storage.sh" format "--cluster-id=$CLUSTER_ID" --config "$server" --ignore-formatted
else
  echo "===> Storage already formatted:" ${dirs//,/ }
fi

echo "===> Launching ... "

# Remote JMX, as upstream's launch script.
if [ -n "${KAFKA_JMX_PORT:-}" ]; then
  export JMX_PORT=$KAFKA_JMX_PORT
  jmx_host=${KAFKA_JMX_HOSTNAME:-$(hostname -i | cut -d' ' -f1)}
  export KAFKA_JMX_OPTS="${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false} -Djava.rmi.server.hostname=$jmx_host -Dcom.sun.management.jmxremote.local.only=false"
fi

# Prometheus JMX exporter, for the broker's JVM only (not the tools).
exporter_port=${KAFKA_JMX_EXPORTER_PORT-7071}
if [ -n "$exporter_port" ]; then
  exporter_config=${KAFKA_JMX_EXPORTER_CONFIG:-}
  if [ -z "$exporter_config" ]; then
    if [ -f "$mounted/jmx-exporter.yml" ]; then
      exporter_config=$mounted/jmx-exporter.yml
    else
      exporter_config=$defaults/jmx-exporter.yml
    fi
  fi
  echo "===> Prometheus JMX exporter on port $exporter_port ($exporter_config)"
  export KAFKA_OPTS="-javaagent:$home/jmx-exporter/jmx_prometheus_javaagent.jar=$exporter_port:$exporter_config${KAFKA_OPTS:+ $KAFKA_OPTS}"
fi

exec "$home/bin/kafka-server-start.sh" "$server"
