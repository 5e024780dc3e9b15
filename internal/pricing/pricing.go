// Package pricing estimates what an aws testbed costs before it is made:
// EC2 on-demand hours of the managers and workers, their gp3 volumes and
// public IPv4 addresses, from a table of AWS's published us-east-1 Linux
// on-demand prices. No pricing API is reachable from where the project is
// built, so the table is kept here and says when it was read.
package pricing

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Region and AsOf describe the table.
const (
	Region = "us-east-1"
	AsOf   = "2026-06"
)

// Hourly is the on-demand Linux price per hour, USD, of each instance type
// in Region.
var Hourly = map[string]float64{
	"m4.xlarge": 0.20, "m4.2xlarge": 0.40, "m4.4xlarge": 0.80, "m4.10xlarge": 2.00, "m4.16xlarge": 3.20,
	"m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768, "m5.8xlarge": 1.536, "m5.12xlarge": 2.304, "m5.16xlarge": 3.072, "m5.24xlarge": 4.608,
	"m6i.xlarge": 0.192, "m6i.2xlarge": 0.384, "m6i.4xlarge": 0.768, "m6i.8xlarge": 1.536, "m6i.16xlarge": 3.072,
	"r3.xlarge": 0.333, "r5.xlarge": 0.252, "r5.2xlarge": 0.504, "r5.4xlarge": 1.008,
	"c5.2xlarge": 0.34, "c5.4xlarge": 0.68, "c5.9xlarge": 1.53,
	"t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664,
}

// Other prices of Region, USD.
const (
	GP3PerGBMonth     = 0.08
	PublicIPv4PerHour = 0.005
	hoursPerMonth     = 730
)

// Topology is what is priced.
type Topology struct {
	Managers, Workers           int
	ManagerType, WorkerType     string
	RootGB                      int // per node
	ManagerDataGB, WorkerDataGB int
}

// CheckType reports an instance type that the price table lacks, with the
// types it has.
func CheckType(it string) error {
	if _, ok := Hourly[it]; !ok {
		return fmt.Errorf("instance type %q is not in the price table (%s, %s): use one of %s, or add its hourly price to internal/pricing", it, Region, AsOf, strings.Join(Types(), ", "))
	}
	return nil
}

// Estimate is the cost of a topology.
type Estimate struct {
	Instances float64 // per hour
	Volumes   float64 // per hour
	Addresses float64 // per hour
	Hourly    float64 // the sum
}

// Price estimates t. An instance type the table does not have is an error
// that lists the ones it has.
func Price(t Topology) (Estimate, error) {
	var e Estimate
	for _, it := range []string{t.ManagerType, t.WorkerType} {
		if err := CheckType(it); err != nil {
			return e, err
		}
	}
	e.Instances = float64(t.Managers)*Hourly[t.ManagerType] + float64(t.Workers)*Hourly[t.WorkerType]
	gb := (t.Managers+t.Workers)*t.RootGB + t.Managers*t.ManagerDataGB + t.Workers*t.WorkerDataGB
	e.Volumes = float64(gb) * GP3PerGBMonth / hoursPerMonth
	e.Addresses = float64(t.Managers+t.Workers) * PublicIPv4PerHour
	e.Hourly = e.Instances + e.Volumes + e.Addresses
	return e, nil
}

// For is the cost of running for d (billed per second here; EC2 bills
// Linux per second after the first minute).
func (e Estimate) For(d time.Duration) float64 { return e.Hourly * d.Hours() }

// Types lists the table's instance types, sorted.
func Types() []string {
	out := make([]string, 0, len(Hourly))
	for k := range Hourly {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
