package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/maildlp/maildlp/policy/extract"
	"github.com/maildlp/maildlp/policy/idm"
)

func runIDM(args []string) int { return idmMain(args, os.Stdout, os.Stderr) }

const idmUsage = `usage: maildlp idm keygen --out KEY
       maildlp idm index --key KEY --out INDEX [--boilerplate PATH]... [--max-docs M] [--min-chars N] DIR|FILE ...
       maildlp idm inspect --key KEY INDEX
       maildlp idm explain --key KEY --index INDEX MESSAGE.eml

Indexed document matching: fingerprint confidential documents so that an
idm detector finds them, whole, excerpted or edited, in mail.

keygen writes a new secret key (mode 0600; keep it apart from the index).
index reads every file below each DIR (dot files skipped) and each FILE in
every format the scanner reads, and writes the index; it says which
documents are too short for partial matching (exact matches only).
--boilerplate files (or directories) are a background corpus: passages
found there are not fingerprinted. inspect prints what an index holds
(counts and names, never text). explain prints what a message shares with
each indexed document.
`

func idmMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, idmUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitPass
	}
	switch args[0] {
	case "keygen":
		return idmKeygen(args[1:], stdout, stderr)
	case "index":
		return idmIndex(args[1:], stdout, stderr)
	case "inspect":
		return idmInspect(args[1:], stdout, stderr)
	case "explain":
		return idmExplain(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "maildlp idm: unknown command %q\n%s", args[0], idmUsage)
	return exitUsage
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func idmFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("idm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, idmUsage); fs.PrintDefaults() }
	return fs
}

func idmKeygen(args []string, stdout, stderr io.Writer) int {
	fs := idmFlags("keygen", stderr)
	out := fs.String("out", "", "key `file` to create (mode 0600)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "maildlp idm keygen: --out is required")
		return exitUsage
	}
	k, err := idm.NewKey()
	if err == nil {
		err = idm.WriteKey(*out, k)
	}
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm keygen: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s: key %s\n", *out, k.ID())
	return exitPass
}

func idmIndex(args []string, stdout, stderr io.Writer) int {
	fs := idmFlags("index", stderr)
	keyFile := fs.String("key", "", "secret key `file` (maildlp idm keygen)")
	out := fs.String("out", "", "index `file` to write")
	var bg stringList
	fs.Var(&bg, "boilerplate", "background corpus `path` (file or directory; repeatable)")
	maxDocs := fs.Int("max-docs", idm.DefaultMaxDocs, "drop fingerprints found in more than `M` documents")
	minChars := fs.Int("min-chars", idm.DefaultMinChars, "normalised length under which a document is matched exactly only")
	maxFile := fs.Int64("max-file-bytes", extract.DefaultLimits().MaxMessageBytes, "largest document `bytes` read")
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if *keyFile == "" || *out == "" || len(targets) == 0 {
		fmt.Fprintln(stderr, "maildlp idm index: --key, --out and at least one DIR or FILE are required")
		return exitUsage
	}
	key, err := idm.LoadKey(*keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm index: %v\n", err)
		return exitUsage
	}
	b := idm.NewBuilder(key, idm.BuildOptions{MaxDocs: *maxDocs, MinChars: *minChars})
	code := exitPass
	read := func(paths []string, each func(name string, raw []byte, text string)) bool {
		for _, t := range paths {
			files, err := documentFiles(t)
			if err != nil {
				fmt.Fprintf(stderr, "maildlp idm index: %v\n", err)
				return false
			}
			for _, f := range files {
				raw, text, err := documentText(f.path, *maxFile, stderr)
				if err != nil {
					fmt.Fprintf(stderr, "maildlp idm index: %v\n", err)
					return false
				}
				each(f.name, raw, text)
			}
		}
		return true
	}
	if !read(bg, func(_ string, _ []byte, text string) { b.AddBackground(text) }) {
		return exitUsage
	}
	n := 0
	if !read(targets, func(name string, raw []byte, text string) { b.Add(name, raw, text); n++ }) {
		return exitUsage
	}
	if n == 0 {
		fmt.Fprintln(stderr, "maildlp idm index: no document found")
		return exitUsage
	}
	var buf bytes.Buffer
	reps, err := b.Write(&buf)
	if err == nil {
		err = idm.WriteIndex(*out, buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm index: %v\n", err)
		return exitUsage
	}
	total := 0
	for _, r := range reps {
		total += r.Fingerprints
		switch {
		case r.ExactOnly:
			fmt.Fprintf(stdout, "%s: %d normalised characters, under %d: exact match only\n", r.Name, r.Chars, *minChars)
		case r.Fingerprints == 0:
			fmt.Fprintf(stdout, "%s: %d normalised characters, all boilerplate: exact match only\n", r.Name, r.Chars)
		default:
			fmt.Fprintf(stdout, "%s: %d normalised characters, %d fingerprints\n", r.Name, r.Chars, r.Fingerprints)
		}
	}
	fmt.Fprintf(stdout, "%s: %d documents, %d fingerprints, passages of %d characters or more found, key %s\n",
		*out, len(reps), total, b.Threshold(), key.ID())
	return code
}

type docFile struct{ path, name string }

// documentFiles lists target, or every regular file below it (dot files
// and dot directories skipped), sorted, each named by its path relative
// to the directory given.
func documentFiles(target string) ([]docFile, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []docFile{{target, filepath.Base(target)}}, nil
	}
	var out []docFile
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != target && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(target, p)
			out = append(out, docFile{p, filepath.ToSlash(rel)})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, err
}

// documentText reads a document and extracts its text as the scanner
// would; what the extractor could not read is reported, since the
// document is then indexed on part of its text only.
func documentText(path string, maxBytes int64, stderr io.Writer) ([]byte, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if st.Size() > maxBytes {
		return nil, "", fmt.Errorf("%s: %d bytes, more than --max-file-bytes %d", path, st.Size(), maxBytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	lim := extract.DefaultLimits()
	lim.MaxMessageBytes = max(lim.MaxMessageBytes, 2*maxBytes)
	text, uns, err := idm.FileText(context.Background(), filepath.Base(path), raw, lim)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	for _, u := range uns {
		fmt.Fprintf(stderr, "maildlp idm index: warning: %s: %s unreadable (%s): indexed without it\n", path, u.Location, u.Reason)
	}
	return raw, text, nil
}

func idmInspect(args []string, stdout, stderr io.Writer) int {
	fs := idmFlags("inspect", stderr)
	keyFile := fs.String("key", "", "secret key `file`")
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if *keyFile == "" || len(targets) != 1 {
		fmt.Fprintln(stderr, "maildlp idm inspect: --key and one INDEX are required")
		return exitUsage
	}
	ix, err := openIDM(targets[0], *keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm inspect: %v\n", err)
		return exitUsage
	}
	defer ix.Close()
	fmt.Fprintf(stdout, "%s: key %s, %d documents, %d fingerprints, passages of %d characters or more found\n",
		targets[0], ix.KeyID(), len(ix.Docs), ix.Entries(), ix.Threshold())
	for _, d := range ix.Docs {
		if d.Fingerprints == 0 {
			fmt.Fprintf(stdout, "  %s: %d normalised characters, exact match only\n", extract.RedactName(d.Name), d.Chars)
			continue
		}
		fmt.Fprintf(stdout, "  %s: %d normalised characters, %d fingerprints\n", extract.RedactName(d.Name), d.Chars, d.Fingerprints)
	}
	return exitPass
}

func openIDM(index, keyFile string) (*idm.Index, error) {
	key, err := idm.LoadKey(keyFile)
	if err != nil {
		return nil, err
	}
	return idm.Open(index, key)
}

func idmExplain(args []string, stdout, stderr io.Writer) int {
	fs := idmFlags("explain", stderr)
	keyFile := fs.String("key", "", "secret key `file`")
	index := fs.String("index", "", "index `file`")
	targets, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if *keyFile == "" || *index == "" || len(targets) != 1 {
		fmt.Fprintln(stderr, "maildlp idm explain: --key, --index and one MESSAGE are required")
		return exitUsage
	}
	ix, err := openIDM(*index, *keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm explain: %v\n", err)
		return exitUsage
	}
	defer ix.Close()
	f, err := os.Open(targets[0])
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm explain: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	res, err := extract.Extract(context.Background(), f, extract.DefaultLimits())
	if err != nil {
		fmt.Fprintf(stderr, "maildlp idm explain: %v\n", err)
		return exitUsage
	}
	found := false
	for _, p := range res.Parts {
		s := ix.NewScanner()
		s.Reset()
		s.Text(p.Text, nil)
		for _, h := range s.Hits() {
			found = true
			fmt.Fprintf(stdout, "%s: %s\n", p.Location, ix.Evidence(h))
		}
	}
	for _, u := range res.Unscannable {
		fmt.Fprintf(stdout, "%s: unscannable (%s)\n", u.Location, u.Reason)
	}
	if !found {
		fmt.Fprintln(stdout, "no indexed document found")
		return exitPass
	}
	return exitAction
}
