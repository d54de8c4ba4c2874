package main

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite contrib/examples from the generators")

const examplesDir = "../../contrib/examples"

// example is one message in contrib/examples, with the verdict the default
// policy gives it (checked by TestExamplesScan).
type example struct {
	file   string
	action string
	policy string // a policy that must be among the hits ("" for none)
	build  func() string
}

var examples = []example{
	{"clean.eml", "pass", "", cleanMessage},
	{"cards-in-xlsx.eml", "block", "PCI: bulk card numbers", cardsInXLSX},
	{"two-cards.eml", "modify", "PCI: card numbers", twoCards},
	{"iban-in-body.eml", "modify", "Banking: account details", ibanInBody},
	{"ssn-with-keyword.eml", "modify", "PII: national identifiers", ssnWithKeyword},
	{"secrets.eml", "block", "Secrets: credentials and private keys", secrets},
	{"encrypted-zip.eml", "quarantine", "Unscannable: encrypted attachments", encryptedZip},
	{"test-card.eml", "pass", "", testCard},
}

// TestExamples keeps contrib/examples identical to what the generators
// build; run with -update to rewrite them.
func TestExamples(t *testing.T) {
	for _, ex := range examples {
		path := filepath.Join(examplesDir, ex.file)
		want := ex.build()
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/maildlp -run TestExamples -update)", err)
		}
		if string(got) != want {
			t.Errorf("%s differs from its generator (run go test ./cmd/maildlp -run TestExamples -update)", path)
		}
	}
}

var exampleDate = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC).Format(time.RFC1123Z)

func header(subject, extra string) string {
	return "From: Alice Martin <alice@example.com>\r\n" +
		"To: Bob Jones <bob@partner.example.net>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + exampleDate + "\r\n" +
		"Message-ID: <" + strings.ReplaceAll(strings.ToLower(subject), " ", "-") + "@example.com>\r\n" +
		"MIME-Version: 1.0\r\n" + extra
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func cleanMessage() string {
	return header("Quarterly figures", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Hi Bob,

the Q1 figures are in: revenue 1,284,500 EUR (+4.2%), 37 new customers,
order numbers 2026-000184 to 2026-000311, invoice INV-448812.
Call me on +44 20 7946 0958 before 14:30 on 2026-03-04.

Alice
`)
}

// luhn completes a number with its Luhn check digit.
func luhn(prefix string) string {
	sum := 0
	for i := len(prefix) - 1; i >= 0; i-- {
		d := int(prefix[i] - '0')
		if (len(prefix)-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + string(rune('0'+(10-sum%10)%10))
}

// exampleCards are Luhn-valid Visa and Mastercard numbers made up for the
// examples (none is a published test number).
func exampleCards(n int) []string {
	var out []string
	for i := range n {
		if i%2 == 0 {
			out = append(out, luhn(fmt.Sprintf("453291%09d", 370154+i*7919)))
		} else {
			out = append(out, luhn(fmt.Sprintf("542418%09d", 802233+i*6007)))
		}
	}
	return out
}

func groups(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	return b.String() + enc + "\r\n"
}

func multipart(subject, text, filename, ctype string, data []byte) string {
	const boundary = "=_maildlp_example"
	return header(subject, "Content-Type: multipart/mixed; boundary=\""+boundary+"\"\r\n") + "\r\n" +
		"--" + boundary + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + crlf(text) + "\r\n" +
		"--" + boundary + "\r\n" +
		"Content-Type: " + ctype + "; name=\"" + filename + "\"\r\n" +
		"Content-Disposition: attachment; filename=\"" + filename + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines(data) +
		"--" + boundary + "--\r\n"
}

// zipFiles builds a ZIP archive with fixed timestamps.
func zipFiles(files [][2]string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err)
		}
		fw.Write([]byte(f[1]))
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// xlsx builds a minimal workbook with one sheet of inline strings.
func xlsx(sheet string, rows [][]string) []byte {
	var cells strings.Builder
	for r, row := range rows {
		fmt.Fprintf(&cells, `<row r="%d">`, r+1)
		for c, v := range row {
			fmt.Fprintf(&cells, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+c, r+1, v)
		}
		cells.WriteString(`</row>`)
	}
	return zipFiles([][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="` + sheet + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + cells.String() + `</sheetData></worksheet>`},
	})
}

func cardsInXLSX() string {
	rows := [][]string{{"Name", "Card number", "Expiry"}}
	names := []string{"J. Smith", "M. Garcia", "A. Chen", "K. Müller", "S. Okafor", "L. Rossi"}
	for i, c := range exampleCards(6) {
		rows = append(rows, []string{names[i], groups(c), fmt.Sprintf("%02d/28", i+3)})
	}
	return multipart("Corporate card list", "Bob,\n\nattached the corporate card list as requested.\n\nAlice\n",
		"q3.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx("Payroll", rows))
}

func twoCards() string {
	c := exampleCards(2)
	return header("Hotel booking", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Hi Bob,

please book the rooms on the company card `+groups(c[0])+` (exp 04/28),
and the spare one on the backup card `+groups(c[1])+`.

Alice
`)
}

// iban computes the check digits of a country code and BBAN (ISO 13616).
func iban(country, bban string) string {
	var digits strings.Builder
	for _, r := range bban + country + "00" {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&digits, "%d", r-'A'+10)
		} else {
			digits.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", country, check, bban)
}

func ibanInBody() string {
	return header("Payment details", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Bob,

please wire the deposit to our account:
IBAN: `+groups(iban("DE", "500105175407324931"))+`
Account holder: Example GmbH

Alice
`)
}

func ssnWithKeyword() string {
	return header("New hire paperwork", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Bob,

for the payroll set-up of our new colleague:
SSN: 536-22-8741, start date 2026-04-01.

Alice
`)
}

func secrets() string {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return header("Deploy credentials", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Bob,

here is what you need for the deployment:

aws_access_key_id = AKIAQ3X7ZK2M4N5P6RWT
aws_secret_access_key = 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

and the server key:
`+pemKey+`
Alice
`)
}

// encryptedZip builds a ZIP whose only member has the "encrypted" flag set
// (traditional PKWARE encryption, the common password-protected archive).
func encryptedZip() string {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fh := &zip.FileHeader{Name: "salaries.csv", Method: zip.Store, Modified: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	fh.Flags |= 0x1
	body := bytes.Repeat([]byte{0x5a, 0xc3, 0x11, 0x9e}, 16) // 12-byte encryption header + data, opaque
	fh.CRC32 = 0x1d2c3b4a
	fh.CompressedSize64 = uint64(len(body))
	fh.UncompressedSize64 = uint64(len(body) - 12)
	fw, err := w.CreateRaw(fh)
	if err != nil {
		panic(err)
	}
	fw.Write(body)
	if err := w.Close(); err != nil {
		panic(err)
	}
	return multipart("Salary review", "Bob,\n\nthe file is protected, I will call you with the password.\n\nAlice\n",
		"salaries.zip", "application/zip", buf.Bytes())
}

func testCard() string {
	return header("Checkout test", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n" + crlf(`Bob,

the sandbox checkout works with the test card 4111 1111 1111 1111,
any future expiry date and CVC 123.

Alice
`)
}
