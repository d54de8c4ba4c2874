package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// edmTable is a customer export with three primary columns.
const edmTable = `ssn|account|email|first|last|phone
123-45-6789|AB1234567|john.smith@example.com|John|Smith|(555) 010-4477
987-65-4321|CD7654321|mary.jones@example.org|Mary|Jones|555 020 1234
`

// edmDataset indexes edmTable with the maildlp binary (keygen, index) and
// returns a policy that blocks three columns of one row.
func edmDataset(t *testing.T) string {
	t.Helper()
	dir := tempDir(t, "edm")
	run := func(args ...string) {
		out, err := exec.Command(maildlpBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("maildlp %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	table := filepath.Join(dir, "customers.csv")
	if err := os.WriteFile(table, []byte(edmTable), 0o600); err != nil {
		t.Fatal(err)
	}
	key, index := filepath.Join(dir, "customers.key"), filepath.Join(dir, "customers.edm")
	run("edm", "keygen", "--out", key)
	run("edm", "index", table, "--key", key, "--header", "--delimiter", "|", "--name", "customers",
		"--columns", "ssn:digits:primary,account:alnum:primary,email:email:primary,first:name,last:name,phone:phone", "--out", index)
	return fmt.Sprintf(`
[[detector]]
name = "customer_record"
kind = "edm"
index = %q
key_file = %q
min_columns = 3
confidence = "high"

[[policy]]
name = "Customer records"
rule = { detector = "customer_record" }
block = { code = 550, enhanced = "5.7.1", text = "customer data refused" }
`, index, key)
}

// TestIssue13EDMThroughPostfix: behind a real Postfix, the milter and the
// hop refuse a message carrying three columns of one customer row (name,
// reformatted SSN) and deliver one whose columns come from two rows.
func TestIssue13EDMThroughPostfix(t *testing.T) {
	needMaildlp(t)
	rig := newFrontRig(t, DLPConfig{Policies: edmDataset(t)}, nil)
	row := cleanMsg("edm-row")
	row.Body = "Hello,\n\nplease update Mary Jones, SSN 987 65 4321, before Friday.\n"
	mixed := cleanMsg("edm-mixed")
	mixed.Body = "Hello,\n\nplease update Mary Smith, SSN 123-45-6789, before Friday.\n"
	for _, fe := range []string{"milter", "reinject"} {
		pf := map[string]*Postfix{"milter": rig.pfMilter, "reinject": rig.pfHop}[fe]
		t.Run(fe, func(t *testing.T) {
			if res := sendRaw(t, pf.Addr(), false, row.Bytes()); res.Code != 550 || !strings.Contains(wireText(res), "customer data refused") {
				t.Errorf("three columns of one row: %q, want 550 customer data refused", wireText(res))
			}
			if res := sendRaw(t, pf.Addr(), false, mixed.Bytes()); res.Code != 250 {
				t.Errorf("columns of two rows: %q, want 250", wireText(res))
			}
		})
	}
	for _, l := range rig.dlp.LogLines(`"msg":"decision"`) {
		// The values themselves, not digits a duration or an id may hold.
		if s := fmt.Sprint(l); strings.Contains(s, "987 65") || strings.Contains(s, "987654321") || strings.Contains(s, "Jones") {
			t.Errorf("decision log shows a value: %s", s)
		}
	}
}
