package alert

import (
	_ "embed"
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
