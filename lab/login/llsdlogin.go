package login

import (
	"bytes"
	"net/http"

	"gridlab/lab/llsd"
	"gridlab/lab/vhttp"
)

// LLSD-XML login: LibreMetaverse (and the SL viewer's old login path) can POST
// application/llsd+xml — a map with the same members as the XML-RPC struct — and expect an
// LLSD map back. The request is turned into the XML-RPC parameter struct and handled by the
// one login path; the XML-RPC reply is then converted member by member (string → string,
// int → integer, boolean → boolean, double → real, struct → map, array → array).

// fromLLSD converts an LLSD request value into the XML-RPC value the login path reads.
func fromLLSD(v llsd.Value, depth int) value {
	if depth > maxDepth {
		return value{kind: kindNil}
	}
	switch v.Kind {
	case llsd.Map:
		out := value{kind: kindStruct}
		for i, k := range v.Keys {
			out.members = append(out.members, member{name: k, v: fromLLSD(v.Items[i], depth+1)})
		}
		return out
	case llsd.Array:
		out := value{kind: kindArray}
		for _, it := range v.Items {
			out.items = append(out.items, fromLLSD(it, depth+1))
		}
		return out
	case llsd.Undef:
		return value{kind: kindNil}
	case llsd.Boolean:
		return value{kind: kindBool, b: v.AsBool(), text: v.AsString()}
	}
	return value{kind: kindString, text: v.AsString()}
}

// toLLSD writes an XML-RPC reply value as LLSD.
func toLLSD(w *llsd.Writer, v *value) {
	switch v.kind {
	case kindStruct:
		w.BeginMap()
		for i := range v.members {
			w.Key(v.members[i].name)
			toLLSD(w, &v.members[i].v)
		}
		w.EndMap()
	case kindArray:
		w.BeginArray()
		for i := range v.items {
			toLLSD(w, &v.items[i])
		}
		w.EndArray()
	case kindInt:
		w.Int(v.i)
	case kindBool:
		w.Bool(v.b)
	case kindDouble:
		w.Real(v.f)
	case kindNil:
		w.Undef()
	default:
		w.String(v.text)
	}
}

// serveLLSDLogin answers an LLSD-XML login request.
func (s *Service) serveLLSDLogin(req *http.Request, body []byte, r func(vhttp.Response)) {
	v, err := llsd.Decode(body)
	if err != nil || v.Kind != llsd.Map {
		s.cfg.Log.Logf("WARN", "[LLOGIN SERVICE]: bad LLSD login request from %s", clean(req.RemoteAddr))
		reply(r, http.StatusBadRequest, "text/plain", []byte("Bad Request\n"))
		return
	}
	s.login(&methodCall{method: "login_to_simulator", params: []value{fromLLSD(v, 0)}}, req, func(e *enc) {
		// Read our own XML-RPC reply back as a value tree (as a methodCall, which has the same
		// <params> body), then write it as LLSD.
		doc := e.b
		if i := bytes.Index(doc, []byte("<methodResponse>")); i >= 0 {
			doc = append([]byte("<methodCall><methodName>reply</methodName>"), doc[i+len("<methodResponse>"):]...)
			doc = bytes.Replace(doc, []byte("</methodResponse>"), []byte("</methodCall>"), 1)
		}
		call, err := decodeMethodCall(doc)
		if err != nil || len(call.params) != 1 {
			reply(r, http.StatusInternalServerError, "text/plain", []byte(MsgInternalError+"\n"))
			return
		}
		w := llsd.NewWriter()
		toLLSD(w, &call.params[0])
		reply(r, http.StatusOK, "application/llsd+xml", w.Bytes())
	})
}
