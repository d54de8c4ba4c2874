package detect

import (
	"fmt"
	"strings"
	"testing"
)

// validatorCase is one value offered to one identifier inside a sentence.
type validatorCase struct {
	value string
	ok    bool       // want a match covering value exactly
	test  bool       // want TestValue
	conf  Confidence // want confidence when ok (0: not checked)
}

func TestValidators(t *testing.T) {
	visa := luhnComplete("453201511283036")
	mc2 := luhnComplete("272012345678901")
	mir := luhnComplete("220012345678901")
	unionpay := luhnComplete("621234567890123")
	deIBAN := ibanComplete("DE", "370400440532013001")
	frIBAN := ibanComplete("FR", "20041010050500013M02607")
	cases := map[string][]validatorCase{
		"credit_card": {
			{value: "4111111111111111", ok: true, test: true, conf: Medium},
			{value: "4111 1111 1111 1111", ok: true, test: true},
			{value: "5555555555554444", ok: true, test: true},
			{value: "2223003122003222", ok: true, test: true},
			{value: "378282246310005", ok: true, test: true},
			{value: "3782 822463 10005", ok: true, test: true},
			{value: "6011111111111117", ok: true, test: true},
			{value: "3530111333300000", ok: true, test: true},
			{value: "30569309025904", ok: true, test: true},
			{value: "6200000000000005", ok: true, test: true},
			{value: visa, ok: true, conf: Medium},
			{value: visa[:4] + "-" + visa[4:8] + "-" + visa[8:12] + "-" + visa[12:], ok: true},
			{value: visa[:4] + "." + visa[4:8] + "." + visa[8:12] + "." + visa[12:], ok: true},
			{value: visa[:4] + "\u00a0" + visa[4:8] + "\u00a0" + visa[8:12] + "\u00a0" + visa[12:], ok: true},
			{value: mc2, ok: true},
			{value: mir, ok: true},
			{value: unionpay, ok: true},
			{value: "4111111111111112"},                                              // Luhn fails
			{value: luhnComplete("41111111111111")},                                  // Visa with 15 digits
			{value: luhnComplete("911111111111111")},                                 // no brand starts with 9
			{value: luhnComplete("272112345678901")},                                 // 2721 is past the Mastercard 2-series
			{value: visa[:4] + "-" + visa[4:8] + " " + visa[8:12] + "-" + visa[12:]}, // mixed separators
			{value: visa[:4] + " " + visa[4:10] + " " + visa[10:]},                   // 4-6-6 is no card grouping
			{value: "4444444444444444"},                                              // one repeated digit
		},
		"iban": {
			{value: "GB82WEST12345698765432", ok: true, test: true, conf: Medium},
			{value: "GB82 WEST 1234 5698 7654 32", ok: true, test: true},
			{value: "DE89370400440532013000", ok: true, test: true},
			{value: "FR1420041010050500013M02606", ok: true, test: true},
			{value: "NL91ABNA0417164300", ok: true, test: true},
			{value: "NO9386011117947", ok: true, test: true},
			{value: deIBAN, ok: true},
			{value: frIBAN, ok: true},
			{value: "GB82WEST12345698765433"},      // check digits fail
			{value: "GB82WEST1234569876543"},       // one short for GB
			{value: "GB82WEST123456987654321"},     // one long for GB
			{value: "XX82WEST12345698765432"},      // no such country
			{value: "DE89 3704 0044 0532 0130 0"},  // short
			{value: "DE89 37040 044 0532 0130 00"}, // not in fours
		},
		"us_ssn": {
			{value: "078-05-1120", ok: true, test: true},
			{value: "219-09-9999", ok: true, test: true},
			{value: "536-22-1234", ok: true, conf: Medium},
			{value: "536 22 1234", ok: true, conf: Low}, // only the dashed form is medium alone
			{value: "536221234", ok: true, conf: Low},
			{value: "000-12-3456"},
			{value: "666-12-3456"},
			{value: "912-12-3456"},
			{value: "536-00-1234"},
			{value: "536-22-0000"},
			{value: "536-22 1234"}, // mixed separators
			{value: "111-11-1111"},
			{value: "53-622-1234"}, // not 3-2-4
		},
		"us_itin": {
			{value: "912-70-1234", ok: true, conf: Medium},
			{value: "900-50-0001", ok: true},
			{value: "999-99-9999", ok: true},
			{value: "912701234", ok: true, conf: Low},
			{value: "912-93-1234"}, // group 93 not issued
			{value: "912-49-1234"},
			{value: "812-70-1234"},
		},
		"aba_routing": {
			{value: "111000025", ok: true, conf: Low},
			{value: "021000021", ok: true},
			{value: "322271627", ok: true},
			{value: "021000022"}, // checksum
			{value: "131000024"}, // prefix 13 is outside the Federal Reserve ranges (checksum valid)
			{value: "000000000"},
		},
		"swift_bic": {
			{value: "DEUTDEFF", ok: true, conf: Low},
			{value: "NEDSZAJJXXX", ok: true},
			{value: "BNPAFRPPXXX", ok: true},
			{value: "COBADEFF", ok: true},
			{value: "BNPAFRP0", ok: true, test: true}, // location with 0 second: test BIC
			{value: "DEUTXXFF"},                       // XX is no country
			{value: "DEUTDEF"},
			{value: "DEU1DEFF"},
		},
		"uk_nino": {
			{value: "QQ 12 34 56 C", ok: true, test: true, conf: Medium},
			{value: "JG103759A", ok: true},
			{value: "JG 10 37 59 A", ok: true},
			{value: "JG 103759 A", ok: true},
			{value: "DA123456A"}, // D never first
			{value: "AO123456A"}, // O never second
			{value: "GB123456A"}, // GB not allocated
			{value: "JG103759E"}, // suffix A-D only
			{value: "JG 10 37 5 9A"},
		},
		"uk_nhs": {
			{value: "943 476 5919", ok: true, test: true, conf: Low},
			{value: "9434765919", ok: true, test: true},
			{value: "401 023 2137", ok: true},
			{value: "943 476 5918"},
			{value: "0000000000"},
		},
		"de_steuer_id": {
			{value: "86095742719", ok: true, test: true, conf: Low},
			{value: "36574261809", ok: true},
			{value: "36 574 261 809", ok: true},
			{value: "86095742718"}, // check digit
			{value: "06095742719"}, // leading zero
			{value: "12345678903"}, // every digit once: no repeated digit
		},
		"fr_nir": {
			{value: "2 55 08 14 168 025 38", ok: true, test: true, conf: Medium},
			{value: "295109912611193", ok: true},
			{value: "2 95 10 99 126 111 93", ok: true},
			{value: nirCorsica("18505", "2A", "123456"), ok: true},
			{value: nirCorsica("28505", "2B", "123456"), ok: true},
			{value: spaced(nirCorsica("18505", "2A", "123456"), " ", 1, 2, 2, 2, 3, 3, 2), ok: true},
			{value: spaced(nirCorsica("28505", "2B", "123456"), "-", 1, 2, 2, 2, 3, 3, 2), ok: true},
			{value: spaced(badLast(nirCorsica("18505", "2A", "123456")), " ", 1, 2, 2, 2, 3, 3, 2)}, // key
			{value: spaced(nirCorsica("18505", "2A", "123456"), " ", 1, 2, 2, 2, 3, 3, 1, 1)},
			{value: "295109912611194"}, // key
			{value: "595109912611193"}, // sex digit 5
			{value: "2 95 10 99 126 111 - 93"},
		},
		"es_dni": {
			{value: "54362315K", ok: true, test: true, conf: Medium},
			{value: "87654321X", ok: true},
			{value: "87654321-X", ok: true},
			{value: "87654321 X", ok: true},
			{value: "87.654.321-X", ok: true},
			{value: "87.654.321 X", ok: true},
			{value: "87.654.321-Y"},
			{value: "12.87.654.321-X"}, // part of a longer number written the same way
			{value: "54362315L"},
			{value: "00000000T"},
		},
		"es_nie": {
			{value: "X2482300W", ok: true, test: true, conf: Medium},
			{value: "Y1234567X", ok: true},
			{value: "Z7654321" + dniLetter(27654321), ok: true},
			{value: "X-2482300-W", ok: true, test: true},
			{value: "Y 1234567 X", ok: true},
			{value: "Y-1234567 X"}, // mixed separators
			{value: "Y-1234567-Y"},
			{value: "X2482300X"},
			{value: "W2482300W"},
		},
		"it_codice_fiscale": {
			{value: "RSSMRA85T10A562S", ok: true, test: true, conf: Medium},
			{value: "MRTMTT91D08F205J", ok: true, test: true},
			{value: "RSSMRA85T10A562T"}, // check character
			{value: "RSSMRA85F10A562S"}, // F is no month letter
			{value: "RSSMRA85T35A562S"}, // day 35
		},
		"nl_bsn": {
			{value: "111222333", ok: true, test: true, conf: Low},
			{value: "1112.22.333", ok: true, test: true},
			{value: "111222334"},
			{value: "000000000"},
		},
		"pl_pesel": {
			{value: "44051401359", ok: true, test: true, conf: Low},
			{value: pesel("850312", "1234"), ok: true},
			{value: pesel("052228", "5678"), ok: true}, // month 22: February 2005
			{value: "44051401358"},
			{value: pesel("052230", "5678")}, // 30 February
			{value: pesel("441331", "0135")}, // month 13
		},
		"ca_sin": {
			{value: luhnComplete("13045428"), ok: true, conf: Low},
			{value: "046 454 286"},                      // first digit 0 is not issued
			{value: luhnComplete("83045428")},           // first digit 8 is not issued
			{value: luhnComplete("13045428")[:8] + "0"}, // Luhn fails unless 0 is the check digit
		},
		"au_tfn": {
			{value: "123 456 782", ok: true, test: true, conf: Low},
			{value: "123456782", ok: true, test: true},
			{value: "123 456 783"},
		},
		"in_aadhaar": {
			{value: "2341 2341 2346", ok: true, test: true, conf: Low}, // Verhoeff: 1 in 10
			{value: "234123412346", ok: true, test: true, conf: Low},
			{value: "2341 2341 2347"},
			{value: "1341 2341 2346"},
		},
		"in_pan": {
			{value: "AAAPZ1234C", ok: true, test: true, conf: Low},
			{value: "BNZPM2501F", ok: true},
			{value: "BNZXM2501F"}, // X is no holder type
			{value: "BNZPM25010"},
		},
		"aws_access_key": {
			{value: "AKIAIOSFODNN7EXAMPLE", ok: true, test: true, conf: Medium},
			{value: "AKIAQWERTY234567ABCD", ok: true},
			{value: "ASIAY34FZKBOKMUTVV7A", ok: true},
			{value: "AKIAQWERTY234567ABC"},  // 19
			{value: "AKIBQWERTY234567ABCD"}, // prefix
			{value: "AKIAQWERTY234567ABC0"}, // 0 is not base32
		},
		"aws_secret_key": {
			{value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ok: true, test: true, conf: Low},
			{value: "Zq3+8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true},
			{value: "+q3Z8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true}, // starts with '+'
			{value: "/q3Z8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true}, // starts with '/'
			{value: "1234/hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true}, // first word all digits
			{value: "abcd/hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true}, // first word lower-case
			{value: "Abcd+hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5K", ok: true}, // first word capitalised
			{value: "Zq3+8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5"},            // 39
			{value: "Zq3+8hT2mRk9WvLx4NpB7cYd1sFgJ6uAeQ0oIi5KZ"},          // 41
			{value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"},           // SHA-1 hex: no upper case
			{value: "AAAAAAAAAAAAAAAAAAAAaaaaaaaaaaaaaaaaaaa1"},           // low entropy
		},
		"gcp_api_key": {
			{value: "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", ok: true, test: true, conf: Medium},
			{value: "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", ok: true},
			{value: "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"},
			{value: "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6QR"},
		},
		"github_token": {
			{value: fakeGitHubToken("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1"), ok: true, conf: Medium},
			{value: fakeGitHubToken("gho_", "Zz0Yy9Xx8Ww7Vv6Uu5Tt4Ss3Rr2Qq1"), ok: true},
			{value: fakeGitHubToken("ghs_", "000000000000000000000000000001"), ok: true},
			{value: "github_pat_11ABCDEFG0123456789abc_" + strings.Repeat("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1", 2)[:59], ok: true},
			{value: fakeGitHubToken("ghp_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1")[:39] + "x"}, // checksum
			{value: fakeGitHubToken("ghx_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1")},            // prefix
			{value: "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1000000"},
		},
		"slack_token": {
			{value: "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1", ok: true, conf: Medium},
			{value: "xoxp-263594206564-263594206564-2343594206574-6e7b2d5b4a3c9f8e1d0c7b6a5f4e3d2c", ok: true},
			{value: "xoxq-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1"},
			{value: "xoxb-abcdefghijklmnopqrstuvw"},
		},
		"slack_webhook": {
			{value: "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", ok: true, conf: Medium},
			{value: "hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/aBcDeFgHiJkLmNoPqRsTuVwX", ok: true},
			{value: "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXX"},
			{value: "hooks.slack.com/services/X00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"},
		},
		"stripe_key": {
			{value: "sk_live_4eC39HqLyjWDarjtT1zdp7dc", ok: true, conf: Medium},
			{value: "rk_live_51H8s2kL3mN4oP5qR6sT7uV8wX9yZ0a", ok: true},
			{value: "sk_test_4eC39HqLyjWDarjtT1zdp7dc", ok: true, test: true},
			{value: "pk_live_4eC39HqLyjWDarjtT1zdp7dc"}, // publishable keys are public
			{value: "sk_live_4eC39Hq"},
		},
		"jwt": {
			{value: jwtInfo.TestValues[0], ok: true, test: true, conf: Medium},
			{value: fakeJWT(`{"alg":"RS256","kid":"k1"}`, `{"sub":"u1","exp":1900000000}`), ok: true},
			{value: fakeJWT(`{"typ":"JWT"}`, `{"sub":"u1"}`)},  // no alg
			{value: fakeJWT(`{"alg":"RS256"`, `{"sub":"u1"}`)}, // header not JSON
		},
		"private_key": {
			{value: strings.TrimSpace(fakePEM("RSA PRIVATE KEY", 400)), ok: true, conf: Medium},
			{value: strings.TrimSpace(fakePEM("PRIVATE KEY", 200)), ok: true},
			{value: strings.TrimSpace(fakePEM("OPENSSH PRIVATE KEY", 300)), ok: true},
			{value: strings.TrimSpace(fakePEM("EC PRIVATE KEY", 120)), ok: true},
			{value: strings.TrimSpace(fakePEM("PGP PRIVATE KEY BLOCK", 300)), ok: true},
			{value: strings.ReplaceAll(strings.TrimSpace(fakePEM("RSA PRIVATE KEY", 300)), "\n", "\r\n"), ok: true},
			{value: strings.Replace(strings.TrimSpace(fakePEM("RSA PRIVATE KEY", 300)), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n", 1), ok: true},
			{value: strings.Replace(strings.TrimSpace(fakePEM("PGP PRIVATE KEY BLOCK", 300)), "-----\n", "-----\nVersion: GnuPG v2\n\n", 1), ok: true},
			{value: strings.TrimSpace(fakePEM("PUBLIC KEY", 400))},
			{value: strings.TrimSpace(fakePEM("CERTIFICATE", 400))},
			{value: strings.TrimSpace(fakePEM("RSA PRIVATE KEY", 40))}, // body too short
		},
	}
	for _, info := range Builtins() {
		if _, ok := cases[info.Name]; !ok {
			t.Errorf("no validator cases for %s", info.Name)
		}
	}
	for name, cs := range cases {
		d, err := New(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			t.Run(name+"/"+c.value, func(t *testing.T) {
				// Neutral words around the value: no keyword of any identifier.
				text := "Value: " + c.value + " (see above)."
				ms := d.Scan(text, nil)
				start := strings.Index(text, c.value)
				var got *Match
				for k := range ms {
					if ms[k].Start == start && ms[k].End == start+len(c.value) {
						got = &ms[k]
					}
				}
				if !c.ok {
					if len(ms) > 0 {
						t.Fatalf("Scan(%q) = %+v, want no match", text, ms)
					}
					return
				}
				if got == nil {
					t.Fatalf("Scan(%q) = %+v, want a match at [%d:%d]", text, ms, start, start+len(c.value))
				}
				if got.Detector != name {
					t.Errorf("Detector = %q, want %q", got.Detector, name)
				}
				if got.TestValue != c.test {
					t.Errorf("TestValue = %v, want %v", got.TestValue, c.test)
				}
				if c.conf != 0 && got.Confidence != c.conf {
					t.Errorf("Confidence = %v, want %v", got.Confidence, c.conf)
				}
			})
		}
	}
}

// nirCorsica builds a Corsican NIR: sex+year+month, département 2A/2B,
// commune+order, and the key with 2A read as 19 and 2B as 18.
func nirCorsica(head, dept, rest string) string {
	n := 0
	for _, c := range head {
		n = n*10 + int(c-'0')
	}
	if dept == "2A" {
		n = n*100 + 19
	} else {
		n = n*100 + 18
	}
	for _, c := range rest {
		n = n*10 + int(c-'0')
	}
	return fmt.Sprintf("%s%s%s%02d", head, dept, rest, 97-n%97)
}

// badLast changes the last digit of v.
func badLast(v string) string { return v[:len(v)-1] + string('0'+(v[len(v)-1]-'0'+1)%10) }

// spaced writes v in groups of the given widths joined by sep.
func spaced(v, sep string, widths ...int) string {
	var parts []string
	for _, w := range widths {
		parts = append(parts, v[:w])
		v = v[w:]
	}
	return strings.Join(parts, sep)
}

func dniLetter(n int) string { return string("TRWAGMYFPDXBNJZSQVHLCKE"[n%23]) }

// pesel appends the PESEL check digit to a date (yymmdd, century in the
// month) and serial.
func pesel(date, serial string) string {
	s := date + serial
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, x := range w {
		sum += int(s[i]-'0') * x
	}
	return fmt.Sprintf("%s%d", s, (10-sum%10)%10)
}

// TestTestValuesValidate checks that every published sample in the
// catalogue is found and flagged by its own identifier.
func TestTestValuesValidate(t *testing.T) {
	for _, info := range Builtins() {
		d, err := New(info.Name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range info.TestValues {
			ms := d.Scan("value "+v+" end", nil)
			if len(ms) != 1 || !ms[0].TestValue {
				t.Errorf("%s: Scan(%q) = %+v, want one match with TestValue", info.Name, v, ms)
			}
		}
	}
}

// TestCheckDigitUnique checks that for the check-digit validators exactly
// one final digit completes a number.
func TestCheckDigitUnique(t *testing.T) {
	for _, c := range []struct {
		name   string
		prefix string
		valid  func([]byte) bool
	}{
		{"luhn", "453201511283036", luhn},
		{"verhoeff", "23412341234", verhoeff},
		{"steuer", "8609574271", iso7064Mod11_10},
		{"pesel", "4405140135", validPESEL},
	} {
		n := 0
		for d := '0'; d <= '9'; d++ {
			if c.valid([]byte(c.prefix + string(d))) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d check digits complete %s, want 1", c.name, n, c.prefix)
		}
	}
}
