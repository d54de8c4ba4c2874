package detect

// Checksums shared by several identifiers. Every function takes ASCII
// digits ('0'..'9'); callers pass only digits.

// luhn reports whether d passes the Luhn (mod 10) check (ISO/IEC 7812-1).
func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

// verhoeff tables (Verhoeff 1969), as used by UIDAI for Aadhaar.
var (
	verhoeffD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

// verhoeff reports whether d, including its final check digit, passes the
// Verhoeff dihedral-group check.
func verhoeff(d []byte) bool {
	c := uint8(0)
	for i := range d {
		c = verhoeffD[c][verhoeffP[i%8][d[len(d)-1-i]-'0']]
	}
	return c == 0
}

// weightedSum returns Σ d[i]*w[i] over len(w) digits.
func weightedSum(d []byte, w []int) int {
	s := 0
	for i, x := range w {
		s += int(d[i]-'0') * x
	}
	return s
}

// iso7064Mod11_10 reports whether d passes ISO 7064 MOD 11,10 (the last
// digit is the check digit).
func iso7064Mod11_10(d []byte) bool {
	p := 10
	for _, c := range d[:len(d)-1] {
		s := (int(c-'0') + p) % 10
		if s == 0 {
			s = 10
		}
		p = (s * 2) % 11
	}
	check := 11 - p
	if check == 10 {
		check = 0
	}
	return check == int(d[len(d)-1]-'0')
}

// allSame reports whether every byte of d is the same.
func allSame(d []byte) bool {
	for _, c := range d[1:] {
		if c != d[0] {
			return false
		}
	}
	return true
}

// num returns the decimal value of the ASCII digits d.
func num(d []byte) int {
	n := 0
	for _, c := range d {
		n = n*10 + int(c-'0')
	}
	return n
}
