package alert

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
)

//go:embed schema/lsst_alert.avsc
var alertSchema string

// AlertSchema returns the text of the testbed's alert schema
// (schema/lsst_alert.avsc, record lsst.testbed.Alert).
func AlertSchema() string { return alertSchema }

// LoadCodec returns the Codec, under schemaID, of the schema the --schema
// flag names: "" or "testbed" for the testbed's own (AlertSchema), a JSON
// text as it is (testbed run passes the run's schema so, in ALERT_SCHEMA),
// or else the path of a self-contained .avsc file.
func LoadCodec(flag string, schemaID uint32) (*Codec, error) {
	schema := alertSchema
	switch v := strings.TrimSpace(flag); {
	case v == "" || v == "testbed":
	case strings.HasPrefix(v, "{"):
		schema = v
	default:
		data, err := os.ReadFile(v)
		if err != nil {
			return nil, fmt.Errorf("invalid --schema: %w (use testbed, an .avsc file's path or the schema's JSON)", err)
		}
		schema = string(data)
	}
	return NewCodecForSchema(schemaID, schema)
}

// Maker makes alerts in goavro's native form.
type Maker interface {
	Alert(id ID) map[string]any
}

// Appender is a Maker that writes an alert's Avro binary encoding itself
// (SchemaGenerator), which is faster than goavro's encoding of Alert.
type Appender interface {
	AppendAlert(dst []byte, id ID) []byte
}

// NewMaker returns the alert maker for schema with o: a Generator for the
// testbed's own (AlertSchema), a SchemaGenerator for any other.
func NewMaker(schema string, o Options) (Maker, error) {
	if schema == alertSchema {
		return NewGenerator(o)
	}
	g, err := NewSchemaGenerator(schema, o)
	if err != nil {
		return nil, fmt.Errorf("invalid --schema: %w", err)
	}
	return g, nil
}
