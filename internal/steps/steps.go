// Package steps prints a pipeline of named steps, one status line as each
// starts (a bullet and the title) and one as it ends (a check mark or a
// cross, the title, what the step found, how long it took), in the manner of
// kind's `create cluster`.
package steps

import (
	"fmt"
	"io"
	"time"
)

// Printer writes step lines to W.
type Printer struct {
	W io.Writer
	// Changed is set when any step reported that it changed something.
	Changed bool
}

// Step is the handle a running step reports through.
type Step struct {
	detail    string
	unchanged bool
	check     bool
}

// Detail sets the text shown in brackets on the step's end line.
func (s *Step) Detail(format string, args ...any) { s.detail = fmt.Sprintf(format, args...) }

// Unchanged marks the step as having found everything already in place.
func (s *Step) Unchanged() { s.unchanged = true }

// Check marks the step as one that only looks (a health check): it
// changes nothing and its line does not say "unchanged".
func (s *Step) Check() { s.check = true }

// Run runs fn as the step named title.
func (p *Printer) Run(title string, fn func(*Step) error) error {
	fmt.Fprintf(p.W, " • %s ...\n", title)
	start := time.Now()
	s := &Step{}
	err := fn(s)
	d := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		fmt.Fprintf(p.W, " ✗ %s (failed after %s)\n", title, d)
		return err
	}
	if !s.unchanged && !s.check {
		p.Changed = true
	}
	detail := s.detail
	if s.unchanged {
		if detail != "" {
			detail = "unchanged: " + detail
		} else {
			detail = "unchanged"
		}
	}
	if detail != "" {
		fmt.Fprintf(p.W, " ✓ %s (%s) %s\n", title, detail, d)
	} else {
		fmt.Fprintf(p.W, " ✓ %s %s\n", title, d)
	}
	return nil
}

// Count says n of a regular noun for step titles and details: "1 round",
// "4 rounds", "0 rounds".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
