package alert

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// Replay cycles over the alerts of an Avro object container file (OCF),
// for example a sample of real alerts. It is not safe for concurrent use.
type Replay struct {
	path   string
	f      *os.File
	ocf    *goavro.OCFReader
	n      int // records read in this pass
	passes int
}

// ReplayCodecs are the Avro container file codecs (avro.codec) that
// OpenReplay reads: goavro v2.15's. Others (bzip2, xz, zstandard) are
// refused at open, by name.
var ReplayCodecs = []string{goavro.CompressionNullLabel, goavro.CompressionDeflateLabel, goavro.CompressionSnappyLabel}

// ocfCodec reads the header of an Avro object container file (magic, then
// the metadata map) and returns its avro.codec ("null" when absent, as
// the specification says). ok is false when r is not such a file or its
// header is damaged: goavro's reader then says what is wrong.
func ocfCodec(r *bufio.Reader) (codec string, ok bool) {
	magic := make([]byte, 4)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != "Obj\x01" {
		return "", false
	}
	codec = goavro.CompressionNullLabel
	const maxEntry = 64 << 20 // a schema is large, not this large
	readBytes := func() ([]byte, bool) {
		n, err := binary.ReadVarint(r)
		if err != nil || n < 0 || n > maxEntry {
			return nil, false
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, false
		}
		return b, true
	}
	for {
		count, err := binary.ReadVarint(r) // Avro longs are zig-zag varints
		if err != nil {
			return "", false
		}
		if count == 0 {
			return codec, true
		}
		if count < 0 { // a block with its size in bytes next
			count = -count
			if _, err := binary.ReadVarint(r); err != nil {
				return "", false
			}
		}
		for ; count > 0; count-- {
			k, ok1 := readBytes()
			v, ok2 := readBytes()
			if !ok1 || !ok2 {
				return "", false
			}
			if string(k) == "avro.codec" {
				codec = string(v)
			}
		}
	}
}

// OpenReplay opens an Avro object container file of alerts (null, deflate
// or snappy compressed, see ReplayCodecs; any record schema). Encode its alerts with a Codec
// made from its own schema: NewCodecForSchema(id, r.Schema()).
func OpenReplay(path string) (*Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("alert: replay: %w", err)
	}
	if codec, ok := ocfCodec(bufio.NewReader(f)); ok && !slices.Contains(ReplayCodecs, codec) {
		f.Close()
		return nil, fmt.Errorf("alert: replay %s: Avro container file compressed with codec %q, which this reader cannot read (it reads %s): re-encode it with one of those",
			path, codec, strings.Join(ReplayCodecs, ", "))
	}
	r := &Replay{path: path, f: f}
	if err := r.rewind(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func (r *Replay) rewind() error {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("alert: replay %s: %w", r.path, err)
	}
	ocf, err := goavro.NewOCFReader(bufio.NewReaderSize(r.f, 1<<20))
	if err != nil {
		return fmt.Errorf("alert: replay %s: not an Avro object container file: %w", r.path, err)
	}
	r.ocf, r.n = ocf, 0
	return nil
}

// Schema returns the writer schema of the file.
func (r *Replay) Schema() string { return r.ocf.Codec().Schema() }

// Passes returns how many times Next has gone back to the start of the file.
func (r *Replay) Passes() int { return r.passes }

// Next returns the next alert of the file in goavro's native form; after
// the last one it starts again from the first. A file without any alert
// is an error.
func (r *Replay) Next() (map[string]any, error) {
	for {
		if r.ocf.Scan() {
			v, err := r.ocf.Read()
			if err != nil {
				return nil, fmt.Errorf("alert: replay %s: record %d: %w", r.path, r.n, err)
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("alert: replay %s: record %d is %T, not a record", r.path, r.n, v)
			}
			r.n++
			return m, nil
		}
		if err := r.ocf.Err(); err != nil {
			return nil, fmt.Errorf("alert: replay %s: record %d: %w", r.path, r.n, err)
		}
		if r.n == 0 {
			return nil, fmt.Errorf("alert: replay %s: the file holds no alerts", r.path)
		}
		if err := r.rewind(); err != nil {
			return nil, err
		}
		r.passes++
	}
}

// Close closes the file.
func (r *Replay) Close() error { return r.f.Close() }

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
