package milter

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// fixedIncident gives every verdict the incident id INC-MT, so that the
// scripts can compare whole replies (miltertest compares them exactly).
type fixedIncident struct{ *policy.Engine }

func (f fixedIncident) Evaluate(ctx context.Context, m policy.Message) action.Verdict {
	v := f.Engine.Evaluate(ctx, m)
	if v.IncidentID != "" {
		v.Reply.Text = strings.ReplaceAll(v.Reply.Text, v.IncidentID, "INC-MT")
		v.QuarantineReason = strings.ReplaceAll(v.QuarantineReason, v.IncidentID, "INC-MT")
		v.IncidentID = "INC-MT"
	}
	return v
}

// TestMiltertest drives the milter with the Sendmail-side test tool
// miltertest (Debian package "miltertest"), one Lua script per case under
// testdata/. It is skipped when miltertest is missing, unless CI=true.
func TestMiltertest(t *testing.T) {
	bin, err := exec.LookPath("miltertest")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("miltertest not installed (Debian package miltertest; scripts/deps.sh installs it)")
		}
		t.Skip("miltertest not installed (apt-get install miltertest)")
	}
	// miltertest compares single-line replies only: make the block text
	// one line.
	e := realEngine(t, strings.Replace(testPolicy, `\nincident {incident_id}`, ` incident {incident_id}`, 1))
	ln := testutil.Listen(t)
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return fixedIncident{e} }, WithLogger(testutil.Logger(t)))
	testutil.Serve(t, func() error { return s.Serve(ln) }, s.Shutdown)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	card1, card2 := luhn("45567375", 16), luhn("52004828", 16)

	for _, name := range []string{"pass", "block", "quarantine", "modify", "early"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-s", filepath.Join(dir, name+".lua"),
				"-D", "port="+port, "-D", "dir="+dir, "-D", "card1="+card1, "-D", "card2="+card2)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("miltertest %s: %v\n%s", name, err, out)
			}
			if !strings.Contains(string(out), name+" ok") {
				t.Errorf("miltertest %s did not finish:\n%s", name, out)
			}
		})
	}
}
