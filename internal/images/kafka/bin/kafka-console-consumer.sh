#!/usr/bin/env bash
# Stand-in for the Kafka distribution's kafka-console-consumer.sh: runs org.apache.kafka.tools.consumer.ConsoleConsumer.
if [ -z "${KAFKA_HEAP_OPTS:-}" ]; then
  export KAFKA_HEAP_OPTS="-Xmx512M"
fi
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "$@"
