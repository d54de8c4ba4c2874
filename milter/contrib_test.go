package milter

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
)

// TestContribMatchesDefaults keeps the shipped Postfix and Sendmail
// fragments and the guide pointing at the address maildlp listens on by
// default.
func TestContribMatchesDefaults(t *testing.T) {
	def, err := ParseAddr(config.DefaultMilterListen)
	if err != nil {
		t.Fatal(err)
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	postfix := read("../contrib/postfix/main.cf.milter")
	m := regexp.MustCompile(`(?m)^smtpd_milters\s*=\s*(\S+)`).FindStringSubmatch(postfix)
	if m == nil {
		t.Fatal("contrib/postfix/main.cf.milter sets no smtpd_milters")
	}
	if got, err := ParseAddr(m[1]); err != nil || got.Address != def.Address {
		t.Errorf("smtpd_milters = %s (%+v, %v), want the default %s", m[1], got, err, def.Address)
	}
	for _, want := range []string{"non_smtpd_milters = $smtpd_milters", "milter_protocol = 6", "milter_default_action = tempfail"} {
		if !strings.Contains(postfix, "\n"+want+"\n") {
			t.Errorf("contrib/postfix/main.cf.milter lacks %q", want)
		}
	}

	sendmail := read("../contrib/sendmail/sendmail.mc")
	s := regexp.MustCompile("(?m)^INPUT_MAIL_FILTER\\(`maildlp', `S=([^,]+), F=T, T=[^']+'\\)").FindStringSubmatch(sendmail)
	if s == nil {
		t.Fatal("contrib/sendmail/sendmail.mc has no INPUT_MAIL_FILTER line for maildlp with F=T")
	}
	if got, err := ParseAddr(s[1]); err != nil || got.Address != def.Address {
		t.Errorf("sendmail S=%s (%+v, %v), want the default %s", s[1], got, err, def.Address)
	}

	// The lines the guides quote are the shipped ones.
	guide := read("../docs/milter.md")
	for _, l := range []string{"smtpd_milters = inet:127.0.0.1:10030", "non_smtpd_milters = $smtpd_milters", "milter_protocol = 6", "milter_default_action = tempfail"} {
		if !strings.Contains(guide, l) || !strings.Contains(postfix, l) {
			t.Errorf("docs/milter.md and the Postfix fragment disagree on %q", l)
		}
	}
	if line := "INPUT_MAIL_FILTER(`maildlp', `S=inet:10030@127.0.0.1, F=T, T=C:10s;S:30s;R:60s;E:5m')"; !strings.Contains(read("../docs/sendmail.md"), line) || !strings.Contains(sendmail, line) {
		t.Errorf("docs/sendmail.md and the Sendmail fragment disagree on %q", line)
	}
}

// TestIssue7ContribNoPercentHack: every shipped Postfix main.cf turns off
// the percent hack and the bang-path swap, which would relay
// user%other@ours to user@other after maildlp judged it internal.
func TestIssue7ContribNoPercentHack(t *testing.T) {
	files, err := filepath.Glob("../contrib/postfix/*main.cf*")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../contrib/postfix/*/main.cf")
	files = append(files, more...)
	if len(files) < 6 {
		t.Fatalf("found %d Postfix main.cf fragments (%v), want every set-up's", len(files), files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"\nallow_percent_hack = no\n", "\nswap_bangpath = no\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q", f, strings.TrimSpace(want))
			}
		}
	}
}
