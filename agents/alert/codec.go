package alert

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/linkedin/goavro/v2"
)

// HeaderSize is the length of the Confluent wire-format header: the magic
// byte and the 4-byte big-endian schema id.
const HeaderSize = 5

// MagicByte is the first byte of every Confluent wire-format message.
const MagicByte byte = 0

// Errors returned by Decode and SchemaIDOf, wrapped with the details (test
// them with errors.Is).
var (
	ErrShortMessage = errors.New("alert: message too short for the wire-format header")
	ErrMagicByte    = errors.New("alert: bad magic byte")
	ErrSchemaID     = errors.New("alert: schema id mismatch")
)

// Codec serializes alerts to, and parses them from, the Confluent wire
// format with one Avro schema and one schema id. A Codec is safe for
// concurrent use by many goroutines (goavro codecs keep no mutable state).
type Codec struct {
	id     uint32
	schema string
	avro   *goavro.Codec
}

// NewCodec returns a Codec for the testbed's alert schema (AlertSchema)
// registered under schemaID.
func NewCodec(schemaID uint32) (*Codec, error) {
	return NewCodecForSchema(schemaID, alertSchema)
}

// NewCodecForSchema returns a Codec for another Avro schema, for example
// the writer schema of a replayed file of real alerts (Replay.Schema).
func NewCodecForSchema(schemaID uint32, schema string) (*Codec, error) {
	c, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, fmt.Errorf("alert: parsing Avro schema: %w", err)
	}
	return &Codec{id: schemaID, schema: schema, avro: c}, nil
}

// SchemaID returns the schema id written into, and expected in, every
// message header.
func (c *Codec) SchemaID() uint32 { return c.id }

// Schema returns the Avro schema text, as given.
func (c *Codec) Schema() string { return c.schema }

// Append appends the framed message for native (header, then the Avro
// binary body) to dst and returns the extended slice. goavro writes the body
// straight into the returned slice: the cutouts are copied once, from the
// native form into the message. On error dst is returned unchanged in
// length.
func (c *Codec) Append(dst []byte, native map[string]any) ([]byte, error) {
	n := len(dst)
	out, err := c.avro.BinaryFromNative(Frame(dst, c.id, nil), native)
	if err != nil {
		return dst[:n], fmt.Errorf("alert: encoding Avro body: %w", err)
	}
	return out, nil
}

// Frame appends the framed message of an Avro body already encoded (a
// replayed record, as its file holds it) to dst: the header with schemaID,
// then body as it is.
func Frame(dst []byte, schemaID uint32, body []byte) []byte {
	dst = append(dst, MagicByte, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[len(dst)-4:], schemaID)
	return append(dst, body...)
}

// Decode parses one framed message. It checks the magic byte and that the
// schema id is this Codec's, and that the Avro body is followed by nothing.
// Byte values in the result (the cutouts) alias framed: copy them if framed
// is reused.
func (c *Codec) Decode(framed []byte) (map[string]any, error) {
	body, err := Body(framed, c.id)
	if err != nil {
		return nil, err
	}
	v, rest, err := c.avro.NativeFromBinary(body)
	if err != nil {
		return nil, fmt.Errorf("alert: decoding Avro body (schema id %d): %w", c.id, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("alert: decoding Avro body (schema id %d): %d trailing bytes", c.id, len(rest))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("alert: decoding Avro body (schema id %d): got %T, not a record", c.id, v)
	}
	return m, nil
}

// Body checks the wire-format header of framed (ErrShortMessage,
// ErrMagicByte) and that its schema id is schemaID (ErrSchemaID), and
// returns the Avro body after it, for any decoder of one schema.
func Body(framed []byte, schemaID uint32) ([]byte, error) {
	id, err := SchemaIDOf(framed)
	if err != nil {
		return nil, err
	}
	if id != schemaID {
		return nil, fmt.Errorf("%w: message has %d, codec expects %d", ErrSchemaID, id, schemaID)
	}
	return framed[HeaderSize:], nil
}

// SchemaIDOf checks the wire-format header of framed and returns its schema
// id, for consumers that pick a Codec by id.
func SchemaIDOf(framed []byte) (uint32, error) {
	if len(framed) < HeaderSize {
		return 0, fmt.Errorf("%w: %d bytes, need at least %d", ErrShortMessage, len(framed), HeaderSize)
	}
	if framed[0] != MagicByte {
		return 0, fmt.Errorf("%w: got 0x%02x, want 0x%02x", ErrMagicByte, framed[0], MagicByte)
	}
	return binary.BigEndian.Uint32(framed[1:HeaderSize]), nil
}
