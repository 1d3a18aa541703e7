package llsd

import (
	"bytes"
	"os"
	"testing"
)

func TestDecodeSeedRequest(t *testing.T) {
	b, err := os.ReadFile("../../../shared/protocol/captures/node-metaverse_seed_capability_request.xml")
	if err != nil {
		t.Skip(err)
	}
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != Array || len(v.Items) != 111 {
		t.Fatalf("got %v with %d items, want an array of 111 names", v.Kind, len(v.Items))
	}
	found := false
	for _, it := range v.Items {
		if it.AsString() == "FetchInventoryDescendents2" {
			found = true
		}
	}
	if !found {
		t.Fatal("FetchInventoryDescendents2 not in the request")
	}
}

func TestRoundTrip(t *testing.T) {
	w := NewWriter().BeginMap().
		Key("id").Int(7).
		Key("events").BeginArray().BeginMap().Key("message").String("A&B <x>").EndMap().EndArray().
		Key("ok").Bool(true).Key("u").Undef().Key("bin").Binary([]byte{0, 1, 2}).
		EndMap()
	doc := w.Bytes()
	if bytes.ContainsAny(doc, " \n\t") && !bytes.Contains(doc, []byte("<undef />")) {
		t.Fatalf("not compact: %s", doc)
	}
	v, err := Decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := v.Get("id"); id.AsInt() != 7 {
		t.Fatalf("id = %v", id)
	}
	ev, _ := v.Get("events")
	if m, _ := ev.Items[0].Get("message"); m.AsString() != "A&B <x>" {
		t.Fatalf("message = %q", m.AsString())
	}
	if ok, _ := v.Get("ok"); !ok.AsBool() {
		t.Fatal("ok")
	}
	if b, _ := v.Get("bin"); !bytes.Equal(b.Bytes, []byte{0, 1, 2}) {
		t.Fatal("bin")
	}
	again := NewWriter().Value(v).Bytes()
	if !bytes.Equal(again, doc) {
		t.Fatalf("re-encoded\n%s\nwant\n%s", again, doc)
	}
}

func TestDecodeTolerant(t *testing.T) {
	doc := "<?xml version=\"1.0\" ?>\n<llsd>\n <map>\n  <key>ack</key>\n  <undef />\n  <key>done</key><boolean>false</boolean>\n </map>\n</llsd>\n"
	v, err := Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := v.Get("ack"); a.Kind != Undef {
		t.Fatal("ack")
	}
	if d, ok := v.Get("done"); !ok || d.AsBool() {
		t.Fatal("done")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, doc := range []string{"", "<llsd>", "<map></map>", "<llsd><map><string>x</string></map></llsd>",
		"<llsd><foo/></llsd>", "<llsd><map><key>a</key></map></llsd>", "<llsd>text</llsd>",
		"<llsd><binary>!!</binary></llsd>"} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
	deep := bytes.Repeat([]byte("<array>"), MaxDepth+5)
	if _, err := Decode(append(append([]byte("<llsd>"), deep...), "</llsd>"...)); err == nil {
		t.Error("deep nesting accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("<llsd><map><key>ack</key><undef /><key>done</key><boolean>false</boolean></map></llsd>"))
	f.Add([]byte("<llsd><array><string>EventQueueGet</string><string>FetchInventoryDescendents2</string></array></llsd>"))
	f.Add([]byte("<?xml version=\"1.0\"?><llsd><map><key>folders</key><array><map><key>folder_id</key><uuid>11111111-2222-3333-4444-555555555555</uuid><key>fetch_items</key><boolean>1</boolean></map></array></map></llsd>"))
	f.Add([]byte("<llsd><binary>AAEC</binary><integer>5</integer></llsd>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes must re-encode to a document that decodes to the same thing.
		doc := NewWriter().Value(v).Bytes()
		v2, err := Decode(doc)
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v\n%s", err, doc)
		}
		if !bytes.Equal(NewWriter().Value(v2).Bytes(), doc) {
			t.Fatalf("not stable:\n%s", doc)
		}
	})
}
