#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override property=value]*
# Stand-in for the Kafka distribution's script: runs kafka.Kafka (broker
# and/or KRaft controller) with a 1 GB heap unless KAFKA_HEAP_OPTS says
# otherwise, logging per config/log4j2.yaml. log4j2's own shutdown hook is
# disabled: it would stop logging while Kafka's hook is still shutting the
# server down (on SIGTERM), and the last lines would be lost. The console
# appender flushes every line, so nothing is lost without it.
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*" >&2
  exit 1
fi
base_dir=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${KAFKA_LOG4J_OPTS:-}" ]; then
  log4j_conf="$base_dir/config/log4j2.yaml"
  if [ -f "$base_dir/config/log4j2-env.properties" ]; then
    log4j_conf="$log4j_conf,$base_dir/config/log4j2-env.properties"
  fi
  export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$log4j_conf -Dlog4j2.shutdownHookEnabled=false"
fi
if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
  export KAFKA_HEAP_OPTS="-Xmx1G -Xms1G"
fi

EXTRA_ARGS=${EXTRA_ARGS-'-name kafkaServer -loggc'}
# shellcheck disable=SC2086
exec "$base_dir/bin/kafka-run-class.sh" $EXTRA_ARGS kafka.Kafka "$@"
