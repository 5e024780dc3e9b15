package alert

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// The testbed's alerts are the same from one version of the testbed to the
// next, for the same Seed and ID: runs compared across versions send the
// same stream. The digests were taken of goavro's encoding of the native
// alerts the generator made before AppendAlert wrote them itself (3,000
// alerts of testIDs per option set); a change that is meant to change the
// alerts updates them and says so.
func TestAlertsStayTheSame(t *testing.T) {
	noStamps := DefaultOptions()
	noStamps.Stamps = false
	bare := noStamps
	bare.PrvDiaSources, bare.PrvDiaForcedSources, bare.Seed = 0, 0, 7
	small := DefaultOptions()
	small.PrvDiaSources, small.PrvDiaForcedSources, small.StampSide = 3, 0, 20
	c := mustCodec(t, 1)
	for _, tc := range []struct {
		name   string
		o      Options
		digest string
	}{
		{"default", DefaultOptions(), "6339acf16450338cfdf11c09a22952de8702b40f3284ed931e1f138c21bb42b1"},
		{"no stamps", noStamps, "08aa7242f548d61e2166657b8609b0a0913397bee90935f163698c53901686e2"},
		{"no histories, seed 7", bare, "478e317f7857733c7f9f3ec252cd9d8e6298dedb17bb13e31f5cd170a77c6ec4"},
		{"3 sources, no forced, 20-pixel stamps", small, "b920cb8f7212de62a909ed7a61a30872bb540c0fc69d991cdf86da28773bcbc3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustGen(t, tc.o)
			h := sha256.New()
			var framed []byte
			for k, id := range testIDs(3000) {
				framed = g.AppendAlert(Frame(framed[:0], 1, nil), id)
				h.Write(framed)
				if k%100 == 0 {
					// goavro's encoding of the decoded alert is the same
					// bytes: AppendAlert writes the schema's canonical
					// binary encoding.
					again, err := c.Append(nil, g.Alert(id))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(again, framed) {
						t.Fatalf("alert %+v: goavro encodes its decoding to %d bytes, AppendAlert wrote %d", id, len(again), len(framed))
					}
				}
			}
			if got := fmt.Sprintf("%x", h.Sum(nil)); got != tc.digest {
				t.Errorf("digest of 3000 alerts %s, want %s: the alerts changed", got, tc.digest)
			}
		})
	}
}
