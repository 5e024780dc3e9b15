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

// Union member names used in the native form of lsst.testbed.Alert.
const (
	diaSourceType       = "lsst.testbed.DiaSource"
	diaForcedSourceType = "lsst.testbed.DiaForcedSource"
	diaObjectType       = "lsst.testbed.DiaObject"
)

// LoadSchema returns the schema the --schema flag names: "" or "testbed"
// for the testbed's own (AlertSchema), a JSON text as it is (testbed run
// passes the run's schema so, in ALERT_SCHEMA), or else the path of a
// self-contained .avsc file. IsTestbed says which schema that is.
func LoadSchema(value string) (schema string, isTestbed bool, err error) {
	switch v := strings.TrimSpace(value); {
	case v == "" || v == "testbed":
		return alertSchema, true, nil
	case strings.HasPrefix(v, "{"):
		return v, false, nil
	default:
		data, err := os.ReadFile(v)
		if err != nil {
			return "", false, fmt.Errorf("invalid --schema: %w (use testbed, an .avsc file's path or the schema's JSON)", err)
		}
		return string(data), false, nil
	}
}
