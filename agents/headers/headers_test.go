package headers

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func ptrs(hs []sarama.RecordHeader) []*sarama.RecordHeader {
	out := make([]*sarama.RecordHeader, len(hs))
	for i := range hs {
		out[i] = &hs[i]
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	m := Meta{Run: "r1", Visit: 7, Producer: 3, Seq: 9999, Intended: time.Unix(1700000000, 123456789), Produced: time.Unix(1700000001, 5)}
	got, err := Parse(ptrs(m.Headers()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Run != m.Run || got.Visit != 7 || got.Producer != 3 || got.Seq != 9999 || !got.Intended.Equal(m.Intended) || !got.Produced.Equal(m.Produced) {
		t.Fatalf("got %+v, want %+v", got, m)
	}
}

func TestMissingAndBadHeaders(t *testing.T) {
	m := Meta{Run: "r1", Visit: 1, Producer: 0, Seq: 1, Intended: time.Unix(1, 0)}
	hs := m.Headers()
	if _, err := Parse(ptrs(hs[1:])); err == nil {
		t.Fatal("record without a run id accepted")
	}
	hs[3].Value = []byte("x1")
	if _, err := Parse(ptrs(hs)); err == nil || err.Error() != `header testbed.seq="x1": not an integer` {
		t.Fatalf("got %v", err)
	}
}
