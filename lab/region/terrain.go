package region

import (
	"errors"
	"fmt"
	"math"

	"gridlab/lab/lludp"
)

// Terrain: the region sends its land as LayerData after AgentMovementComplete, as OpenSim's
// Scene.SendLayerData does, in the patch-compressed form the viewer decodes (llpatch_code.cpp,
// LibreMetaverse TerrainCompressor): a group header (stride 264, patch size 16, type 'L'), then
// per 16×16 patch a header — quant word bits (8), DC offset (float, 32), range (16), patch ID
// (10: x<<5 | y) — and its DCT coefficients, then END_OF_PATCHES (97) where the next header's
// quant word bits would be. Bits are packed most significant first; fields wider than a byte go
// low byte first, as LLBitPack does.
//
// gridlab's land is flat: every sample at TerrainHeight. A patch is then exactly representable
// with no coefficients at all: the decoder turns an all-zero block into
// DCOffset + Range·2^(prequant-1)/2^prequant = DCOffset + Range/2, so each patch is written with
// Range 1 and DCOffset TerrainHeight − 0.5, and its coefficients as one end-of-block code —
// what the compressor itself emits for that header, since the centred samples are all zero.

// TerrainHeight is the height of gridlab's flat land, OpenSim's default flat terrain (metres).
const TerrainHeight = 21

const (
	layerLand      = 'L'
	landStride     = 264
	patchSize      = 16
	endOfPatches   = 97
	zeroEOB        = 0x2 // 2 bits: the rest of the block is zero
	flatQuantWBits = 0x84
	patchesPerPkt  = 128 // 128 flat patches are 1,093 bytes: one datagram well under the MTU
)

// bitWriter packs bits as LLBitPack does.
type bitWriter struct {
	b   []byte
	bit int // bits used in the last byte (0 = start a new byte)
}

// bits appends the n low bits of v: whole bytes low byte first, each byte (and the last,
// partial one) most significant bit first.
func (w *bitWriter) bits(v uint32, n int) {
	for n > 0 {
		c := min(n, 8)
		byteV := uint8(v)
		for i := c - 1; i >= 0; i-- {
			if w.bit == 0 {
				w.b = append(w.b, 0)
			}
			if byteV&(1<<i) != 0 {
				w.b[len(w.b)-1] |= 0x80 >> w.bit
			}
			w.bit = (w.bit + 1) % 8
		}
		v >>= 8
		n -= c
	}
}

// bitReader is the viewer's side of bitWriter, for tests and for checking what we send.
type bitReader struct {
	b   []byte
	pos int // bit position
}

var errShortLayer = errors.New("layer data ends early")

func (r *bitReader) bits(n int) (uint32, error) {
	var v uint32
	for shift := 0; n > 0; shift += 8 {
		c := min(n, 8)
		var byteV uint32
		for range c {
			if r.pos/8 >= len(r.b) {
				return 0, errShortLayer
			}
			bit := (r.b[r.pos/8] >> (7 - r.pos%8)) & 1
			byteV = byteV<<1 | uint32(bit)
			r.pos++
		}
		v |= byteV << shift
		n -= c
	}
	return v, nil
}

// flatLandPackets returns the LayerData messages that carry a flat region of size metres at
// height h, row by row of patches.
func flatLandPackets(sizeX, sizeY uint32, h float32) []*lludp.LayerData {
	px, py := int(sizeX/patchSize), int(sizeY/patchSize)
	var out []*lludp.LayerData
	var w *bitWriter
	n := 0
	flush := func() {
		w.bits(endOfPatches, 8)
		out = append(out, &lludp.LayerData{Type: layerLand, Data: w.b})
		w, n = nil, 0
	}
	off := math.Float32bits(h - 0.5)
	for y := range py {
		for x := range px {
			if w == nil {
				w = &bitWriter{}
				w.bits(landStride, 16)
				w.bits(patchSize, 8)
				w.bits(layerLand, 8)
			}
			w.bits(flatQuantWBits, 8)
			w.bits(off, 32)
			w.bits(1, 16) // range
			w.bits(uint32(x)<<5|uint32(y)&0x1f, 10)
			w.bits(zeroEOB, 2)
			if n++; n == patchesPerPkt {
				flush()
			}
		}
	}
	if w != nil {
		flush()
	}
	return out
}

// LandPatch is one decoded patch: its position (in patches) and its 16×16 heights, row by row.
type LandPatch struct {
	X, Y    int
	Heights [patchSize * patchSize]float32
}

// DecodeLand decodes a land LayerData body as the viewer does. Patches whose coefficients are
// not all zero are refused: gridlab only sends flat land and does not carry the inverse DCT.
func DecodeLand(m *lludp.LayerData) ([]LandPatch, error) {
	if m.Type != layerLand {
		return nil, fmt.Errorf("layer type %q is not land", m.Type)
	}
	r := &bitReader{b: m.Data}
	stride, err := r.bits(16)
	if err != nil {
		return nil, err
	}
	size, _ := r.bits(8)
	typ, err := r.bits(8)
	if err != nil {
		return nil, err
	}
	if stride != landStride || size != patchSize || typ != layerLand {
		return nil, fmt.Errorf("group header stride %d, patch size %d, type %q; want %d, %d, 'L'", stride, size, rune(typ), landStride, patchSize)
	}
	var out []LandPatch
	for {
		q, err := r.bits(8)
		if err != nil {
			return nil, err
		}
		if q == endOfPatches {
			return out, nil
		}
		offBits, _ := r.bits(32)
		rng, _ := r.bits(16)
		ids, err := r.bits(10)
		if err != nil {
			return nil, err
		}
		wordBits := int(q&0x0f) + 2
		prequant := int(q>>4) + 2
		// Coefficients: 0 = zero, 10 = end of block, 11s = ±value of wordBits bits.
		for i := 0; i < patchSize*patchSize; i++ {
			b, err := r.bits(1)
			if err != nil {
				return nil, err
			}
			if b == 0 {
				continue
			}
			if b, err = r.bits(1); err != nil {
				return nil, err
			}
			if b == 0 {
				break // end of block
			}
			if _, err := r.bits(1 + wordBits); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("patch %d,%d has DCT coefficients; only flat patches are decoded", ids>>5, ids&0x1f)
		}
		mult := float32(rng) / float32(int(1)<<prequant)
		h := mult*float32(int(1)<<(prequant-1)) + math.Float32frombits(offBits)
		p := LandPatch{X: int(ids >> 5), Y: int(ids & 0x1f)}
		for i := range p.Heights {
			p.Heights[i] = h
		}
		out = append(out, p)
	}
}

// sendTerrain sends the land to a client that has just arrived (Scene.SendLayerData).
func (r *Region) sendTerrain(cl *client) {
	if r.land == nil {
		r.land = flatLandPackets(256, 256, TerrainHeight)
	}
	for _, m := range r.land {
		cl.c.SendReliable(m)
	}
}
