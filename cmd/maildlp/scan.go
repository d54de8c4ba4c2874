package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/report"
)

// Exit codes of scan and check-config.
const (
	exitPass   = 0 // every message passes
	exitAction = 1 // some verdict asks for an action (or the engine failed on a message)
	exitUsage  = 2 // usage, config or input error
)

func runScan(args []string) int {
	return scanMain(args, os.Stdin, os.Stdout, os.Stderr)
}

const scanUsage = `usage: maildlp scan [--config FILE] [--json] [--explain] [--jobs N] [--from ADDR] [--to ADDR,...] FILE.eml|DIR|- ...

Scan messages and print the verdict of each. FILE.eml is one RFC 5322
message, DIR a directory or maildir (every *.eml file below it and every
file in a maildir's cur/ and new/ folders; dot files skipped; scanned in
parallel), - standard input. Results are printed in the
order of the arguments, files of a directory sorted by path.

Without --config the embedded default config and policy are used. Without
--from/--to the sender and recipients are taken from the From, To and Cc
header fields.

Exit status: 0 every message passes, 1 some verdict asks for an action
(anything but pass) or a message could not be evaluated, 2 usage, config
or input error.

Flags (they may also follow the file arguments):
`

// scanOptions are the flags of scan.
type scanOptions struct {
	config  string
	json    bool
	explain bool
	jobs    int
	from    string
	to      string
}

func scanMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o scanOptions
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "main config `file` (default: the embedded default config)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per message")
	fs.BoolVar(&o.explain, "explain", false, "say for each policy why it matched or not")
	fs.IntVar(&o.jobs, "jobs", runtime.GOMAXPROCS(0), "messages scanned in parallel")
	fs.StringVar(&o.from, "from", "", "envelope sender `address`")
	fs.StringVar(&o.to, "to", "", "envelope recipient `addresses`, comma-separated")
	fs.Usage = func() {
		fmt.Fprint(stderr, scanUsage)
		fs.PrintDefaults()
	}
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "maildlp scan: no message given (a file, a directory or - for standard input)")
		fs.Usage()
		return exitUsage
	}
	if o.jobs < 1 {
		o.jobs = 1
	}
	cfg, err := loadConfig(o.config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	engine, err := policy.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	var files []string
	for _, t := range targets {
		list, err := expand(t)
		if err != nil {
			fmt.Fprintf(stderr, "maildlp scan: %v\n", err)
			return exitUsage
		}
		files = append(files, list...)
	}
	env := policy.Envelope{MailFrom: o.from}
	for _, a := range strings.Split(o.to, ",") {
		if a = strings.TrimSpace(a); a != "" {
			env.Rcpts = append(env.Rcpts, a)
		}
	}

	results := make([]chan scanResult, len(files))
	for i := range results {
		results[i] = make(chan scanResult, 1)
	}
	jobs := make(chan int)
	go func() {
		for i := range files {
			jobs <- i
		}
		close(jobs)
	}()
	for range min(o.jobs, len(files)) {
		go func() {
			for i := range jobs {
				results[i] <- scanOne(engine, files[i], stdin, env, o.explain)
			}
		}()
	}
	var pass *action.Header
	if ph := cfg.PassHeader; ph.Enabled == nil || *ph.Enabled {
		pass = &action.Header{Name: ph.Name, Value: ph.Value}
	}
	code := exitPass
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for i := range files {
		r := <-results[i]
		switch {
		case r.err != nil:
			fmt.Fprintf(stderr, "maildlp scan: %s: %v\n", r.file, r.err)
			code = max(code, exitUsage)
			continue
		case r.verdict.Err != nil || r.verdict.Action != action.Pass:
			code = max(code, exitAction)
		}
		if o.json {
			if err := enc.Encode(jsonResult(r, pass)); err != nil {
				fmt.Fprintf(stderr, "maildlp scan: %v\n", err)
				return exitUsage
			}
		} else {
			printText(stdout, r)
		}
	}
	return code
}

// parseInterleaved parses flags wherever they appear among the arguments
// (the flag package stops at the first non-flag); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadConfig loads the config at path, or the embedded default when path
// is empty.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(detect.IsBuiltin)
	}
	return config.Load(path, detect.IsBuiltin)
}

// expand turns an argument into the files to scan.
func expand(target string) ([]string, error) {
	if target == "-" {
		return []string{"-"}, nil
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{target}, nil
	}
	var files []string
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != target {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && isMessageFile(p) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// isMessageFile says which files of a directory are scanned: *.eml files
// and every file in a maildir's cur/ and new/ folders.
func isMessageFile(p string) bool {
	if strings.EqualFold(filepath.Ext(p), ".eml") {
		return true
	}
	parent := filepath.Base(filepath.Dir(p))
	return parent == "cur" || parent == "new"
}

type scanResult struct {
	file        string
	verdict     action.Verdict
	explanation []policy.Explanation
	matches     []policy.MatchExplanation // with --explain: how each detection got its confidence
	err         error                     // the file could not be read
}

func scanOne(e *policy.Engine, file string, stdin io.Reader, env policy.Envelope, explain bool) scanResult {
	r := scanResult{file: file}
	var in io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			r.err = err
			return r
		}
		defer f.Close()
		in = f
	}
	m := policy.Message{Envelope: env, Body: in}
	if explain {
		r.verdict, r.explanation, r.matches = e.Explain(context.Background(), m)
	} else {
		r.verdict = e.Evaluate(context.Background(), m)
	}
	return r
}

// scanJSON is the stable shape of scan --json (extra fields may be added,
// none removed or renamed).
type scanJSON struct {
	File        string               `json:"file"`
	Verdict     verdictJSON          `json:"verdict"`
	Detections  []action.Detection   `json:"detections"`
	Unscannable []action.Unscannable `json:"unscannable"`
	Explain     []explainJSON        `json:"explain,omitempty"`
	Why         []whyJSON            `json:"why,omitempty"`
	Error       string               `json:"error,omitempty"`
}

// verdictJSON is the verdict in the incident log's shape, with the
// notices the verdict would send.
type verdictJSON struct {
	report.Verdict
	Notices []action.Notice `json:"notices,omitempty"`
}

// whyJSON says how one detection got its confidence (--explain).
type whyJSON struct {
	Detector   string `json:"detector"`
	Location   string `json:"location"`
	Evidence   string `json:"evidence"`
	Confidence string `json:"confidence"`
	Why        string `json:"why"`
}

type explainJSON struct {
	Policy   string   `json:"policy"`
	Matched  bool     `json:"matched"`
	Excepted string   `json:"excepted,omitempty"`
	Trace    []string `json:"trace"`
}

// jsonResult is r as scan --json prints it. The reply is the one a front
// end sends for the verdict (a client without SMTPUTF8), the pass header
// the one it adds to a message it delivers.
func jsonResult(r scanResult, pass *action.Header) scanJSON {
	v := r.verdict
	reply, added := sent(v, pass)
	out := scanJSON{
		File:        r.file,
		Verdict:     verdictJSON{Verdict: report.NewVerdict(v, v.Action, reply, added), Notices: v.Notices},
		Detections:  v.Detections,
		Unscannable: v.Unscannable,
	}
	if out.Detections == nil {
		out.Detections = []action.Detection{}
	}
	for i := range out.Detections {
		if out.Detections[i].Evidence == nil {
			out.Detections[i].Evidence = []string{}
		}
		if out.Detections[i].Locations == nil {
			out.Detections[i].Locations = []string{}
		}
	}
	if out.Unscannable == nil {
		out.Unscannable = []action.Unscannable{}
	}
	for _, x := range r.explanation {
		out.Explain = append(out.Explain, explainJSON{Policy: x.Policy, Matched: x.Matched, Excepted: x.Excepted, Trace: x.Lines})
	}
	for _, m := range r.matches {
		out.Why = append(out.Why, whyJSON(m))
	}
	if v.Err != nil {
		out.Error = firstLine(v.Err.Error())
	}
	return out
}

// sent is what a front end sends for v: the refusal of a block or
// tempfail verdict, or the pass header of a message it delivers. A verdict
// with an error gets the on_error outcome instead, neither of these.
func sent(v action.Verdict, pass *action.Header) (*action.Wire, *action.Header) {
	switch {
	case v.Err != nil:
		return nil, nil
	case v.Action == action.Block || v.Action == action.TempFail:
		w := v.Refusal(v.Action, false)
		return &w, nil
	}
	return nil, pass
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// printText prints one verdict for people.
func printText(w io.Writer, r scanResult) {
	v := r.verdict
	fmt.Fprintf(w, "%s: %s", r.file, v.Action)
	if v.IncidentID != "" {
		fmt.Fprintf(w, " (incident %s)", v.IncidentID)
	}
	fmt.Fprintln(w)
	if v.Err != nil {
		fmt.Fprintf(w, "  error: %s\n", firstLine(v.Err.Error()))
	}
	for _, p := range v.Policies {
		fmt.Fprintf(w, "  policy %q (%s, %s): %s\n", p.Name, p.Severity, p.Mode, p.Action)
	}
	if reply, _ := sent(v, nil); reply != nil {
		fmt.Fprintf(w, "  reply: %s\n", strings.ReplaceAll(reply.String(), "\r\n", "\n         "))
	}
	switch v.Action {
	case action.Quarantine:
		fmt.Fprintf(w, "  quarantine: %s\n", v.QuarantineReason)
	case action.Redirect:
		fmt.Fprintf(w, "  redirect to: %s\n", strings.Join(v.RedirectTo, ", "))
	}
	if v.SubjectPrefix != "" {
		fmt.Fprintf(w, "  subject prefix: %q\n", v.SubjectPrefix)
	}
	if v.SubjectReplace != "" {
		fmt.Fprintf(w, "  subject: %q\n", v.SubjectReplace)
	}
	for _, h := range v.AddHeaders {
		fmt.Fprintf(w, "  add header: %s: %s\n", h.Name, h.Value)
	}
	for _, n := range v.Notices {
		fmt.Fprintf(w, "  notice to %s: %s\n", strings.Join(n.To, ", "), n.Subject)
	}
	for _, d := range v.Detections {
		test := ""
		if d.TestValue {
			test = ", test values"
		}
		fmt.Fprintf(w, "  found %s x%d (%s%s): %s in %s\n", d.Type, d.Count, d.Confidence, test,
			strings.Join(d.Evidence, " "), strings.Join(d.Locations, ", "))
	}
	for _, u := range v.Unscannable {
		fmt.Fprintf(w, "  unscannable %s: %s\n", u.Location, u.Reason)
	}
	for _, m := range r.matches {
		fmt.Fprintf(w, "  why %s %s in %s: %s (%s)\n", m.Detector, m.Evidence, m.Location, m.Confidence, m.Why)
	}
	for _, x := range r.explanation {
		state := "no match"
		switch {
		case x.Matched:
			state = "MATCH"
		case x.Excepted != "":
			state = "excepted: " + x.Excepted
		}
		fmt.Fprintf(w, "  explain %q: %s\n", x.Policy, state)
		for _, l := range x.Lines {
			fmt.Fprintf(w, "      %s\n", l)
		}
	}
}
