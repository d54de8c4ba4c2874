package app

import (
	"bytes"
	"encoding/json"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"
)

// TestIssue9LibraryWarningsAreJSON: a warning of the milter session loop
// (here about a malformed packet from the MTA) comes out as a line of the
// service's JSON log with component "milter", not as plain text from the
// standard log package.
func TestIssue9LibraryWarningsAreJSON(t *testing.T) {
	old := gomilter.LogWarning
	defer func() { gomilter.LogWarning = old }()
	var std bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&std)
	defer log.SetOutput(prev)

	ta := newTestApp(t, "5s", keywordPolicy("nightingale"), "")
	ta.run(t)
	c, err := net.Dial("tcp", ta.addr(t, "milter"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0, 0, 0, 0}) // an empty packet
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.Read(make([]byte, 1)) // the milter closes the connection
	c.Close()

	var line map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		for _, l := range strings.Split(ta.logs.String(), "\n") {
			if strings.Contains(l, `"component":"milter"`) && strings.Contains(l, "empty packet") {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatalf("milter warning is not a JSON line: %q", l)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if line == nil || line["level"] != "WARN" || line["msg"] != "reading a milter command failed" {
		t.Fatalf("no milter warning in the JSON log: %v\n%s", line, ta.logs.String())
	}
	if strings.Contains(std.String(), "milter") {
		t.Errorf("the milter wrote to the standard logger: %q", std.String())
	}
}
