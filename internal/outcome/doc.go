// Package outcome says what a run came to, in one place: it collects the
// result records the agents publish (agents/results' types) off the
// results topic (Collector), folds them per visit and consumer group into
// exact counts (Fold: unique, lost, not sent, not received, duplicated by
// cause, strays) and DMTN-028's timings, computes the statistics of those
// timings (StatsOf), and summarizes the run with its problems and notes
// (Summarize). The orchestrator only feeds it and prints or archives what
// it returns; the report reads the same types back from the archive.
package outcome
