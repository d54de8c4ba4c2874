package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/dataset"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/edm"
	"github.com/maildlp/maildlp/policy/extract"
)

const edmUsage = `usage: maildlp edm <command> [arguments]

Exact data matching: index a table of your own data (customers,
employees, accounts) so that a [[detector]] of type "edm" finds its rows
in mail. See docs/edm.md.

  keygen --out FILE            write a new secret key (mode 0600)
  index TABLE --key FILE --columns SPEC --out FILE [--name NAME]
        [--delimiter C] [--header] [--date-order mdy|dmy]
                               index a CSV, TSV or pipe-separated export;
                               SPEC is name:class[:primary],... with class
                               digits, alnum, email, phone, name, text, date
  inspect INDEX [--key FILE]   print the index's columns and counts (never a value)
  explain INDEX --key FILE [--primary C,..] [--columns C,..] [--min-columns N]
        [--proximity N] MESSAGE|-
                               show which rows of the index a message carries
                               (columns and counts, masked)
`

func runEDM(args []string) int { return edmMain(args, os.Stdin, os.Stdout, os.Stderr) }

func edmMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, edmUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitPass
	}
	fs := flag.NewFlagSet("edm "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, edmUsage) }
	out := fs.String("out", "", "output `file`")
	keyFile := fs.String("key", "", "key `file`")
	columns := fs.String("columns", "", "column `spec` (index) or counted columns (explain)")
	primary := fs.String("primary", "", "anchor `columns` (explain)")
	name := fs.String("name", "", "dataset `name` (default: the table's file name)")
	delim := fs.String("delimiter", ",", "cell `delimiter`: , ; | or tab")
	header := fs.Bool("header", false, "the first line names the columns")
	dateOrder := fs.String("date-order", "mdy", "ambiguous dates are `mdy` or dmy")
	minCols := fs.Int("min-columns", config.DefaultMinColumns, "distinct `columns` of one row (explain)")
	prox := fs.Int("proximity", config.DefaultEDMProximity, "window in `characters` (explain)")
	rest, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "maildlp edm %s: %v\n", args[0], err)
		return exitUsage
	}
	switch args[0] {
	case "keygen":
		if *out == "" || len(rest) > 0 {
			return fail(errors.New("want --out FILE and no argument"))
		}
		k, err := edm.NewKey()
		if err != nil {
			return fail(err)
		}
		if err := edm.WriteKey(*out, k); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: key id %s (keep this file secret and apart from the index)\n", *out, k.ID())
		return exitPass
	case "index":
		if len(rest) != 1 || *out == "" || *keyFile == "" || *columns == "" {
			return fail(errors.New("want TABLE, --key, --columns and --out"))
		}
		key, err := edm.LoadKey(*keyFile)
		if err != nil {
			return fail(err)
		}
		cols, err := edm.ParseColumns(*columns)
		if err != nil {
			return fail(err)
		}
		d := []rune(strings.ReplaceAll(strings.ReplaceAll(*delim, "tab", "\t"), `\t`, "\t"))
		if len(d) != 1 || !strings.ContainsRune(",;|\t", d[0]) {
			return fail(fmt.Errorf("delimiter %q (want , ; | or tab)", *delim))
		}
		if *dateOrder != "mdy" && *dateOrder != "dmy" {
			return fail(fmt.Errorf("date order %q (want mdy or dmy)", *dateOrder))
		}
		f, err := os.Open(rest[0])
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if *name == "" {
			base := rest[0][strings.LastIndexAny(rest[0], `/\`)+1:]
			*name, _, _ = strings.Cut(base, ".")
		}
		start := time.Now()
		data, meta, err := edm.Build(f, key, edm.BuildOptions{Name: *name, Columns: cols, Delimiter: d[0], Header: *header, DateOrder: *dateOrder})
		if err != nil {
			return fail(err)
		}
		if err := edm.WriteIndex(*out, data); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s: %d rows, %d skipped, %d bytes (%.1f MB per million rows), built in %s\n",
			*out, meta.Rows, meta.Skipped, len(data), float64(len(data))/float64(max(meta.Rows, 1)), time.Since(start).Round(time.Millisecond))
		for _, c := range meta.Columns {
			if c.Weak > 0 {
				fmt.Fprintf(stdout, "%s: column %s: %d values in more than 8 rows anchor none\n", *out, c.Name, c.Weak)
			}
		}
		return exitPass
	case "inspect":
		if len(rest) != 1 {
			return fail(errors.New("want one INDEX"))
		}
		var key *edm.Key
		if *keyFile != "" {
			if key, err = edm.LoadKey(*keyFile); err != nil {
				return fail(err)
			}
		}
		x, err := edm.Open(rest[0], key)
		if err != nil {
			return fail(err)
		}
		defer x.Close()
		fmt.Fprintf(stdout, "dataset %s: %d rows (%d skipped at index time), %d anchor postings, %d bytes, key id %s\n",
			x.Meta.Name, x.Meta.Rows, x.Meta.Skipped, x.Anchors(), x.Size(), x.KeyID())
		if key != nil {
			fmt.Fprintf(stdout, "key file %s matches the index\n", *keyFile)
		}
		for _, c := range x.Meta.Columns {
			role := "supporting"
			if c.Primary {
				role = "primary"
			}
			fmt.Fprintf(stdout, "  %-16s %-7s %-10s %d values", c.Name, c.Class, role, c.Values)
			if c.Weak > 0 {
				fmt.Fprintf(stdout, ", %d weak (in too many rows to anchor)", c.Weak)
			}
			fmt.Fprintln(stdout)
		}
		return exitPass
	case "explain":
		if len(rest) != 2 || *keyFile == "" {
			return fail(errors.New("want INDEX --key FILE MESSAGE"))
		}
		return edmExplain(rest[0], *keyFile, *primary, *columns, *minCols, *prox, rest[1], stdin, stdout, stderr)
	}
	return fail(fmt.Errorf("unknown command (want keygen, index, inspect or explain)"))
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// edmExplain extracts a message as the engine does and reports the rows
// of the index found in each part: columns and counts, never a value.
func edmExplain(index, keyFile, primary, columns string, minCols, prox int, msg string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "maildlp edm explain: %v\n", err)
		return exitUsage
	}
	key, err := edm.LoadKey(keyFile)
	if err != nil {
		return fail(err)
	}
	x, err := edm.Open(index, key)
	if err != nil {
		return fail(err)
	}
	defer x.Close()
	m, err := edm.NewMatcher(x.Meta.Name, x, edm.Options{Primary: splitList(primary), Columns: splitList(columns), MinColumns: minCols, Proximity: prox, Confidence: detect.High})
	if err != nil {
		return fail(err)
	}
	r := stdin
	if msg != "-" {
		f, err := os.Open(msg)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		r = f
	}
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		return fail(err)
	}
	e, err := policy.New(cfg)
	if err != nil {
		return fail(err)
	}
	res, err := extract.Extract(context.Background(), r, e.Limits())
	if err != nil {
		return fail(err)
	}
	rows := map[uint64]bool{}
	for _, p := range res.Parts {
		ms, _ := m.Match(p.Text, dataset.Part{Location: p.Location, MIMEType: p.MIMEType, Filename: p.Filename}, nil, nil)
		for _, h := range ms {
			rows[h.Key] = true
			fmt.Fprintf(stdout, "%s: %s\n", p.Location, h.Evidence)
		}
	}
	for _, u := range res.Unscannable {
		fmt.Fprintf(stdout, "%s: not scanned (%s)\n", u.Location, u.Reason)
	}
	fmt.Fprintf(stdout, "%d rows of %s matched (at least %d columns each)\n", len(rows), x.Meta.Name, minCols)
	if len(rows) > 0 {
		return exitAction
	}
	return exitPass
}
