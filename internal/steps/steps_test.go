package steps

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
)

func TestStepLines(t *testing.T) {
	var buf bytes.Buffer
	p := &Printer{W: &buf}
	p.Run("Looking", func(s *Step) error { s.Check(); s.Detail("3 voters"); return nil })
	if p.Changed {
		t.Fatal("a check step counted as a change")
	}
	p.Run("Building", func(s *Step) error { s.Unchanged(); s.Detail("cached"); return nil })
	if p.Changed {
		t.Fatal("an unchanged step counted as a change")
	}
	p.Run("Creating", func(s *Step) error { return nil })
	if !p.Changed {
		t.Fatal("a step that changed something was not counted")
	}
	err := p.Run("Failing", func(s *Step) error { return errors.New("boom") })
	if err == nil || err.Error() != "boom" {
		t.Fatalf("error not passed through: %v", err)
	}
	want := `^ • Looking \.\.\.
 ✓ Looking \(3 voters\) 0s
 • Building \.\.\.
 ✓ Building \(unchanged: cached\) 0s
 • Creating \.\.\.
 ✓ Creating 0s
 • Failing \.\.\.
 ✗ Failing \(failed after 0s\)
$`
	if !regexp.MustCompile(want).MatchString(buf.String()) {
		t.Fatalf("output:\n%s", buf.String())
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 rounds", 1: "1 round", 4: "4 rounds"} {
		if got := Count(n, "round"); got != want {
			t.Errorf("Count(%d, round) = %q, want %q", n, got, want)
		}
	}
}
