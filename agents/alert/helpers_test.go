package alert

import (
	"testing"
)

// mustGen returns a Generator for o or fails the test.
func mustGen(t testing.TB, o Options) *Generator {
	t.Helper()
	g, err := NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func mustCodec(t testing.TB, id uint32) *Codec {
	t.Helper()
	c, err := NewCodec(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func unwrap(v any) any { return Unwrap(v) }

func rec(v any) map[string]any { return unwrap(v).(map[string]any) }

// testIDs is a spread of IDs over visits, producers, sequence numbers and CCDs.
func testIDs(n int) []ID {
	ids := make([]ID, n)
	for i := range ids {
		ids[i] = ID{Visit: i / 10, Producer: i % 10, Seq: i * 7, CCD: (i * 13) % NumCCDs}
	}
	return ids
}

// ssID returns an ID whose alert is a solar-system detection (no diaObject).
func ssID(t testing.TB, g *Generator) ID {
	t.Helper()
	for i := 0; i < 10000; i++ {
		id := ID{Visit: 5, Producer: 2, Seq: i, CCD: i % NumCCDs}
		if rec(g.Alert(id)["diaSource"])["ssObjectId"] != nil {
			return id
		}
	}
	t.Fatal("no solar-system alert among 10000")
	return ID{}
}
