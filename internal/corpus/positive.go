package corpus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/maildlp/maildlp/internal/testutil"
)

// PositiveCase is one message of the positive corpus: one fake value of
// one identifier, in one place or written in one way, that the default
// policy must act on.
type PositiveCase struct {
	// Name is detector/location/form, with [feature] appended when the
	// case needs engine support beyond plain text in a body (a header the
	// extractor used to skip, a split value, …), so a failure names what
	// is missing.
	Name     string
	Detector string
	Need     string // the lowest confidence the default policy acts on: medium or high
	Enforce  bool   // whether the default policy enforces on this identifier alone
	Feature  string // "" or the engine feature the case needs
	Raw      []byte
}

// PositiveSeed is the seed of the positive corpus.
const PositiveSeed = 7_2026

// Requirement is what the default policy needs to act on an identifier.
type Requirement struct {
	Need    string
	Enforce bool
	Cue     string // the sentence a value is written in: a supporting keyword and %s
}

// Requirements maps each built-in identifier to what the default policy
// (config/default-policy.toml) needs: cards count at medium; national
// identifiers, IBANs and routing numbers need a keyword (high); most
// credentials count alone. A SWIFT/BIC code is enforced only next to a
// routing number, so it is checked as a detection only.
var Requirements = map[string]Requirement{
	"credit_card":       {"medium", true, "Please charge my card number %s for the renewal."},
	"iban":              {"high", true, "Please transfer the deposit to IBAN %s by Friday."},
	"us_ssn":            {"high", true, "Employee SSN: %s (for the W-2)."},
	"us_itin":           {"high", true, "Contractor ITIN: %s."},
	"aba_routing":       {"high", true, "Wire details: routing number %s."},
	"swift_bic":         {"high", false, "Beneficiary bank SWIFT/BIC: %s."},
	"uk_nino":           {"high", true, "Her National Insurance number is %s."},
	"uk_nhs":            {"high", true, "Patient NHS number %s, clinic on Tuesday."},
	"de_steuer_id":      {"high", true, "Meine Steuer-ID lautet %s."},
	"fr_nir":            {"high", true, "Numéro de sécurité sociale (NIR) : %s."},
	"es_dni":            {"high", true, "Mi DNI es %s."},
	"es_nie":            {"high", true, "Su NIE es %s."},
	"it_codice_fiscale": {"high", true, "Codice fiscale: %s."},
	"nl_bsn":            {"high", true, "Het BSN van de werknemer is %s."},
	"pl_pesel":          {"high", true, "Numer PESEL: %s."},
	"ca_sin":            {"high", true, "Social Insurance Number (SIN): %s."},
	"au_tfn":            {"high", true, "Tax file number (TFN): %s."},
	"in_aadhaar":        {"high", true, "Aadhaar number: %s."},
	"in_pan":            {"high", true, "PAN card no. %s for the TDS certificate."},
	"aws_access_key":    {"medium", true, "aws_access_key_id = %s"},
	"aws_secret_key":    {"high", true, "aws_secret_access_key = %s"},
	"gcp_api_key":       {"medium", true, "Google Maps API key: %s"},
	"github_token":      {"medium", true, "GitHub token: %s"},
	"slack_token":       {"medium", true, "SLACK_BOT_TOKEN=%s"},
	"slack_webhook":     {"medium", true, "Slack incoming webhook: %s"},
	"stripe_key":        {"medium", true, "STRIPE_SECRET_KEY=%s"},
	"jwt":               {"high", true, "Authorization: Bearer %s"},
	"private_key":       {"medium", true, "Here is the deploy private key:\n%s\n"},
}

// groupings are the standard written groupings of the numeric
// identifiers (widths), with the separator they are usually written with.
var groupings = map[string]struct {
	widths []int
	sep    string
}{
	"us_ssn":       {[]int{3, 2, 4}, "-"},
	"us_itin":      {[]int{3, 2, 4}, "-"},
	"uk_nhs":       {[]int{3, 3, 4}, " "},
	"de_steuer_id": {[]int{2, 3, 3, 3}, " "},
	"fr_nir":       {[]int{1, 2, 2, 2, 3, 3, 2}, " "},
	"nl_bsn":       {[]int{3, 3, 3}, " "},
	"ca_sin":       {[]int{3, 3, 3}, " "},
	"au_tfn":       {[]int{3, 3, 3}, " "},
	"in_aadhaar":   {[]int{4, 4, 4}, " "},
}

// widths returns the grouping of value v of identifier name, or nil.
func widths(name, v string) ([]int, string) {
	switch name {
	case "credit_card":
		switch len(v) {
		case 15:
			return []int{4, 6, 5}, " "
		case 14:
			return []int{4, 6, 4}, " "
		}
		return []int{4, 4, 4, 4}, " "
	case "iban":
		var w []int
		for n := len(v); n > 0; n -= 4 {
			w = append(w, min(4, n))
		}
		return w, " "
	}
	g, ok := groupings[name]
	if !ok {
		return nil, ""
	}
	return g.widths, g.sep
}

// Written returns v in the form people usually write it: grouped if the
// identifier has a standard grouping.
func Written(name, v string) string {
	w, sep := widths(name, v)
	if w == nil {
		return v
	}
	return Group(v, sep, w...)
}

// location puts a sentence somewhere in a message.
type location struct {
	name    string
	feature string
	oneLine bool // the location holds one line only (a header, a file name)
	build   func(sentence string) []byte
}

func locations() []location {
	ls := []location{
		{"subject", "", true, func(s string) []byte {
			return testutil.NewMessage().Header("Subject", s).Text("See the subject line.\n").Bytes()
		}},
		{"header-x-note", "", true, func(s string) []byte {
			return testutil.NewMessage().Header("X-Order-Note", s).Text("Note attached in the header.\n").Bytes()
		}},
		{"header-comments", "", true, func(s string) []byte {
			return testutil.NewMessage().Header("Comments", s).Text("Hello.\n").Bytes()
		}},
		{"header-x-spam-report", "issue7-header", true, func(s string) []byte {
			return testutil.NewMessage().Header("X-Spam-Report", s).Text("Hello.\n").Bytes()
		}},
		{"header-list-help", "issue7-header", true, func(s string) []byte {
			return testutil.NewMessage().Header("List-Help", s).Text("Hello.\n").Bytes()
		}},
		{"part-content-description", "issue7-part-header", true, func(s string) []byte {
			return testutil.NewMessage().Text("Hello.\n").Part(testutil.MIMEPart{Header: [][2]string{
				{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Description", s}}, Body: []byte("notes\n")}).Bytes()
		}},
		{"attachment-filename", "issue7-filename", true, func(s string) []byte {
			return testutil.NewMessage().Text("Hello.\n").Attach(fileSafe(s)+".txt", "text/plain", []byte("meeting notes\n")).Bytes()
		}},
		{"zip-member-name", "issue7-filename", true, func(s string) []byte {
			return testutil.NewMessage().Text("Hello.\n").Attach("notes.zip", "application/zip",
				testutil.Zip(testutil.File{Name: fileSafe(s) + ".txt", Data: []byte("meeting notes\n")})).Bytes()
		}},
		{"html-img-alt", "", false, func(s string) []byte {
			return testutil.NewMessage().HTML(`<p>Hello</p><img src="cid:scan" alt="` + htmlAttr(s) + `">`).Bytes()
		}},
		{"html-p-title", "issue7-html", false, func(s string) []byte {
			return testutil.NewMessage().HTML(`<p title="` + htmlAttr(s) + `">Hello</p>`).Bytes()
		}},
		{"html-data-attribute", "issue7-html", false, func(s string) []byte {
			return testutil.NewMessage().HTML(`<div data-note="` + htmlAttr(s) + `">Hello</div>`).Bytes()
		}},
		{"html-comment", "issue7-html", false, func(s string) []byte {
			return testutil.NewMessage().HTML("<p>Hello</p><!-- " + s + " -->").Bytes()
		}},
		{"html-style-hidden", "", false, func(s string) []byte {
			return testutil.NewMessage().HTML(`<p>Hello</p><p style="display:none">` + htmlText(s) + `</p>`).Bytes()
		}},
	}
	for _, e := range Envelopes() {
		ls = append(ls, location{"body-" + e.String(), "", false, func(s string) []byte {
			d := Doc{Subject: "Details", Body: s, Name: "details"}
			if e == XLSX || e == ODS || e == CSV {
				d.Body = ""
				d.Table = [][]string{{"Item", "Detail"}, {"1", s}}
			}
			return d.Message(e)
		}})
	}
	return ls
}

func fileSafe(s string) string {
	s = strings.NewReplacer("/", " ", ":", " ", "\\", " ", "\"", " ", "\n", " ").Replace(s)
	return strings.TrimSpace(strings.TrimSuffix(s, "."))
}

func htmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Positive returns the positive corpus: every identifier of names in
// every location, then the split and decorated forms.
func Positive(names []string) []PositiveCase { return PositiveSeeded(names, PositiveSeed) }

// PositiveSeeded is Positive from another seed.
func PositiveSeeded(names []string, seed uint64) []PositiveCase {
	r := NewRand(seed)
	sort.Strings(names)
	var out []PositiveCase
	add := func(name, where, form, feature, need string, raw []byte) {
		req := Requirements[name]
		if need == "" {
			need = req.Need
		}
		n := name + "/" + where
		if form != "" {
			n += "/" + form
		}
		if feature != "" {
			n += " [" + feature + "]"
		}
		out = append(out, PositiveCase{Name: n, Detector: name, Need: need, Enforce: req.Enforce, Feature: feature, Raw: raw})
	}
	for _, name := range names {
		req, ok := Requirements[name]
		if !ok {
			panic("corpus: no requirement for " + name)
		}
		for _, l := range locations() {
			v := Written(name, Fake(r, name))
			for k := 0; k < 64 && strings.Contains(l.name, "name") && strings.ContainsAny(v, `/\:"`); k++ {
				v = Written(name, Fake(r, name)) // a file name cannot hold these: fileSafe would change the value
			}
			if l.oneLine && (name == "private_key" || name == "slack_webhook" && strings.Contains(l.name, "name")) {
				continue // a PEM block has lines; a URL is no file name
			}
			add(name, l.name, "", l.feature, "", l.build(fmt.Sprintf(req.Cue, v)))
		}
		for _, f := range forms(r, name) {
			add(name, f.where, f.form, f.feature, "", f.raw)
		}
		for _, f := range contextForms(r, name) {
			add(name, f.where, f.form.form, f.feature, f.need, f.raw)
		}
	}
	return out
}

type form struct {
	where, form, feature string
	raw                  []byte
}

// forms writes a value of name in the accepted variants and in the split
// and decorated ways a sender can write it.
func forms(r *Rand, name string) []form {
	req := Requirements[name]
	plain := func(text string) []byte { return testutil.Message(text) }
	html := func(h string) []byte {
		return testutil.NewMessage().HTML("<html><body>" + h + "</body></html>").Bytes()
	}
	var out []form
	sentence := func(v string) string { return fmt.Sprintf(req.Cue, v) }
	if name == "aws_access_key" {
		for _, p := range []string{"ASIA", "ABIA", "ACCA", "A3T"} {
			feature := "issue7-aws-prefix"
			if p == "ASIA" {
				feature = ""
			}
			out = append(out, form{"body-plain", "prefix-" + p, feature, plain(sentence(AWSAccessKey(r, p)))})
		}
	}
	if name == "iban" {
		v := IBAN(r)
		out = append(out,
			form{"body-plain", "unseparated", "", plain(sentence(v))},
			form{"body-plain", "dashes", "issue7-split", plain(sentence(strings.ReplaceAll(Written(name, v), " ", "-")))},
		)
	}
	w, sep := widths(name, "")
	if name == "credit_card" {
		w, sep = []int{4, 4, 4, 4}, " "
	}
	if w == nil {
		// Unseparated numbers: a wrapped line can still cut them.
		if name == "aba_routing" || name == "pl_pesel" {
			v := Fake(r, name)
			out = append(out, form{"body-plain", "wrapped-mid-value", "issue7-split", plain(sentence(v[:5] + "\n" + v[5:]))})
		}
		return out
	}
	value := func() string {
		if name == "credit_card" {
			return Card(r, r.IntN(3)) // 16 digits
		}
		return Fake(r, name)
	}
	join := func(v, s string) string { return Group(v, s, w...) }
	for _, s := range []struct{ form, sep string }{{"unseparated", ""}, {"dash", "-"}, {"dot", "."}, {"nbsp", "\u00a0"}, {"newlines", "\n"}} {
		if name == "us_ssn" && s.form == "unseparated" {
			continue // low alone, high with its keyword: covered by the locations
		}
		out = append(out, form{"body-plain", s.form, "", plain(sentence(join(value(), s.sep)))})
	}
	v := value()
	g := strings.Split(join(v, sep), sep)
	mid := len(g) / 2
	// A mail client wraps a line at a space, or after a hyphen, which it
	// keeps.
	wrapped := strings.Join(g[:mid], sep) + "\n" + strings.Join(g[mid:], sep)
	if sep == "-" {
		wrapped = strings.Join(g[:mid], sep) + "-\n" + strings.Join(g[mid:], sep)
	}
	out = append(out,
		form{"body-plain", "wrapped-at-group", "issue7-split", plain(sentence(wrapped))},
		form{"body-plain", "wrapped-mid-value", "issue7-split", plain(sentence(v[:len(v)/2+1] + "\n" + v[len(v)/2+1:]))},
		form{"body-plain", "two-spaces", "issue7-split", plain(sentence(join(value(), "  ")))},
		form{"body-plain", "spaced-dash", "issue7-split", plain(sentence(join(value(), " - ")))},
		form{"body-html", "comment-inside", "", html(strings.Replace(htmlText(sentence(v)), v, v[:3]+"<!-- x -->"+v[3:], 1))},
		form{"body-html", "comment-between-groups", "issue7-split", html(strings.Replace(htmlText(sentence(join(v, " "))), join(v, " "),
			strings.Join(g[:mid], " ")+" <!-- checked --> "+strings.Join(g[mid:], " "), 1))},
	)
	if name == "credit_card" {
		// Lists and decorations that read as one long run or as words.
		a, b := value(), value()
		ones := make([]int, 16)
		for k := range ones {
			ones[k] = 1
		}
		out = append(out,
			form{"body-plain", "list-one-line", "issue7-split", plain("Cards on file: " + join(a, " ") + " " + join(b, " ") + " " + join(value(), " ") + ".")},
			form{"body-plain", "en-dash", "issue7-split", plain(sentence(join(value(), "\u2013")))},
			form{"body-plain", "minus-sign", "issue7-split", plain(sentence(join(value(), "\u2212")))},
			form{"body-plain", "underscores", "issue7-split", plain(sentence(join(value(), "_")))},
			form{"body-plain", "pairs", "issue7-split", plain(sentence(Group(value(), " ", 2, 2, 2, 2, 2, 2, 2, 2)))},
			form{"body-plain", "digit-by-digit", "issue7-split", plain(sentence(Group(value(), " ", ones...)))},
			form{"body-plain", "quoted-reply-wrap", "issue7-split", plain("On Monday Bob wrote:\n> " + strings.Replace(sentence(join(a, " ")), join(a, " "), Group(a[:8], " ", 4, 4)+"\n> "+Group(a[8:], " ", 4, 4), 1))},
			form{"body-plain", "track-1", "issue7-split", plain("Reader dump:\n%B" + b + "^DOE/JOHN^2912101000000000?\n")},
			form{"body-plain", "file-name-of-cards", "issue7-filename", plain("Attached: " + a + "-" + b + ".txt")},
			form{"body-plain", "two-space-list", "issue7-split", plain("Cards:\n" + join(a, "  ") + "\n" + join(b, "  ") + "\n" + join(value(), "  ") + "\n")},
			form{"body-plain", "parenthesised", "issue7-split", plain(sentence("(" + a[:4] + ") " + Group(a[4:], "-", 4, 4, 4)))},
			form{"body-html", "br-inside-numbers", "issue7-split", html("<p>See below.</p><ul><li>" + a[:8] + "<br>" + a[8:] + "</li><li>" + b[:8] + "<br>" + b[8:] + "</li></ul>")},
			form{"body-html", "table-cells-halves", "issue7-split", html("<p>See below.</p><table><tr><td>" + a[:8] + "</td><td>" + a[8:] + "</td></tr><tr><td>" + b[:8] + "</td><td>" + b[8:] + "</td></tr></table>")},
		)
	}
	v = value()
	cells := strings.Split(join(v, " "), " ")
	out = append(out,
		form{"body-html", "table-cells", "issue7-split", html(fmt.Sprintf("<p>%s</p><table><tr><td>%s</td></tr></table>",
			htmlText(strings.TrimSuffix(strings.SplitN(req.Cue, "%s", 2)[0], " ")), strings.Join(cells, "</td><td>")))},
		form{"body-html", "tags-inside", "", html(strings.Replace(htmlText(sentence(join(v, sep))), join(v, sep), "<b>"+join(v, sep)[:2]+"</b>"+join(v, sep)[2:], 1))},
	)
	return out
}
