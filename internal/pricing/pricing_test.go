package pricing

import (
	"math"
	"strings"
	"testing"
	"time"
)

// DMTN-028's topology: 3 x m4.16xlarge + 10 x m4.4xlarge.
func TestPriceOfTheDMTN028Topology(t *testing.T) {
	e, err := Price(Topology{Managers: 3, Workers: 10, ManagerType: "m4.16xlarge", WorkerType: "m4.4xlarge", RootGB: 40, ManagerDataGB: 500, WorkerDataGB: 50})
	if err != nil {
		t.Fatal(err)
	}
	// 3 x 3.20 + 10 x 0.80 = 17.60 /h; (13 x 40 + 3 x 500 + 10 x 50) GB x 0.08 / 730 = 0.2762 /h; 13 x 0.005 = 0.065 /h.
	if math.Abs(e.Instances-17.60) > 1e-9 || math.Abs(e.Volumes-2520*0.08/730) > 1e-9 || math.Abs(e.Addresses-0.065) > 1e-9 {
		t.Fatalf("estimate %+v", e)
	}
	if got := e.For(30 * time.Minute); math.Abs(got-e.Hourly/2) > 1e-9 {
		t.Fatalf("half an hour: %v", got)
	}
}

func TestUnknownInstanceType(t *testing.T) {
	_, err := Price(Topology{Managers: 3, ManagerType: "m4.16xlarge", WorkerType: "x9.huge"})
	if err == nil || !strings.HasPrefix(err.Error(), `instance type "x9.huge" is not in the price table (us-east-1, 2026-06): use one of c5.2xlarge, `) {
		t.Fatalf("error %v", err)
	}
}
