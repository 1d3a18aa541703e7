package region

import (
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/nodepeer"
)

// The land is 256 flat patches at TerrainHeight, each once, in datagrams well under the MTU.
func TestFlatLandDecodesToEveryPatchAtTerrainHeight(t *testing.T) {
	pkts := flatLandPackets(256, 256, TerrainHeight)
	require.Len(t, pkts, 2)
	seen := map[[2]int]bool{}
	for _, m := range pkts {
		wire := lludp.Encode(nil, lludp.FlagReliable, 1, m, nil)
		assert.Less(t, len(wire), 1200, "a LayerData datagram must fit the MTU")
		var back lludp.LayerData
		_, body := wire, m.AppendBody(nil)
		require.NoError(t, back.DecodeBody(body))
		patches, err := DecodeLand(&back)
		require.NoError(t, err)
		for _, p := range patches {
			assert.False(t, seen[[2]int{p.X, p.Y}], "patch %d,%d sent twice", p.X, p.Y)
			seen[[2]int{p.X, p.Y}] = true
			for _, h := range p.Heights {
				require.Equal(t, float32(TerrainHeight), h, "patch %d,%d", p.X, p.Y)
			}
		}
	}
	assert.Len(t, seen, 256, "every 16×16 patch of a 256 m region")
}

// The first bytes, worked out by hand from the viewer's bit unpacking: stride 264 (low byte
// first: 08 01), patch size 16, type 'L'; then patch 0,0: quant bits 0x84, DC offset 20.5
// (float 0x41A40000, low byte first), range 1 (01 00), patch ID 0 (10 bits) and the 2-bit
// end-of-block code 10.
func TestFlatLandBitLayout(t *testing.T) {
	d := flatLandPackets(256, 256, TerrainHeight)[0].Data
	assert.Equal(t, "0801104c840000a441010000", hex.EncodeToString(d[:12]))
	assert.Equal(t, byte(0x2), d[12]>>4, "patch ID's last 2 bits (00), then end of block (10)")
	last := flatLandPackets(256, 256, TerrainHeight)[1].Data
	// 128 patches of 68 bits end on a byte boundary (8704 bits) after the 32-bit group header,
	// so END_OF_PATCHES (97) is the last byte.
	assert.Equal(t, byte(97), last[len(last)-1])
}

func TestDecodeLandRefusesBadData(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    lludp.LayerData
		want string
	}{
		{"wind, not land", lludp.LayerData{Type: '7', Data: []byte{8, 1, 16, '7'}}, "not land"},
		{"empty", lludp.LayerData{Type: 'L'}, "ends early"},
		{"wrong stride", lludp.LayerData{Type: 'L', Data: []byte{9, 1, 16, 'L', 97}}, "stride"},
		{"no end of patches", lludp.LayerData{Type: 'L', Data: []byte{8, 1, 16, 'L', 0x84}}, "ends early"},
	} {
		_, err := DecodeLand(&tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// nodeTerrainDecoder decodes land LayerData with node-metaverse's own BitPack, dequantisation
// tables and inverse DCT (its Region.js LayerData handler), printing the minimum, maximum and
// count of heights it reconstructs.
const nodeTerrainDecoder = `
const path = require('path');
const base = path.join(process.env.NMV, 'node_modules/@caspertech/node-metaverse/dist/lib/classes');
const { BitPack } = require(path.join(base, 'BitPack'));
const { Region } = require(path.join(base, 'Region'));
if (Region.CopyMatrix16.length === 0) Region.InitialSetup(); // as a Region's constructor does
let min = Infinity, max = -Infinity, n = 0;
const seen = new Set();
for (const h of process.argv.slice(1)) {
  const nib = new BitPack(Buffer.from(h, 'hex'), 0);
  nib.UnpackBits(16); const patchSize = nib.UnpackBits(8); nib.UnpackBits(8);
  for (;;) {
    const q = nib.UnpackBits(8); if (q === 97) break;
    const dc = nib.UnpackFloat(); const range = nib.UnpackBits(16); const ids = nib.UnpackBits(10);
    const wordBits = (q & 0x0f) + 2; seen.add(ids);
    const patches = new Array(256).fill(0);
    for (let i = 0; i < 256; i++) {
      if (nib.UnpackBits(1) === 0) continue;
      if (nib.UnpackBits(1) === 0) break;
      const neg = nib.UnpackBits(1); const v = nib.UnpackBits(wordBits); patches[i] = neg ? -v : v;
    }
    const prequant = (q >> 4) + 2, mult = range / (1 << prequant), add = mult * (1 << (prequant - 1)) + dc;
    const block = []; for (let i = 0; i < 256; i++) block.push(patches[Region.CopyMatrix16[i]] * Region.DequantizeTable16[i]);
    const ftemp = []; for (let i = 0; i < 256; i++) ftemp.push(i);
    for (let o = 0; o < 16; o++) Region.IDCTColumn16(block, ftemp, o);
    for (let o = 0; o < 16; o++) Region.IDCTLine16(ftemp, block, o);
    for (const b of block) { const v = b * mult + add; min = Math.min(min, v); max = Math.max(max, v); n++; }
  }
}
console.log(JSON.stringify({min, max, n, patches: seen.size}));
`

// TestFlatLandWithNodeMetaverseDecoder checks the encoding against an independent decoder.
func TestFlatLandWithNodeMetaverseDecoder(t *testing.T) {
	dir, node := nodepeer.Require(t)
	args := []string{"-e", nodeTerrainDecoder}
	for _, m := range flatLandPackets(256, 256, TerrainHeight) {
		args = append(args, hex.EncodeToString(m.Data))
	}
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NMV="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, `{"min":21,"max":21,"n":65536,"patches":256}`, strings.TrimSpace(string(out)))
}
