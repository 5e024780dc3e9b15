#!/usr/bin/env bash
# kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
#
# A small stand-in for the script of the same name in the Apache Kafka
# distribution (the bin/ scripts are not on Maven Central): runs CLASS with
# every jar of /opt/kafka/libs on the class path, honouring the same
# variables: JAVA_HOME, KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS,
# KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS, JMX_PORT, KAFKA_LOG4J_OPTS, LOG_DIR,
# KAFKA_OPTS, CLASSPATH. The JVM is exec'ed, so it gets the caller's PID
# (PID 1 for the broker) and its signals. -daemon is accepted and ignored
# (containers run in the foreground); -loggc writes GC logs only when
# KAFKA_GC_LOG_OPTS is unset and LOG_DIR is writable (upstream behaviour).
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

base_dir=$(cd "$(dirname "$0")/.." && pwd)

daemon_name=""
gc_log=false
while [ $# -gt 0 ]; do
  case "$1" in
    -name) daemon_name=$2; shift 2 ;;
    -loggc) gc_log=true; shift ;;
    -daemon) shift ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]" >&2
  exit 1
fi

LOG_DIR=${LOG_DIR:-$base_dir/logs}

CLASSPATH="${CLASSPATH:+$CLASSPATH:}$base_dir/libs/*"

if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
  KAFKA_HEAP_OPTS="-Xmx256M"
fi
if [ -z "${KAFKA_JVM_PERFORMANCE_OPTS:-}" ]; then
  KAFKA_JVM_PERFORMANCE_OPTS="-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"
fi
if [ -z "${KAFKA_JMX_OPTS:-}" ]; then
  KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
fi
if [ -n "${JMX_PORT:-}" ]; then
  KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.port=$JMX_PORT"
  case "$KAFKA_JMX_OPTS" in
    *-Dcom.sun.management.jmxremote.rmi.port=*) ;;
    *) KAFKA_JMX_OPTS="$KAFKA_JMX_OPTS -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT" ;;
  esac
fi

# Tools log to stderr at WARN (config/tools-log4j2.yaml); kafka-server-start.sh
# sets KAFKA_LOG4J_OPTS for the broker. An *-env.properties file next to the
# YAML holds the level overrides the entrypoint derived from the environment;
# log4j2 merges the two.
if [ -z "${KAFKA_LOG4J_OPTS:-}" ]; then
  log4j_conf="$base_dir/config/tools-log4j2.yaml"
  if [ -f "$base_dir/config/tools-log4j2-env.properties" ]; then
    log4j_conf="$log4j_conf,$base_dir/config/tools-log4j2-env.properties"
  fi
  KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$log4j_conf"
fi
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

if $gc_log && [ -z "${KAFKA_GC_LOG_OPTS:-}" ] && mkdir -p "$LOG_DIR" 2>/dev/null && [ -w "$LOG_DIR" ]; then
  KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/${daemon_name:-kafka}-gc.log:time,tags:filecount=10,filesize=100M"
fi

if [ -n "${JAVA_HOME:-}" ]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi

# The *_OPTS variables are word-split, as in Kafka's script; no globbing.
set -f
# shellcheck disable=SC2086
exec "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS ${KAFKA_GC_LOG_OPTS:-} $KAFKA_JMX_OPTS $KAFKA_LOG4J_OPTS -cp "$CLASSPATH" ${KAFKA_OPTS:-} "$@"
