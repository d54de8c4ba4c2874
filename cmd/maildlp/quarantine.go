package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/report"
)

const quarantineUsage = `usage: maildlp quarantine list    [--queue-id ID] [--state S] [--node N] [--json] [flags]
       maildlp quarantine show    --queue-id ID [--mta-host H] [--json] [flags]
       maildlp quarantine release --queue-id ID [--mta-host H] --reason TEXT [--wait D] [flags]
       maildlp quarantine delete  --queue-id ID [--mta-host H] --reason TEXT [--wait D] [flags]
       maildlp quarantine sync    [flags]
       maildlp quarantine work    [flags]

With the incident store enabled in --config ([store]), the commands act
through the store, across every node sharing it: list and show read the
held messages and their history; release and delete record a request
(with your login name and the reason) that the node next to the MTA
holding the message executes, and wait for its result; sync reconciles
the store with the local MTA's hold queue; work runs this node's
quarantine worker in the foreground (as root, beside a maildlp serve that
runs without privileges).

Without a store (or with --local), they act on the local Postfix only:
list shows its hold queue (postqueue -j) with the reason maildlp gave,
looked up by queue id in the incident log; release puts a message back
in the active queue (postsuper -H); delete removes one from the hold
queue (postsuper -d ID hold). release and delete need the rights of
postsuper (root).

Flags:
`

func runQuarantine(args []string) int {
	return quarantineMain(args, os.Stdout, os.Stderr)
}

// queueIDPattern is a Postfix queue id, short or long form. It also keeps
// "ALL" and option-like words away from postsuper.
var queueIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{6,32}$`)

func quarantineMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, quarantineUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return 0
		}
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("quarantine "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, quarantineUsage)
		fs.PrintDefaults()
	}
	queueID := fs.String("queue-id", "", "Postfix queue id of the message")
	pfConfig := fs.String("postfix-config", "", "Postfix configuration directory (postqueue/postsuper -c); default the system one")
	cfgPath := fs.String("config", defaultConfigPath, "maildlp main config (for incidents.path)")
	incidents := fs.String("incidents", "", "incident log to look reasons up in (default: incidents.path of --config)")
	asJSON := fs.Bool("json", false, "list, show: print JSON (one object per line)")
	sf := quarantineFlags{
		local:   fs.Bool("local", false, "act on the local Postfix directly, even with a store configured"),
		reason:  fs.String("reason", "", "release, delete: why (required with a store; recorded with the request)"),
		mtaHost: fs.String("mta-host", "", "the MTA host holding the message (when its queue id is held on several)"),
		state:   fs.String("state", "held", "list: held, released, deleted, gone or all"),
		node:    fs.String("node", "", "list: only messages of this node"),
		wait:    fs.Duration("wait", 30*time.Second, "release, delete: how long to wait for the result (0: do not wait)"),
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "maildlp quarantine %s: unexpected argument %q\n", verb, fs.Arg(0))
		return 2
	}
	if *queueID != "" && !queueIDPattern.MatchString(*queueID) {
		fmt.Fprintf(stderr, "maildlp quarantine: invalid queue id %q (want the letters and digits of one Postfix queue id)\n", *queueID)
		return 2
	}
	if !*sf.local {
		if cfg := storeConfig(*cfgPath, stderr); cfg != nil {
			return quarantineStore(verb, cfg, *queueID, *pfConfig, *asJSON, sf, stdout, stderr)
		}
	}
	q := postfixQueue{configDir: *pfConfig}
	switch verb {
	case "list":
		path := *incidents
		if path == "" {
			path = incidentPath(*cfgPath, stderr)
		}
		return quarantineList(q, *queueID, path, *asJSON, stdout, stderr)
	case "release", "delete":
		if *queueID == "" {
			fmt.Fprintf(stderr, "maildlp quarantine %s: --queue-id is required\n", verb)
			return 2
		}
		held, err := q.held()
		if err != nil {
			fmt.Fprintf(stderr, "maildlp quarantine %s: %v\n", verb, err)
			return 1
		}
		if !containsID(held, *queueID) {
			fmt.Fprintf(stderr, "maildlp quarantine %s: %s is not in the hold queue\n", verb, *queueID)
			return 1
		}
		var err2 error
		if verb == "release" {
			err2 = q.superuser("-H", *queueID)
		} else {
			err2 = q.superuser("-d", *queueID, "hold")
		}
		if err2 != nil {
			fmt.Fprintf(stderr, "maildlp quarantine %s: %v\n", verb, err2)
			return 1
		}
		past := map[string]string{"release": "released", "delete": "deleted"}[verb]
		fmt.Fprintf(stdout, "%s %s\n", past, *queueID)
		return 0
	default:
		if verb == "show" || verb == "sync" || verb == "work" {
			fmt.Fprintf(stderr, "maildlp quarantine %s: needs the incident store ([store] in --config)\n", verb)
			return 2
		}
		fmt.Fprintf(stderr, "maildlp quarantine: unknown action %q (want list, show, release, delete or sync)\n", verb)
		return 2
	}
}

// incidentPath is incidents.path of the main config, or "" when it cannot
// be read or names standard output.
func incidentPath(cfgPath string, stderr io.Writer) string {
	if _, err := os.Stat(cfgPath); err != nil {
		return ""
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp quarantine: %s: %v (quarantine reasons not shown)\n", cfgPath, err)
		return ""
	}
	if c.Incidents.Path == "-" {
		return ""
	}
	return c.Incidents.Path
}

// heldMessage is one message of postqueue -j in the hold queue.
type heldMessage struct {
	QueueName   string `json:"queue_name"`
	QueueID     string `json:"queue_id"`
	ArrivalTime int64  `json:"arrival_time"`
	MessageSize int64  `json:"message_size"`
	Sender      string `json:"sender"`
	Recipients  []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason,omitempty"`
	} `json:"recipients"`
}

// postfixQueue runs postqueue and postsuper of the local Postfix.
type postfixQueue struct {
	configDir string
}

func (q postfixQueue) command(name string, args ...string) *exec.Cmd {
	if q.configDir != "" {
		args = append([]string{"-c", q.configDir}, args...)
	}
	return exec.Command(name, args...)
}

// held lists the messages in the hold queue (postqueue -j).
func (q postfixQueue) held() ([]heldMessage, error) {
	cmd := q.command("postqueue", "-j")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("postqueue -j: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseQueue(bytes.NewReader(out))
}

// parseQueue reads postqueue -j output (JSON lines) and keeps the
// messages of the hold queue.
func parseQueue(r io.Reader) ([]heldMessage, error) {
	var held []heldMessage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var m heldMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("postqueue -j line %d: %v", line, err)
		}
		if m.QueueName == "hold" {
			held = append(held, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("postqueue -j: %v", err)
	}
	return held, nil
}

func (q postfixQueue) superuser(args ...string) error {
	cmd := q.command("postsuper", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("postsuper %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func containsID(held []heldMessage, id string) bool {
	for _, m := range held {
		if m.QueueID == id {
			return true
		}
	}
	return false
}

// quarantineEntry is one line of quarantine list --json.
type quarantineEntry struct {
	QueueID     string    `json:"queue_id"`
	Arrival     time.Time `json:"arrival_time"`
	Size        int64     `json:"message_size"`
	Sender      string    `json:"sender"`
	Recipients  []string  `json:"recipients"`
	IncidentID  string    `json:"incident_id,omitempty"`
	Policies    []string  `json:"policies,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	IncidentErr string    `json:"-"`
}

func quarantineList(q postfixQueue, only, incidentsPath string, asJSON bool, stdout, stderr io.Writer) int {
	held, err := q.held()
	if err != nil {
		fmt.Fprintf(stderr, "maildlp quarantine list: %v\n", err)
		return 1
	}
	want := map[string]bool{}
	for _, m := range held {
		if only == "" || m.QueueID == only {
			want[m.QueueID] = true
		}
	}
	reasons := map[string]report.Incident{}
	if incidentsPath != "" && len(want) > 0 {
		reasons, err = findIncidents(incidentsPath, want)
		if err != nil {
			fmt.Fprintf(stderr, "maildlp quarantine list: %v (quarantine reasons not shown)\n", err)
		}
	}
	var entries []quarantineEntry
	for _, m := range held {
		if !want[m.QueueID] {
			continue
		}
		e := quarantineEntry{QueueID: m.QueueID, Arrival: time.Unix(m.ArrivalTime, 0).UTC(), Size: m.MessageSize, Sender: m.Sender, Recipients: []string{}}
		for _, r := range m.Recipients {
			e.Recipients = append(e.Recipients, r.Address)
		}
		if in, ok := reasons[m.QueueID]; ok {
			e.IncidentID, e.Reason = in.IncidentID, in.QuarantineReason
			for _, p := range in.Policies {
				e.Policies = append(e.Policies, p.Name)
			}
		}
		entries = append(entries, e)
	}
	if only != "" && len(entries) == 0 {
		fmt.Fprintf(stderr, "maildlp quarantine list: %s is not in the hold queue\n", only)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range entries {
			enc.Encode(e)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE ID\tARRIVAL\tSENDER\tRECIPIENTS\tINCIDENT\tREASON")
	for _, e := range entries {
		sender := e.Sender
		if sender == "" {
			sender = "<>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.QueueID, e.Arrival.Format(time.RFC3339), sender,
			strings.Join(e.Recipients, ","), dash(e.IncidentID), dash(e.Reason))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d message(s) held\n", len(entries))
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// findIncidents scans the incident log for the last quarantine incident
// of each wanted queue id.
func findIncidents(path string, want map[string]bool) (map[string]report.Incident, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]report.Incident{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		b := sc.Bytes()
		// Cheap filter before decoding: the line must name a wanted id.
		if !bytes.Contains(b, []byte(`"queue_id":"`)) {
			continue
		}
		var in report.Incident
		if json.Unmarshal(b, &in) != nil || !want[in.QueueID] || in.Action != "quarantine" {
			continue
		}
		out[in.QueueID] = in
	}
	return out, sc.Err()
}
