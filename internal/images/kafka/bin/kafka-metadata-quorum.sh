#!/usr/bin/env bash
# Stand-in for the Kafka distribution's kafka-metadata-quorum.sh: runs org.apache.kafka.tools.MetadataQuorumCommand.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.MetadataQuorumCommand "$@"
