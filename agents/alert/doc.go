// Package alert is the testbed's alert format and alert generator.
//
// Every alert on the testbed's Kafka topics is an Avro record of the schema
// in schema/lsst_alert.avsc (record lsst.testbed.Alert, written for this
// project in the style of the public LSST alert_packet schemas), framed in
// the Confluent wire format: a zero magic byte, a 4-byte big-endian schema
// id, then the Avro binary body. Codec does the framing and the Avro work
// (github.com/linkedin/goavro/v2).
//
// Alerts are handled in goavro's "native" form: map[string]any for records,
// []any for arrays, int64 for long, int32 for int, float64 for double,
// float32 for float, []byte for bytes, and unions as nil or a one-entry map
// from the member type's name to the value ({"float": float32(1.5)},
// {"array": []any{...}}, {"lsst.testbed.DiaObject": map[string]any{...}}).
// Plain turns that into the plain nested maps that user filter expressions
// work on.
//
// Generator makes synthetic alerts whose values are plausible (positions in
// the survey footprint, log-normal fluxes in nJy, reliability in [0, 1], a
// history of earlier detections and forced measurements) and deterministic
// for a (seed, ID) pair. Its cutouts are FITS images made by Cutout.
//
// Replay cycles over the alerts of an Avro object container file, for
// replaying real alerts; WriteOCF writes such files.
package alert
