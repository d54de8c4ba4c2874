package detect

// StripeKey finds Stripe secret and restricted API keys: sk_live_ and
// rk_live_ (live mode) and sk_test_ and rk_test_ (test mode, reported as
// test values) followed by at least 24 letters and digits. Publishable
// keys (pk_) are public and not reported.
type StripeKey struct{ builtin }

func newStripeKey(o Options) Detector { return &StripeKey{newBuiltin(idStripeKey, o)} }

var stripeKeyInfo = Info{
	Name:        "stripe_key",
	Description: "Stripe secret and restricted API keys (sk_live_, rk_live_; sk_test_, rk_test_ as test values)",
	Validator:   "(sk|rk)_(live|test)_ + 24-247 letters and digits, whole word",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"stripe", "api key", "secret key", "STRIPE_SECRET_KEY", "STRIPE_API_KEY", "payment", "bearer", "authorization",
	},
	Evidence:   "sk_live_**** (type prefix only)",
	Separators: "none",
}

// stripeKey checks a word starting with "sk_" or "rk_".
func (sc *scanner) stripeKey(i, j int) int {
	w := sc.text[i:j]
	if len(w) < 8+24 || len(w) > 8+247 {
		return -1
	}
	mode := w[3:8]
	if (mode != "live_" && mode != "test_") || !allAlnum(w[8:]) {
		return -1
	}
	sc.emit(idStripeKey, i, j, Medium, mode == "test_", MaskPrefix(w[:8]), keyOfString(idStripeKey, w))
	return j
}

var _ Detector = (*StripeKey)(nil)
