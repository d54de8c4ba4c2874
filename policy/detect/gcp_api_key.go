package detect

// GCPAPIKey finds Google Cloud / Google Maps API keys: "AIza" followed by
// 35 characters of A-Z a-z 0-9 - _, 39 characters in all.
type GCPAPIKey struct{ builtin }

func newGCPAPIKey(o Options) Detector { return &GCPAPIKey{newBuiltin(idGCPAPIKey, o)} }

var gcpAPIKeyInfo = Info{
	Name:        "gcp_api_key",
	Description: "Google Cloud / Google API keys (AIza…)",
	Validator:   "AIza + 35 characters A-Z a-z 0-9 - _, not inside a longer token",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"google", "gcp", "api key", "api_key", "apikey", "key=", "maps", "firebase", "googleapis",
	},
	TestValues: []string{"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"},
	Evidence:   "AIza**** (type prefix only)",
	Separators: "none",
}

var gcpTestSet = map[string]bool{"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe": true}

func isBase64URL(c byte) bool { return wordClass[c] != 0 || c == '-' }

// gcpAPIKey checks the token starting with "AIza" at i.
func (sc *scanner) gcpAPIKey(i int) int {
	t := sc.text
	if i > 0 && t[i-1] == '-' {
		return -1
	}
	e := i
	for e < len(t) && e-i <= 39 && isBase64URL(t[e]) {
		e++
	}
	if e-i != 39 || (e < len(t) && isBase64URL(t[e])) {
		return -1
	}
	v := append(sc.buf[:0], t[i:e]...)
	sc.emit(idGCPAPIKey, i, e, Medium, gcpTestSet[string(v)], MaskPrefix("AIza"), keyOf(idGCPAPIKey, v))
	return e
}

var _ Detector = (*GCPAPIKey)(nil)
