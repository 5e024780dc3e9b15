package alert

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/linkedin/goavro/v2"
)

// Replay modes, as DMTN-149's alert stream simulator has them.
const (
	// ReplaySinglePass sends the file once, alerts_per_visit a visit, the
	// last visit what is left.
	ReplaySinglePass = "single-pass"
	// ReplayInfinite repeats the file until the last visit, each pass
	// after the first shifted (Shift) so that no two alerts are the same.
	ReplayInfinite = "infinite"
)

// SinglePassVisits is how many visits a single pass of a file of records
// fills at alertsPerVisit a visit (the last with what is left).
func SinglePassVisits(records, alertsPerVisit int) int {
	return (records + alertsPerVisit - 1) / alertsPerVisit
}

// Replay reads the records of an Avro object container file (a sample of
// real alerts, in any schema) in order, from any record on: the host-side
// source of alert-producer --replay. Records are the file's bytes
// (OCFReader). It is not safe for concurrent use.
type Replay struct {
	path string
	f    io.ReadSeekCloser
	r    *OCFReader
	next int // index of the record Record reads next
}

// OpenReplay opens an Avro object container file of alerts (any codec of
// OCFCodecs, any record schema).
func OpenReplay(path string) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("alert: replay: %w", err)
	}
	rp := &Replay{path: path, f: f}
	if err := rp.rewind(); err != nil {
		f.Close()
		return nil, err
	}
	return rp, nil
}

func (rp *Replay) rewind() error {
	if _, err := rp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("alert: replay %s: %w", rp.path, err)
	}
	r, err := NewOCFReader(rp.path, rp.f)
	if err != nil {
		return err
	}
	rp.r, rp.next = r, 0
	return nil
}

// Schema returns the writer schema of the file.
func (rp *Replay) Schema() string { return rp.r.Schema() }

// Record returns record i of the file (0-based), as the file holds it. It
// reads on from the last record returned, and from the start again for an
// earlier one: sequential use is cheap. Past the last record it returns an
// error wrapping io.EOF.
func (rp *Replay) Record(i int) ([]byte, error) {
	if i < rp.next {
		if err := rp.rewind(); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := rp.r.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("alert: replay %s: no record %d, the file holds %d: %w", rp.path, i, rp.next, io.EOF)
		}
		if err != nil {
			return nil, err
		}
		rp.next++
		if rp.next-1 == i {
			return rec, nil
		}
	}
}

// Close closes the file.
func (rp *Replay) Close() error { return rp.f.Close() }

// WriteOCF writes alerts (native form, AlertSchema) to w as an Avro object
// container file, deflate-compressed.
func WriteOCF(w io.Writer, alerts []map[string]any) error {
	ow, err := goavro.NewOCFWriter(goavro.OCFConfig{W: w, Schema: alertSchema, CompressionName: goavro.CompressionDeflateLabel})
	if err != nil {
		return fmt.Errorf("alert: writing OCF: %w", err)
	}
	if len(alerts) == 0 {
		return nil // the header alone; goavro's reader rejects an empty block
	}
	data := make([]any, len(alerts))
	for i, a := range alerts {
		data[i] = a
	}
	if err := ow.Append(data); err != nil {
		return fmt.Errorf("alert: writing OCF: %w", err)
	}
	return nil
}
