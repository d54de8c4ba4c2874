package edm

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// person is one generated table row.
type person struct {
	ssn, acct, email, first, last, dob, phone string
	y, m, d                                   int
}

var (
	firstNames = []string{"james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen", "christopher", "lisa", "daniel", "nancy", "matthew", "betty", "anthony", "margaret", "mark", "sandra", "josé", "zoë", "siobhán", "łukasz", "renée", "müller"}
	lastNames  = []string{"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "o'brien", "van der berg", "nguyen", "kowalski", "fernández", "dubois"}
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// genPeople makes n rows with distinct anchor values and distinct full
// names (so that a mix of two rows is never one row).
func genPeople(seed uint64, n int) []person {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	seen := map[string]bool{}
	var out []person
	for len(out) < n {
		p := person{
			ssn:   fmt.Sprintf("%03d%02d%04d", 1+r.IntN(665), 1+r.IntN(99), 1+r.IntN(9999)),
			acct:  fmt.Sprintf("AC%c%c%07d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(10000000)),
			first: firstNames[r.IntN(len(firstNames))],
			last:  lastNames[r.IntN(len(lastNames))],
			y:     1940 + r.IntN(65), m: 1 + r.IntN(12), d: 1 + r.IntN(28),
			phone: fmt.Sprintf("%03d%03d%04d", 201+r.IntN(700), 200+r.IntN(700), r.IntN(10000)),
		}
		p.email = fmt.Sprintf("%s.%s%d@example%d.com", strings.ReplaceAll(strings.ReplaceAll(p.first, "'", ""), " ", ""), strings.ReplaceAll(strings.ReplaceAll(p.last, "'", ""), " ", ""), r.IntN(1000), r.IntN(50))
		p.dob = fmt.Sprintf("%04d-%02d-%02d", p.y, p.m, p.d)
		k := p.first + " " + p.last
		if seen[p.ssn] || seen[p.acct] || seen[p.email] || seen[k] || seen[p.phone] {
			continue
		}
		seen[p.ssn], seen[p.acct], seen[p.email], seen[k], seen[p.phone] = true, true, true, true, true
		out = append(out, p)
	}
	return out
}

const testColumns = "ssn:digits:primary,acct:alnum:primary,email:email:primary,first:name,last:name,dob:date,phone:phone"

func tableCSV(ps []person) string {
	var b strings.Builder
	b.WriteString("ssn|acct|email|first|last|dob|phone\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%s-%s-%s|%s|%s|%s|%s|%s|(%s) %s-%s\n", p.ssn[:3], p.ssn[3:5], p.ssn[5:], p.acct, p.email,
			title(p.first), p.last, p.dob, p.phone[:3], p.phone[3:6], p.phone[6:])
	}
	return b.String()
}

func title(s string) string {
	w := strings.Fields(s)
	for i, x := range w {
		r := []rune(x)
		w[i] = strings.ToUpper(string(r[:1])) + string(r[1:])
	}
	return strings.Join(w, " ")
}

// layouts write three columns of one row (an anchor and two more) in the
// ways a message carries them.
var layouts = map[string]func(p person, r *rand.Rand) string{
	"free text": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("Hello team, the customer %s %s asked about the account. Their SSN is %s-%s-%s, please update the file.", title(p.first), title(p.last), p.ssn[:3], p.ssn[3:5], p.ssn[5:])
	},
	"csv": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("id,name,surname,ssn,note\n17,%s,%s,%s,ok\n", title(p.first), title(p.last), p.ssn)
	},
	"table line (xlsx, html)": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("Account\tEmail\tPhone\tNote\n%s\t%s\t%s.%s.%s\tcall back\n", p.acct, p.email, p.phone[:3], p.phone[3:6], p.phone[6:])
	},
	"split lines": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("Name:\n%s\n%s\n\nDate of birth:\n%d %s %d\n\nAccount:\n%s\n", title(p.first), title(p.last), p.d, monthNames[p.m-1], p.y, strings.ToLower(p.acct))
	},
	"reformatted phone and id": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("Reach %s on +1 %s %s %s or by mail; ssn %s %s %s.", title(p.first), p.phone[:3], p.phone[3:6], p.phone[6:], p.ssn[:3], p.ssn[3:5], p.ssn[5:])
	},
	"case": func(p person, r *rand.Rand) string {
		return fmt.Sprintf("EMAIL: %s  NAME: %s %s  DOB: %02d/%02d/%d", strings.ToUpper(p.email), strings.ToUpper(p.first), strings.ToUpper(p.last), p.m, p.d, p.y)
	},
}

func buildTest(t testing.TB, ps []person) (*Key, []byte) {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cols, err := ParseColumns(testColumns)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := Build(strings.NewReader(tableCSV(ps)), key, BuildOptions{Name: "customers", Columns: cols, Delimiter: '|', Header: true})
	if err != nil {
		t.Fatal(err)
	}
	return key, data
}

func matcherFor(t testing.TB, key *Key, data []byte, o Options) *Matcher {
	t.Helper()
	x, err := Parse(data, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher("customers", x, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
