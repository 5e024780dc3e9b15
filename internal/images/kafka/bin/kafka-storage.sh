#!/usr/bin/env bash
# Stand-in for the Kafka distribution's kafka-storage.sh: runs kafka.tools.StorageTool.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
