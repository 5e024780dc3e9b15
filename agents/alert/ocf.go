package alert

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/linkedin/goavro/v2"
	"github.com/ulikunitz/xz"
)

// OCFCodecs are the Avro object container file codecs (avro.codec) that
// OCFReader reads: every codec of the Avro 1.12 specification. The
// decompressors are the standard library's (deflate, bzip2), golang/snappy,
// klauspost/compress (zstandard) and ulikunitz/xz.
var OCFCodecs = []string{"null", "deflate", "snappy", "bzip2", "xz", "zstandard"}

// maxOCFEntry bounds a header metadata entry and a block: a schema is
// large, a block of alerts may be (fastavro's default sync interval is
// 16 KB, Java's 64 KB, but a writer may put a whole file in one block), not
// this large.
const maxOCFEntry = 1 << 30

// OCFReader reads the records of an Avro object container file as they
// are in the file: each record's Avro binary encoding, byte for byte, under
// the file's writer schema. goavro's own reader decodes them to Go values,
// which do not encode back to the same bytes in every case (a map's keys
// in another order, an array written in several blocks); a replay must
// send what the file holds. It is not safe for concurrent use.
type OCFReader struct {
	path   string
	r      *bufio.Reader
	schema string
	codec  string
	sync   [16]byte
	avro   *goavro.Codec
	block  []byte // the rest of the current block, decompressed
	left   int64  // records left in the current block
	n      int    // records returned
	zstd   *zstd.Decoder
}

// OpenOCF opens path and reads its header. The error names the file and
// what is wrong: not an Avro container file, a codec outside OCFCodecs, a
// writer schema goavro cannot parse.
func OpenOCF(path string) (*OCFReader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("alert: replay: %w", err)
	}
	r, err := NewOCFReader(path, f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// NewOCFReader reads the header of the container file in rd; name is what
// errors call it.
func NewOCFReader(name string, rd io.Reader) (*OCFReader, error) {
	r := &OCFReader{path: name, r: bufio.NewReaderSize(rd, 1<<20)}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(r.r, magic); err != nil || string(magic) != "Obj\x01" {
		return nil, fmt.Errorf("alert: replay %s: not an Avro object container file (it does not begin with Obj 1)", name)
	}
	meta := map[string][]byte{}
	for {
		count, err := binary.ReadVarint(r.r) // Avro longs are zig-zag varints
		if err != nil {
			return nil, r.damaged("header", err)
		}
		if count == 0 {
			break
		}
		if count < 0 { // a block with its size in bytes next
			count = -count
			if _, err := binary.ReadVarint(r.r); err != nil {
				return nil, r.damaged("header", err)
			}
		}
		for ; count > 0; count-- {
			k, err := r.readBytes()
			if err != nil {
				return nil, r.damaged("header", err)
			}
			v, err := r.readBytes()
			if err != nil {
				return nil, r.damaged("header", err)
			}
			meta[string(k)] = v
		}
	}
	if _, err := io.ReadFull(r.r, r.sync[:]); err != nil {
		return nil, r.damaged("header's sync marker", err)
	}
	r.codec = "null"
	if c, ok := meta["avro.codec"]; ok && len(c) > 0 {
		r.codec = string(c)
	}
	if !slices.Contains(OCFCodecs, r.codec) {
		return nil, fmt.Errorf("alert: replay %s: Avro container file compressed with codec %q, which is not one of the specification's (%s)",
			name, r.codec, strings.Join(OCFCodecs, ", "))
	}
	r.schema = string(meta["avro.schema"])
	if r.schema == "" {
		return nil, fmt.Errorf("alert: replay %s: the container file's header has no avro.schema", name)
	}
	c, err := goavro.NewCodec(r.schema)
	if err != nil {
		return nil, fmt.Errorf("alert: replay %s: the file's writer schema: %w", name, err)
	}
	r.avro = c
	return r, nil
}

func (r *OCFReader) damaged(where string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("alert: replay %s: damaged Avro container file (%s): %w", r.path, where, err)
}

// readBytes reads an Avro bytes value: a long length, then the bytes.
func (r *OCFReader) readBytes() ([]byte, error) {
	n, err := binary.ReadVarint(r.r)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxOCFEntry {
		return nil, fmt.Errorf("a length of %d bytes", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r.r, b)
	return b, err
}

// Schema returns the file's writer schema, as its header holds it.
func (r *OCFReader) Schema() string { return r.schema }

// Codec returns the file's avro.codec ("null" when the header has none).
func (r *OCFReader) Codec() string { return r.codec }

// Next returns the next record's Avro binary encoding, as the file holds
// it. The slice is the caller's. At the end of the file it returns io.EOF.
func (r *OCFReader) Next() ([]byte, error) {
	rec, _, err := r.next()
	return rec, err
}

// next returns the next record's encoding and its goavro native form: a
// record's length is known only by decoding it.
func (r *OCFReader) next() ([]byte, any, error) {
	for r.left == 0 {
		if err := r.nextBlock(); err != nil {
			return nil, nil, err
		}
	}
	v, rest, err := r.avro.NativeFromBinary(r.block)
	if err != nil {
		return nil, nil, fmt.Errorf("alert: replay %s: record %d does not decode with the file's schema: %w", r.path, r.n, err)
	}
	rec := bytes.Clone(r.block[:len(r.block)-len(rest)])
	r.block, r.left, r.n = rest, r.left-1, r.n+1
	if r.left == 0 && len(r.block) != 0 {
		return nil, nil, fmt.Errorf("alert: replay %s: %d bytes after the last record of a block", r.path, len(r.block))
	}
	return rec, v, nil
}

// blockHeader reads the next block's record count and byte size; io.EOF
// after the last block. after is the records before it, for errors.
func (r *OCFReader) blockHeader(after int) (count, size int64, err error) {
	count, err = binary.ReadVarint(r.r)
	if errors.Is(err, io.EOF) {
		return 0, 0, io.EOF
	}
	if err == nil {
		size, err = binary.ReadVarint(r.r)
	}
	if err == nil && (count < 0 || size < 0 || size > maxOCFEntry) {
		err = fmt.Errorf("%d records in %d bytes", count, size)
	}
	if err != nil {
		return 0, 0, r.blockDamaged(after, err)
	}
	return count, size, nil
}

func (r *OCFReader) blockDamaged(after int, err error) error {
	return r.damaged(fmt.Sprintf("block after record %d", after), err)
}

// nextBlock reads and decompresses the next block; io.EOF after the last.
func (r *OCFReader) nextBlock() error {
	count, size, err := r.blockHeader(r.n)
	if err != nil {
		return err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r.r, data); err != nil {
		return r.blockDamaged(r.n, err)
	}
	var sync [16]byte
	if _, err := io.ReadFull(r.r, sync[:]); err != nil {
		return r.blockDamaged(r.n, err)
	}
	if sync != r.sync {
		return r.blockDamaged(r.n, errors.New("its sync marker is not the header's"))
	}
	if r.block, err = r.decompress(data); err != nil {
		return fmt.Errorf("alert: replay %s: block after record %d: %s: %w", r.path, r.n, r.codec, err)
	}
	r.left = count
	return nil
}

// decompress undoes the block codec, as the Avro specification defines
// each: deflate is RFC 1951 without a zlib header; snappy's block is
// followed by the big-endian CRC-32 of the uncompressed data.
func (r *OCFReader) decompress(data []byte) ([]byte, error) {
	switch r.codec {
	case "null":
		return data, nil
	case "deflate":
		return io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	case "snappy":
		if len(data) < 4 {
			return nil, errors.New("shorter than its checksum")
		}
		out, err := snappy.Decode(nil, data[:len(data)-4])
		if err != nil {
			return nil, err
		}
		if crc32.ChecksumIEEE(out) != binary.BigEndian.Uint32(data[len(data)-4:]) {
			return nil, errors.New("CRC-32 checksum mismatch")
		}
		return out, nil
	case "bzip2":
		return io.ReadAll(bzip2.NewReader(bytes.NewReader(data)))
	case "xz":
		x, err := xz.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(x)
	case "zstandard":
		if r.zstd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			r.zstd = d
		}
		return r.zstd.DecodeAll(data, nil)
	}
	return nil, fmt.Errorf("codec %q", r.codec)
}

// OCFInfo is what ScanOCF learns of a container file.
type OCFInfo struct {
	Schema  string // the writer schema
	Codec   string // avro.codec
	Records int
	// MaxRecord is the largest record's Avro encoding, in bytes.
	MaxRecord int
	Bytes     int64 // the records' encodings, summed
	Shift     Shift // what a pass after the first adds (ReplayShift)
}

// ScanOCF reads every record of the file, decoding each once: it checks
// that each decodes with the writer schema and returns their count, sizes
// and the shift of a pass (Shift). A file without records is an error.
func ScanOCF(path string) (OCFInfo, error) {
	r, c, err := OpenOCF(path)
	if err != nil {
		return OCFInfo{}, err
	}
	defer c.Close()
	info := OCFInfo{Schema: r.Schema(), Codec: r.Codec()}
	sh := newShiftScan()
	for {
		rec, v, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return OCFInfo{}, err
		}
		info.Records++
		info.Bytes += int64(len(rec))
		info.MaxRecord = max(info.MaxRecord, len(rec))
		sh.add(v)
	}
	if info.Records == 0 {
		return OCFInfo{}, fmt.Errorf("alert: replay %s: the file holds no alerts", path)
	}
	info.Shift = sh.shift()
	return info, nil
}

// CountOCF returns how many records the container file holds, from its
// blocks' counts, without decompressing or decoding them.
func CountOCF(path string) (int, error) {
	r, c, err := OpenOCF(path)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n := 0
	for {
		count, size, err := r.blockHeader(n)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if _, err := r.r.Discard(int(size) + 16); err != nil { // the block and its sync marker
			return 0, r.blockDamaged(n, err)
		}
		n += int(count)
	}
}
