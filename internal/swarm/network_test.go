package swarm

import (
	"reflect"
	"testing"
)

// The overlay is created with the inventory's MTU, in the option Docker's
// overlay driver reads; without one, Docker's default applies.
func TestOverlayOptions(t *testing.T) {
	if got := overlayOptions(0); got != nil {
		t.Errorf("overlayOptions(0) = %v, want none (Docker's default)", got)
	}
	want := map[string]string{"com.docker.network.driver.mtu": "8950"}
	if got := overlayOptions(8950); !reflect.DeepEqual(got, want) {
		t.Errorf("overlayOptions(8950) = %v, want %v", got, want)
	}
}
