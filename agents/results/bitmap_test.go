package results

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/quick"
)

func TestBitmapBasics(t *testing.T) {
	var b Bitmap
	if b.Count() != 0 || b.Has(0) || b.Max() != -1 {
		t.Fatal("zero Bitmap is not empty")
	}
	for _, i := range []int{0, 63, 64, 1000, 63} {
		b.Set(i)
	}
	if already := b.Set(1000); !already {
		t.Error("Set(1000) twice: not already")
	}
	if already := b.Set(5); already {
		t.Error("Set(5) once: already")
	}
	if got := b.Seqs(); !reflect.DeepEqual(got, []int{0, 5, 63, 64, 1000}) {
		t.Errorf("Seqs = %v", got)
	}
	if b.Count() != 5 || b.CountBelow(64) != 3 || b.CountBelow(65) != 4 || b.CountBelow(0) != 0 || b.CountBelow(1<<20) != 5 || b.Max() != 1000 {
		t.Errorf("Count %d CountBelow(64) %d (65) %d Max %d", b.Count(), b.CountBelow(64), b.CountBelow(65), b.Max())
	}
	if b.Has(-1) || b.Has(1<<30) || !b.Has(64) {
		t.Error("Has")
	}
	if got := b.Missing(7); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 6}) {
		t.Errorf("Missing(7) = %v", got)
	}
	o := NewBitmap(5, 6, 2000)
	if n := b.AndCount(o); n != 1 {
		t.Errorf("AndCount = %d", n)
	}
	u := Union(&b, o, nil)
	if u.Count() != 7 || b.Count() != 5 {
		t.Errorf("Union count %d, b changed to %d", u.Count(), b.Count())
	}
	var nilB *Bitmap
	if nilB.Count() != 0 || nilB.Has(1) || nilB.CountBelow(10) != 0 || nilB.AndCount(o) != 0 || nilB.Max() != -1 || !nilB.Equal(&Bitmap{}) {
		t.Error("nil bitmap is not empty")
	}
	defer func() {
		if recover() == nil {
			t.Error("Set(-1) did not panic")
		}
	}()
	b.Set(-1)
}

func TestBitmapJSONSize(t *testing.T) {
	b := &Bitmap{}
	for i := 0; i < 10000; i++ {
		b.Set(i)
	}
	raw, _ := b.MarshalBinary()
	if len(raw) != 1250 {
		t.Errorf("10,000 seqs: %d bytes, want 1250", len(raw))
	}
	js, _ := json.Marshal(b)
	if len(js) != 1668+2 || base64Len(1250) != 1668 {
		t.Errorf("10,000 seqs: %d JSON bytes", len(js))
	}
	// Known encoding: {0, 65} is words 1, 2: bytes 1,0,0,0,0,0,0,0, 2.
	js, _ = json.Marshal(NewBitmap(0, 65))
	if string(js) != `"AQAAAAAAAAAC"` {
		t.Errorf("{0, 65} = %s", js)
	}
	// Trailing zero words are dropped; empty is "".
	e := &Bitmap{words: make([]uint64, 10)}
	if js, _ := json.Marshal(e); string(js) != `""` {
		t.Errorf("empty = %s", js)
	}
}

func TestBitmapJSONErrors(t *testing.T) {
	for _, in := range []string{`"not base64!"`, `12`, `{}`} {
		var b Bitmap
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			t.Errorf("Unmarshal(%s): no error", in)
		}
	}
	// A last word cut short is fine: "AQAA" is bytes 1, 0, 0: {0}.
	var b Bitmap
	if err := json.Unmarshal([]byte(`"AQAA"`), &b); err != nil || !b.Equal(NewBitmap(0)) {
		t.Errorf("AQAA: %v %v", b.Seqs(), err)
	}
	err := json.Unmarshal([]byte(`12`), &b)
	if err == nil || !strings.Contains(err.Error(), "bitmap: want a base64 string") {
		t.Errorf("12: %v", err)
	}
}

// TestBitmapProperties checks against a map-based set: Set's "already",
// Count, CountBelow, Has, Max, Or, AndCount and the JSON round trip.
func TestBitmapProperties(t *testing.T) {
	f := func(xs, ys []uint16, n uint16) bool {
		a, b := &Bitmap{}, &Bitmap{}
		sa, sb := map[int]bool{}, map[int]bool{}
		for _, x := range xs {
			if a.Set(int(x)) != sa[int(x)] {
				return false
			}
			sa[int(x)] = true
		}
		for _, y := range ys {
			b.Set(int(y))
			sb[int(y)] = true
		}
		if a.Count() != len(sa) {
			return false
		}
		below, both, maxA := 0, 0, -1
		for x := range sa {
			if x < int(n) {
				below++
			}
			if sb[x] {
				both++
			}
			maxA = max(maxA, x)
		}
		if a.CountBelow(int(n)) != below || a.AndCount(b) != both || b.AndCount(a) != both || a.Max() != maxA {
			return false
		}
		for i := 0; i < 70000; i += 97 {
			if a.Has(i) != sa[i] {
				return false
			}
		}
		js, err := json.Marshal(a)
		if err != nil {
			return false
		}
		var back Bitmap
		if err := json.Unmarshal(js, &back); err != nil || !back.Equal(a) || back.Count() != a.Count() {
			return false
		}
		u := a.Clone()
		u.Or(b)
		union := map[int]bool{}
		for x := range sa {
			union[x] = true
		}
		for y := range sb {
			union[y] = true
		}
		seqs := make([]int, 0, len(union))
		for x := range union {
			seqs = append(seqs, x)
		}
		sort.Ints(seqs)
		got := u.Seqs()
		if len(seqs) == 0 {
			return len(got) == 0 && u.Count() == 0
		}
		return reflect.DeepEqual(got, seqs) && a.Count() == len(sa)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 500, Rand: nil}); err != nil {
		t.Error(err)
	}
	// Dense random sets round trip too.
	r := rand.New(rand.NewPCG(9, 9))
	for iter := 0; iter < 50; iter++ {
		b := &Bitmap{}
		for i := 0; i < r.IntN(20000); i++ {
			b.Set(r.IntN(12000))
		}
		js, _ := json.Marshal(b)
		var back Bitmap
		if err := json.Unmarshal(js, &back); err != nil || !back.Equal(b) {
			t.Fatalf("round trip of %d seqs: %v", b.Count(), err)
		}
	}
}

func base64Len(n int) int { return (n + 2) / 3 * 4 }
