package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gridlab/lab/lludp/msgs"
)

func newPacketCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "packet",
		Short: "Decode and encode LLUDP datagrams (every message of message_template.msg)",
	}
	var asJSON bool
	dec := &cobra.Command{
		Use:   "decode [--json] HEX...",
		Short: "Print a datagram: flags, sequence, message, blocks and fields, appended acks",
		Long: `Print a datagram given in hex: flags, sequence, message name and number, every block and
field, and the appended acks. Spaces, newlines and colons in the hex are ignored, and several
arguments are joined into one datagram; with no argument the hex is read from stdin.
Malformed input is an error naming the byte offset and what was expected there. --json
prints the shape of shared/protocol/captures/node-metaverse_packet_vectors.jsonl, which
'gridlab packet encode' reads back.`,
		Example: "  gridlab packet decode 40 00000001 00 ffff00f9 ...\n  gridlab packet decode --json 000000000500fffffffb0102000000",
		RunE: func(cmd *cobra.Command, args []string) error {
			in := strings.Join(args, " ")
			if len(args) == 0 {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				in = string(b)
			}
			b, err := parseHex(in)
			if err != nil {
				return err
			}
			p, err := msgs.DecodePacket(b)
			if err != nil {
				return err
			}
			if asJSON {
				js, err := json.MarshalIndent(p, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", js)
				return err
			}
			return printPacket(cmd.OutOrStdout(), p, len(b))
		},
	}
	dec.Flags().BoolVar(&asJSON, "json", false, "print JSON (the shape 'packet encode' reads)")
	enc := &cobra.Command{
		Use:   "encode [JSON]",
		Short: "Build a datagram from JSON (the shape 'packet decode --json' prints) and print its hex",
		Long: `Build a datagram from JSON in the shape 'packet decode --json' prints and print it in hex.
With no argument the JSON is read from stdin. "message" (or "message_id") selects the
message; fields and blocks not given are zero; the datagram is zero-coded exactly when
"flags" has ZEROCODED (0x80).`,
		Example: `  gridlab packet encode '{"message":"CompletePingCheck","fields":{"PingID":{"PingID":7}}}'`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var src []byte
			if len(args) == 1 {
				src = []byte(args[0])
			} else {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				src = b
			}
			var p msgs.Packet
			if err := json.Unmarshal(src, &p); err != nil {
				return fmt.Errorf("packet JSON: %w", err)
			}
			b, err := p.AppendTo(nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(b))
			return err
		},
	}
	cmd.AddCommand(dec, enc)
	return cmd
}

// parseHex reads hex digits, ignoring white space, colons and a leading 0x; an error names
// the offset of the bad character in the joined input.
func parseHex(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':':
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			digits = append(digits, c)
		default:
			return nil, fmt.Errorf("hex input: character %q at offset %d (byte %d of the datagram): expected a hex digit", c, i, len(digits)/2)
		}
	}
	if len(digits) == 0 {
		return nil, fmt.Errorf("hex input: no hex digits")
	}
	if len(digits)%2 != 0 {
		return nil, fmt.Errorf("hex input: %d hex digits: byte %d has one digit, expected two", len(digits), len(digits)/2)
	}
	b := make([]byte, len(digits)/2)
	_, err := hex.Decode(b, digits)
	return b, err
}

func printPacket(w io.Writer, p *msgs.Packet, size int) error {
	l := p.Message.Layout
	in := l.Info()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	flags := strings.Join(msgs.FlagNames(p.Flags), "|")
	if flags == "" {
		flags = "none"
	}
	fmt.Fprintf(tw, "size\t%d bytes\n", size)
	fmt.Fprintf(tw, "flags\t0x%02X %s\n", uint8(p.Flags), flags)
	fmt.Fprintf(tw, "sequence\t%d\n", p.Seq)
	num := fmt.Sprint(in.Number)
	if in.Frequency == "Fixed" {
		num = fmt.Sprintf("0x%08X", in.Number)
	}
	trust, coding := "NotTrusted", "Unencoded"
	if in.Trusted {
		trust = "Trusted"
	}
	if in.Zerocoded {
		coding = "Zerocoded"
	}
	fmt.Fprintf(tw, "message\t%s (%s %s, id 0x%08X, %s, %s)\n", l.Name, in.Frequency, num, uint32(l.ID), trust, coding)
	for i := range l.Blocks {
		bl := &l.Blocks[i]
		entries := p.Message.Blocks[i].Entries
		kind := bl.Kind.String()
		if bl.Kind == msgs.MultipleBlock {
			kind += fmt.Sprintf(" %d", bl.Count)
		}
		if bl.Kind == msgs.VariableBlock {
			fmt.Fprintf(tw, "%s (%s, %d entr%s)\n", bl.Name, kind, len(entries), map[bool]string{true: "y", false: "ies"}[len(entries) == 1])
		}
		for j, e := range entries {
			name := bl.Name
			if bl.Kind != msgs.SingleBlock {
				name += fmt.Sprintf("[%d]", j)
			}
			if bl.Kind == msgs.SingleBlock {
				fmt.Fprintf(tw, "%s (%s)\n", name, kind)
			}
			for k, f := range bl.Fields {
				fmt.Fprintf(tw, "  %s.%s\t%s\t%s\n", name, f.Name, f.TypeString(), formatValue(e[k]))
			}
		}
	}
	acks := make([]string, len(p.Acks))
	for i, a := range p.Acks {
		acks[i] = fmt.Sprint(a)
	}
	fmt.Fprintf(tw, "acks\t[%s]\n", strings.Join(acks, " "))
	if len(p.Trailing) > 0 {
		fmt.Fprintf(tw, "trailing\t%d byte(s) after the last block, ignored: %x\n", len(p.Trailing), p.Trailing)
	}
	return tw.Flush()
}

func formatValue(v any) string {
	switch v := v.(type) {
	case []byte:
		if t, ok := msgs.Text(v); ok && len(v) > 0 {
			return fmt.Sprintf("%q (%d bytes: %x)", t, len(v), v)
		}
		return fmt.Sprintf("%d bytes: %x", len(v), v)
	case [4]byte:
		return fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3])
	case [3]float32, [4]float32, [3]float64:
		return strings.ReplaceAll(fmt.Sprintf("%v", v), " ", ", ")
	}
	return fmt.Sprint(v)
}
