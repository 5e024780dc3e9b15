#!/usr/bin/env bash
# Stand-in for the Kafka distribution's kafka-topics.sh: runs org.apache.kafka.tools.TopicCommand.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
