package results

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
)

// Bitmap is a growable set of non-negative integers (sequence numbers). The
// zero value is an empty set ready to use; a nil *Bitmap reads as empty.
// In JSON it is a string: the standard base64 of its little-endian uint64
// words, trailing zero bytes dropped (sequence numbers 0..9999: 1,250
// bytes, 1,668 characters).
type Bitmap struct {
	words []uint64
}

// NewBitmap is a bitmap holding seqs.
func NewBitmap(seqs ...int) *Bitmap {
	b := &Bitmap{}
	for _, s := range seqs {
		b.Set(s)
	}
	return b
}

// Set adds i and reports whether it was already there. i must not be
// negative; the bitmap grows to hold it.
func (b *Bitmap) Set(i int) (already bool) {
	if i < 0 {
		panic(fmt.Sprintf("results: Bitmap.Set(%d): negative", i))
	}
	w := i >> 6
	if w >= len(b.words) {
		n := max(w+1, 2*len(b.words))
		if n <= cap(b.words) {
			b.words = b.words[:n]
		} else {
			nw := make([]uint64, w+1, n)
			copy(nw, b.words)
			b.words = nw
		}
	}
	m := uint64(1) << (uint(i) & 63)
	already = b.words[w]&m != 0
	b.words[w] |= m
	return already
}

// Has reports whether i is in the set.
func (b *Bitmap) Has(i int) bool {
	if b == nil || i < 0 || i>>6 >= len(b.words) {
		return false
	}
	return b.words[i>>6]&(uint64(1)<<(uint(i)&63)) != 0
}

// Count is the number of elements.
func (b *Bitmap) Count() int {
	if b == nil {
		return 0
	}
	n := 0
	for _, w := range b.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// CountBelow is the number of elements less than n.
func (b *Bitmap) CountBelow(n int) int {
	if b == nil || n <= 0 {
		return 0
	}
	c := 0
	full := min(n>>6, len(b.words))
	for _, w := range b.words[:full] {
		c += bits.OnesCount64(w)
	}
	if full < len(b.words) && n&63 != 0 {
		c += bits.OnesCount64(b.words[full] & (uint64(1)<<(uint(n)&63) - 1))
	}
	return c
}

// Max is the largest element, -1 for an empty set.
func (b *Bitmap) Max() int {
	if b == nil {
		return -1
	}
	for w := len(b.words) - 1; w >= 0; w-- {
		if b.words[w] != 0 {
			return w<<6 + 63 - bits.LeadingZeros64(b.words[w])
		}
	}
	return -1
}

// Or adds every element of o (in-place union). o may be nil.
func (b *Bitmap) Or(o *Bitmap) {
	if o == nil {
		return
	}
	if len(o.words) > len(b.words) {
		nw := make([]uint64, len(o.words))
		copy(nw, b.words)
		b.words = nw
	}
	for i, w := range o.words {
		b.words[i] |= w
	}
}

// Union is a new bitmap holding the elements of every one of bs (nil ones
// are empty).
func Union(bs ...*Bitmap) *Bitmap {
	u := &Bitmap{}
	for _, b := range bs {
		u.Or(b)
	}
	return u
}

// AndCount is the number of elements in both b and o.
func (b *Bitmap) AndCount(o *Bitmap) int {
	if b == nil || o == nil {
		return 0
	}
	n := 0
	for i := 0; i < min(len(b.words), len(o.words)); i++ {
		n += bits.OnesCount64(b.words[i] & o.words[i])
	}
	return n
}

// Clone is an independent copy of b (empty for nil).
func (b *Bitmap) Clone() *Bitmap {
	if b == nil {
		return &Bitmap{}
	}
	return &Bitmap{words: append([]uint64(nil), b.words...)}
}

// Missing lists the numbers in [0, n) that are not in the set, ascending.
func (b *Bitmap) Missing(n int) []int {
	var out []int
	for i := 0; i < n; i++ {
		if !b.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// Seqs lists the elements, ascending.
func (b *Bitmap) Seqs() []int {
	if b == nil {
		return nil
	}
	var out []int
	for wi, w := range b.words {
		for w != 0 {
			out = append(out, wi<<6+bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
	return out
}

// Equal reports whether b and o hold the same elements.
func (b *Bitmap) Equal(o *Bitmap) bool {
	var bw, ow []uint64
	if b != nil {
		bw = b.words
	}
	if o != nil {
		ow = o.words
	}
	for i := 0; i < max(len(bw), len(ow)); i++ {
		var x, y uint64
		if i < len(bw) {
			x = bw[i]
		}
		if i < len(ow) {
			y = ow[i]
		}
		if x != y {
			return false
		}
	}
	return true
}

// MarshalBinary is the little-endian uint64 words, trailing zero bytes
// dropped (10,000 sequence numbers 0..9999 take 1,250 bytes).
func (b Bitmap) MarshalBinary() ([]byte, error) {
	out := make([]byte, 8*len(b.words))
	for i, w := range b.words {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	n := len(out)
	for n > 0 && out[n-1] == 0 {
		n--
	}
	return out[:n], nil
}

// UnmarshalBinary reads MarshalBinary's form: little-endian uint64 words,
// the last one possibly cut short.
func (b *Bitmap) UnmarshalBinary(data []byte) error {
	b.words = make([]uint64, (len(data)+7)/8)
	var last [8]byte
	for i := range b.words {
		if 8*i+8 <= len(data) {
			b.words[i] = binary.LittleEndian.Uint64(data[8*i:])
		} else {
			copy(last[:], data[8*i:])
			b.words[i] = binary.LittleEndian.Uint64(last[:])
		}
	}
	return nil
}

// MarshalJSON is the base64 of MarshalBinary as a JSON string.
func (b Bitmap) MarshalJSON() ([]byte, error) {
	raw, _ := b.MarshalBinary()
	return json.Marshal(base64.StdEncoding.EncodeToString(raw))
}

// UnmarshalJSON reads MarshalJSON's form.
func (b *Bitmap) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("bitmap: want a base64 string: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bitmap: %w", err)
	}
	return b.UnmarshalBinary(raw)
}
