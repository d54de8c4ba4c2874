package edm

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
)

func rowsIn(m *Matcher, text string) []detect.Match {
	ms, _ := m.Match(text, dataset.Part{Location: "body"}, nil, nil)
	return ms
}

// TestIssue13EDMRecall: three columns of one row are found in every
// layout, for at least 99 % of the rows.
func TestIssue13EDMRecall(t *testing.T) {
	ps := genPeople(1, 400)
	key, data := buildTest(t, ps)
	m := matcherFor(t, key, data, Options{MinColumns: 3})
	r := rand.New(rand.NewPCG(2, 3))
	names := make([]string, 0, len(layouts))
	for n := range layouts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		found := 0
		var missed []string
		for _, p := range ps {
			text := "Some unrelated words first, order 55512 and ref 2024-11.\n" + layouts[name](p, r) + "\nRegards, Ops"
			if ms := rowsIn(m, text); len(ms) == 1 {
				found++
			} else if len(missed) < 3 {
				missed = append(missed, fmt.Sprintf("%d matches in %q", len(ms), text))
			}
		}
		recall := float64(found) / float64(len(ps))
		t.Logf("%-26s recall %.3f", name, recall)
		if recall < 0.99 {
			t.Errorf("%s: recall %.3f < 0.99; e.g. %s", name, recall, strings.Join(missed, "; "))
		}
	}
}

// TestIssue13EDMNoCrossRow: columns of different rows, values just
// outside the window and valid-looking values not in the table never
// make a match.
func TestIssue13EDMNoCrossRow(t *testing.T) {
	ps := genPeople(4, 400)
	key, data := buildTest(t, ps)
	m := matcherFor(t, key, data, Options{MinColumns: 3, Proximity: 300})
	outside := genPeople(99, 200)
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 12) // 324 characters
	hits := 0
	for i, p := range ps {
		q := ps[(i+1)%len(ps)]
		for k := 2; q.first == p.first || q.last == p.last; k++ {
			q = ps[(i+k)%len(ps)]
		}
		o := outside[i%len(outside)]
		for _, text := range []string{
			// Cross-row: the SSN of one row with the name of the next.
			fmt.Sprintf("Customer %s %s, SSN %s.", title(q.first), title(q.last), p.ssn),
			fmt.Sprintf("name,surname,ssn\n%s,%s,%s\n", title(q.first), p.last, p.ssn),
			fmt.Sprintf("acct\temail\n%s\t%s\n%s\t%s\n", p.acct, q.email, q.acct, p.email),
			// Table rows: one row's values on two lines of a table.
			fmt.Sprintf("first\tlast\tssn\n%s\t%s\t%s\n%s\t%s\t%s\n", p.first, p.last, q.ssn, q.first, q.last, p.ssn),
			// Outside the proximity window.
			fmt.Sprintf("SSN %s %s %s %s", p.ssn, filler, title(p.first), title(p.last)),
			fmt.Sprintf("%s %s %s SSN %s", title(p.first), title(p.last), filler, p.ssn),
			// Valid-looking values not in the table.
			fmt.Sprintf("Customer %s %s, SSN %s-%s-%s, account %s, mail %s, phone %s", title(o.first), title(o.last), o.ssn[:3], o.ssn[3:5], o.ssn[5:], o.acct, o.email, o.phone),
		} {
			if ms := rowsIn(m, text); len(ms) > 0 {
				hits++
				if hits < 5 {
					t.Errorf("false match %v in %q", ms[0].Evidence, text)
				}
			}
		}
	}
	if hits > 0 {
		t.Errorf("%d false matches", hits)
	}
}
