package detect

import (
	"strings"
	"testing"
)

// Every numeric validator is reached with digit counts that are not its
// identifier's (cells beside a value in a column or a row), and must say
// "not valid" rather than read past the digits: a nine-digit cell under
// an NHS number made validNHS index the tenth digit.
func TestIssue12ValidatorsTakeAnyDigitCount(t *testing.T) {
	for i := range registry {
		if registry[i].numeric == nil {
			continue
		}
		for n := 0; n <= 48; n++ {
			for _, digit := range "0179" {
				d := []byte(strings.Repeat(string(digit), n))
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("checkNumeric(%s, %d digits %q): panic %v", registry[i].info.Name, n, d, p)
						}
					}()
					_, ok := checkNumeric(id(i), d)
					if ok && !registry[i].numeric.accepts(n) {
						t.Fatalf("checkNumeric(%s, %q) valid with a digit count the identifier does not have", registry[i].info.Name, d)
					}
				}()
			}
		}
	}
}

// The input FuzzSetScan found: a column of a ten-digit value and a cell
// of nine digits.
func TestIssue12ColumnOfOtherDigitCount(t *testing.T) {
	for _, text := range []string{
		"0  0007001010\n0  000000000",
		"NHS number\n943 476 5919\n943 476 591\n",
		"patient 9434765919\npatient 943476591\n",
	} {
		fuzzSet.Scan(text, nil) // must not panic
	}
}
