package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maildlp/maildlp/store"
)

const incidentsUsage = `usage: maildlp incidents list       [filters] [--after CURSOR] [--limit N] [--json]
       maildlp incidents show       ID [--json]
       maildlp incidents set-status ID STATUS [--reason TEXT]
       maildlp incidents assign     ID USER [--reason TEXT]
       maildlp incidents note       ID TEXT
       maildlp incidents export     [filters] [--format jsonl|csv|cef]

Incidents are read from the incident store ([store] of the config, or
--db / --dsn). list prints one page, newest first; the next page is asked
for with the --after cursor it prints on standard error. STATUS is new,
in_review, confirmed, false_positive or accepted_risk. Every change is
written to the incident's audit log with the actor (--actor, default the
login name) and the reason.

Filters: --since and --until (RFC 3339 time, or a duration before now:
"24h"), --policy, --severity, --action, --status, --assignee, --sender,
--rcpt-domain, --node.

Flags:
`

func runIncidents(args []string) int { return incidentsMain(args, os.Stdout, os.Stderr) }

// incidentFlags are the flags of every incidents verb.
type incidentFlags struct {
	store                      storeFlags
	since, until               string
	policy, severity, action   string
	status, assignee, sender   string
	rcptDomain, node           string
	after, format, actor, from string
	reason                     string
	limit                      int
	json                       bool
}

func incidentsMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, incidentsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return 0
		}
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("incidents "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, incidentsUsage); fs.PrintDefaults() }
	var f incidentFlags
	f.store.register(fs)
	fs.StringVar(&f.since, "since", "", "incidents at or after this time (RFC 3339, or a duration before now)")
	fs.StringVar(&f.until, "until", "", "incidents before this time (RFC 3339, or a duration before now)")
	fs.StringVar(&f.policy, "policy", "", "a matched policy's name")
	fs.StringVar(&f.severity, "severity", "", "highest severity: low, medium, high, critical")
	fs.StringVar(&f.action, "action", "", "action taken: pass, modify, redirect, quarantine, tempfail, block ...")
	fs.StringVar(&f.status, "status", "", "review status")
	fs.StringVar(&f.assignee, "assignee", "", "assigned reviewer")
	fs.StringVar(&f.sender, "sender", "", "envelope sender (exact)")
	fs.StringVar(&f.rcptDomain, "rcpt-domain", "", "a recipient's domain")
	fs.StringVar(&f.node, "node", "", "maildlp node that decided")
	fs.StringVar(&f.after, "after", "", "list: the cursor of the previous page")
	fs.IntVar(&f.limit, "limit", 50, "list: incidents per page (at most 1000)")
	fs.BoolVar(&f.json, "json", false, "list, show: print JSON")
	fs.StringVar(&f.format, "format", "jsonl", "export: jsonl, csv or cef")
	fs.StringVar(&f.actor, "actor", "", "who makes the change (default the login name)")
	fs.StringVar(&f.from, "source-addr", "", "where the change comes from, for the audit log (default local)")
	fs.StringVar(&f.reason, "reason", "", "set-status, assign: why")
	if err := fs.Parse(reorder(args[1:], fs)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	want := map[string]int{"list": 0, "export": 0, "show": 1, "note": 2, "set-status": 2, "assign": 2}
	n, ok := want[verb]
	if !ok {
		fmt.Fprintf(stderr, "maildlp incidents: unknown action %q (want list, show, set-status, assign, note or export)\n", verb)
		return 2
	}
	if fs.NArg() != n {
		fmt.Fprintf(stderr, "maildlp incidents %s: want %d arguments, got %d (see maildlp incidents --help)\n", verb, n, fs.NArg())
		return 2
	}
	filter, err := f.filter(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "maildlp incidents %s: %v\n", verb, err)
		return 2
	}
	if verb == "export" && f.format != "jsonl" && f.format != "csv" && f.format != "cef" {
		fmt.Fprintf(stderr, "maildlp incidents export: unknown format %q (want jsonl, csv or cef)\n", f.format)
		return 2
	}
	ctx := context.Background()
	st, _, err := f.store.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp incidents %s: %v\n", verb, err)
		return 1
	}
	defer st.Close()
	who := store.Actor{Name: f.actor, Addr: f.from}
	if who.Name == "" {
		who.Name = loginName()
	}
	if who.Addr == "" {
		who.Addr = "local"
	}
	a := fs.Args()
	switch verb {
	case "list":
		err = listIncidents(ctx, st, filter, store.Page{After: f.after, Limit: f.limit}, f.json, stdout, stderr)
	case "show":
		err = showIncident(ctx, st, a[0], f.json, stdout)
	case "export":
		err = exportIncidents(ctx, st, filter, f.format, stdout)
	case "set-status":
		var s store.Status
		if s, err = store.ParseStatus(a[1]); err == nil {
			err = st.SetStatus(ctx, a[0], s, who, f.reason)
		}
	case "assign":
		err = st.Assign(ctx, a[0], a[1], who, f.reason)
	case "note":
		err = st.Note(ctx, a[0], a[1], who)
	}
	if err != nil {
		fmt.Fprintf(stderr, "maildlp incidents %s: %v\n", verb, err)
		return 1
	}
	switch verb {
	case "set-status", "assign", "note":
		fmt.Fprintf(stdout, "%s %s: done\n", a[0], verb)
	}
	return 0
}

// reorder moves flags after the positional arguments in front of them,
// so that "show ID --json" works like "show --json ID".
func reorder(args []string, fs *flag.FlagSet) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := fs.Lookup(name); fl != nil {
			if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

func loginName() string {
	if s := os.Getenv("SUDO_USER"); s != "" {
		return s
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if s := os.Getenv("USER"); s != "" {
		return s
	}
	return "unknown"
}

// filter builds the store filter of the flags.
func (f *incidentFlags) filter(now time.Time) (store.Filter, error) {
	out := store.Filter{Policy: f.policy, Severity: f.severity, Action: f.action, Assignee: f.assignee,
		Sender: f.sender, RecipientDomain: f.rcptDomain, Node: f.node}
	if f.status != "" {
		s, err := store.ParseStatus(f.status)
		if err != nil {
			return out, err
		}
		out.Status = s
	}
	var err error
	if out.Since, err = parseWhen(f.since, now); err != nil {
		return out, fmt.Errorf("--since: %w", err)
	}
	if out.Until, err = parseWhen(f.until, now); err != nil {
		return out, fmt.Errorf("--until: %w", err)
	}
	return out, nil
}

// parseWhen reads an RFC 3339 time, a date, or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want RFC 3339, a date 2006-01-02, or a duration such as 24h)", s)
}

func listIncidents(ctx context.Context, st *store.Store, f store.Filter, p store.Page, asJSON bool, stdout, stderr io.Writer) error {
	ins, next, err := st.List(ctx, f, p)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, in := range ins {
			if err := enc.Encode(in); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tID\tSEVERITY\tACTION\tSTATUS\tSENDER\tRECIPIENTS\tPOLICIES")
		for _, in := range ins {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Time.Local().Format("2006-01-02 15:04:05"), in.ID,
				orDash(in.Severity), in.Action, in.Status, clean(orDash(in.Sender)), clean(recipientSummary(in.Recipients)), clean(policyNames(in.Policies)))
		}
		tw.Flush()
	}
	if next != "" {
		fmt.Fprintf(stderr, "next page: --after %s\n", next)
	}
	return nil
}

func showIncident(ctx context.Context, st *store.Store, id string, asJSON bool, stdout io.Writer) error {
	in, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	evs, err := st.Events(ctx, store.EventFilter{IncidentID: id})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			store.Incident
			Events []store.Event `json:"events"`
		}{in, evs})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, clean(v))
		}
	}
	row("incident", in.ID)
	row("time", in.Time.Format(time.RFC3339Nano))
	row("node", in.Node)
	row("mta host", in.MTAHost)
	row("front end", in.Frontend)
	row("queue id", in.QueueID)
	row("session id", in.SessionID)
	row("message-id", in.MessageID)
	row("direction", in.Direction)
	row("sender", in.Sender)
	row("auth user", in.AuthUser)
	row("client", strings.TrimSpace(in.ClientAddr+" "+in.ClientName))
	row("helo", in.HELO)
	row("subject", in.Subject)
	for _, r := range in.Recipients {
		row("recipient", r.Address+" ("+r.Action+")")
	}
	row("action", in.Action)
	if in.VerdictAction != in.Action {
		row("verdict", in.VerdictAction)
	}
	row("would have", in.WouldAction)
	for _, p := range in.Policies {
		row("policy", fmt.Sprintf("%s (severity %s, %s, %s)", p.Name, p.Severity, p.Mode, p.Action))
	}
	for _, d := range in.Detections {
		row("detection", fmt.Sprintf("%s x%d %s: %s at %s", d.Type, d.Count, orDash(d.Confidence), strings.Join(d.Evidence, ", "), strings.Join(d.Locations, ", ")))
	}
	for _, u := range in.Unscannable {
		row("unscannable", u.Location+": "+u.Reason)
	}
	row("error", in.Error)
	row("status", string(in.Status))
	row("assignee", in.Assignee)
	tw.Flush()
	if len(evs) > 0 {
		fmt.Fprintln(stdout, "\nEVENTS")
		tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, e := range evs {
			change := ""
			if e.Before != "" || e.After != "" {
				change = orDash(e.Before) + " -> " + orDash(e.After)
			}
			fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), clean(e.Actor), clean(e.SourceAddr),
				e.Kind, clean(change), clean(e.Reason))
		}
		tw.Flush()
	}
	return nil
}

// orDash is s, or "-" for nothing.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clean replaces control characters (a sender or reason may carry them)
// so that they cannot rewrite the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func recipientSummary(rs []store.Recipient) string {
	if len(rs) == 0 {
		return "-"
	}
	s := rs[0].Address
	if len(rs) > 1 {
		s += fmt.Sprintf(" +%d", len(rs)-1)
	}
	return s
}

func policyNames(ps []store.Policy) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return orDash(strings.Join(names, ","))
}
