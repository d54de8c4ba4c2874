package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/maildlp/maildlp/policy"
)

const checkConfigUsage = `usage: maildlp check-config [--config FILE] [--default]

Load the main config and every policy file it lists, compile the policies
and report every problem found, one per line as file:line: key: problem.
Without --config, the file the services read is checked; when it does not
exist, the embedded default that they would run instead.
Exit status 0 when everything is valid, 2 otherwise.

Flags:
`

func runCheckConfig(args []string) int {
	return checkConfigMain(args, os.Stdout, os.Stderr)
}

func checkConfigMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", defaultConfigPath, "main config `file`")
	embedded := fs.Bool("default", false, "check the embedded default config instead of a file")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkConfigUsage)
		fs.PrintDefaults()
	}
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "maildlp check-config: unexpected argument %q\n", rest[0])
		fs.Usage()
		return exitUsage
	}
	name := *path
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if !explicit {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "maildlp check-config: %s does not exist; checking the embedded default config the services would run\n", name)
			*embedded = true
		}
	}
	if *embedded {
		name = ""
	}
	cfg, err := loadConfig(name)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if _, err := policy.New(cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if name == "" {
		name = "embedded default config"
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "%s: warning: %s\n", name, w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d policies, %d custom detectors)\n", name, len(cfg.Policies), len(cfg.Detectors))
	return exitPass
}
