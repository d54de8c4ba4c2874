package corpus

import (
	"fmt"
	"strings"

	"github.com/maildlp/maildlp/internal/testutil"
)

// labels are the short names of the identifiers as a column header or a
// field label writes them.
var labels = map[string]string{
	"credit_card": "Card number", "iban": "IBAN", "us_ssn": "SSN", "us_itin": "ITIN",
	"aba_routing": "Routing number", "swift_bic": "SWIFT/BIC", "uk_nino": "NI number", "uk_nhs": "NHS number",
	"de_steuer_id": "Steuer-ID", "fr_nir": "NIR", "es_dni": "DNI", "es_nie": "NIE",
	"it_codice_fiscale": "Codice fiscale", "nl_bsn": "BSN", "pl_pesel": "PESEL", "ca_sin": "SIN",
	"au_tfn": "TFN", "in_aadhaar": "Aadhaar", "in_pan": "PAN", "aws_access_key": "aws_access_key_id",
	"aws_secret_key": "aws_secret_access_key", "gcp_api_key": "Google API key", "github_token": "GitHub token",
	"slack_token": "Slack token", "slack_webhook": "Slack webhook", "stripe_key": "Stripe secret key", "jwt": "Bearer token",
}

// filler is neutral prose between a label and its value.
const filler = "The details below were collected during onboarding last week and are copied here as requested by the team lead, " +
	"so that the payroll run on Friday can go ahead without delays; nothing else changed since the last review."

// contextForm is a form whose case may need another confidence than the
// identifier's requirement ("" keeps it).
type contextForm struct {
	form
	need string
}

// contextForms writes a value of name with its keyword at a distance,
// without a keyword where the default policy acts on the value alone,
// and in a table whose header cell is the only context.
func contextForms(r *Rand, name string) []contextForm {
	req := Requirements[name]
	label, ok := labels[name]
	if !ok {
		return nil
	}
	var out []contextForm
	v := Written(name, Fake(r, name))
	out = append(out, contextForm{form: form{where: "body-plain", form: "keyword-far", raw: testutil.Message(label + ", see below.\n" + filler + "\n" + v + "\n")}})
	if req.Need == "medium" {
		out = append(out, contextForm{form: form{where: "body-plain", form: "no-keyword",
			raw: testutil.Message(fmt.Sprintf("Please use %s for the booking.\n", Written(name, Fake(r, name))))}})
	}
	if name == "iban" {
		var ibans []string
		for range 3 {
			ibans = append(ibans, Written(name, Fake(r, name)))
		}
		out = append(out, contextForm{need: "medium", form: form{where: "body-plain", form: "three-no-keyword",
			raw: testutil.Message("Please use these for the bookings:\n" + strings.Join(ibans, "\n") + "\n")}})
	}
	// Word splits a paragraph into runs wherever formatting or editing
	// changed, also inside a value.
	if name != "private_key" {
		w := Written(name, Fake(r, name))
		pre, post, _ := strings.Cut(req.Cue, "%s")
		out = append(out, contextForm{form: form{where: "body-docx", form: "runs-inside-value",
			raw: testutil.NewMessage().Text(coverNote).Attach("details.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
				testutil.DOCX([]string{pre, w[:len(w)/2], w[len(w)/2:], post})).Bytes()}})
	}
	// A table whose one value sits far below its header cell.
	rows := [][]string{{"Employee", label, "Start date"}}
	for i := range 19 {
		rows = append(rows, []string{fmt.Sprintf("%s (%02d)", person(r), i+1), "pending", fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i)})
	}
	rows = append(rows, []string{"Jordan Lee (20)", Written(name, Fake(r, name)), "2026-12-01"})
	d := Doc{Subject: "New starters", Table: rows, Name: "starters"}
	for _, e := range []Envelope{CSV, XLSX, HTMLBody, Plain} {
		out = append(out, contextForm{form: form{where: "body-" + e.String(), form: "table-column", feature: "issue8-column", raw: d.Message(e)}})
	}
	return out
}
