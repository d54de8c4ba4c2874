package corpus

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Check digits computed from the published rules, independently of the
// detectors they test.

// LuhnDigit returns the Luhn check digit for the digits s.
func LuhnDigit(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		v := int(s[len(s)-1-i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}

// LuhnValid reports whether the digits s pass the Luhn check.
func LuhnValid(s string) bool {
	return len(s) > 1 && LuhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

// Luhn completes the digits s with their Luhn check digit.
func Luhn(s string) string { return s + string(LuhnDigit(s)) }

// mod97 returns the decimal number s (digits only) modulo 97.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		r = (r*10 + int(s[i]-'0')) % 97
	}
	return r
}

// ibanDigits rewrites letters as two-digit numbers (A=10 … Z=35).
func ibanDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			b.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// IBANComplete returns the IBAN of country cc with bban and its MOD 97-10
// check digits.
func IBANComplete(cc, bban string) string {
	check := 98 - mod97(ibanDigits(bban+cc+"00"))
	return fmt.Sprintf("%s%02d%s", cc, check, bban)
}

// IBANValid reports whether iban (no spaces) passes MOD 97-10.
func IBANValid(iban string) bool {
	if len(iban) < 5 {
		return false
	}
	return mod97(ibanDigits(iban[4:]+iban[:4])) == 1
}

// verhoeff tables (dihedral group D5).
var (
	vD = [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	vP = [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	vInv = [10]int{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// VerhoeffValid reports whether the digits s pass the Verhoeff check.
func VerhoeffValid(s string) bool {
	c := 0
	for i := 0; i < len(s); i++ {
		c = vD[c][vP[i%8][int(s[len(s)-1-i]-'0')]]
	}
	return c == 0
}

// Verhoeff completes the digits s with their Verhoeff check digit.
func Verhoeff(s string) string {
	c := 0
	for i := 0; i < len(s); i++ {
		c = vD[c][vP[(i+1)%8][int(s[len(s)-1-i]-'0')]]
	}
	return s + strconv.Itoa(vInv[c])
}

// weighted returns Σ w[i]·s[i] over the digits s.
func weighted(s string, w ...int) int {
	sum := 0
	for i, x := range w {
		sum += x * int(s[i]-'0')
	}
	return sum
}

// ABAValid reports whether the nine digits s pass the ABA checksum.
func ABAValid(s string) bool {
	return len(s) == 9 && weighted(s, 3, 7, 1, 3, 7, 1, 3, 7, 1)%10 == 0
}

// iso7064Mod1110 returns the ISO 7064 MOD 11,10 check digit of s.
func iso7064Mod1110(s string) byte {
	p := 10
	for i := 0; i < len(s); i++ {
		t := (int(s[i]-'0') + p) % 10
		if t == 0 {
			t = 10
		}
		p = (2 * t) % 11
	}
	c := 11 - p
	if c == 10 {
		c = 0
	}
	return byte('0' + c)
}

// bigMod returns the decimal number s modulo m.
func bigMod(s string, m int64) int64 {
	n, _ := new(big.Int).SetString(s, 10)
	return new(big.Int).Mod(n, big.NewInt(m)).Int64()
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// cfOdd is the codice fiscale table for characters in odd positions
// (1st, 3rd, …), indexed 0-9 for digits, 10-35 for A-Z.
var cfOdd = [36]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
}

// cfCheck returns the check letter of the first 15 characters of a
// codice fiscale.
func cfCheck(v string) byte {
	sum := 0
	for k := 0; k < 15; k++ {
		c := v[k]
		x := int(c - 'A')
		digit := c >= '0' && c <= '9'
		if digit {
			x = int(c - '0')
		}
		if k%2 == 0 {
			if digit {
				sum += cfOdd[x]
			} else {
				sum += cfOdd[10+x]
			}
		} else {
			sum += x
		}
	}
	return byte('A' + sum%26)
}
