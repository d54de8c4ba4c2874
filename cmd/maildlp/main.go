// Command maildlp is the email DLP gateway: one binary with subcommands.
package main

import (
	"fmt"
	"os"
)

// command is one subcommand. run returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

func commands() []command {
	return []command{
		{"serve", "run every front end enabled in the config (milter, reinjection hop)", runServe},
		{"milter", "run the milter alone", runMilter},
		{"reinject", "run the SMTP reinjection hop alone", runReinject},
		{"scan", "scan .eml files, directories or stdin and print the verdicts", runScan},
		{"edm", "exact data matching: keygen, index, inspect, explain (docs/edm.md)", runEDM},
		{"idm", "index confidential documents for idm detectors (keygen, index, inspect, explain)", runIDM},
		{"check-config", "check the config and policy files and report every error", runCheckConfig},
		{"quarantine", "list, show, release or delete held messages, through the store or on the local Postfix", runQuarantine},
		{"incidents", "list, show, review and export incidents in the incident store", runIncidents},
		{"db", "migrate the incident store's schema", runDB},
		{"console", "serve the review console (web pages for incidents and held mail)", runConsole},
		{"user", "add, list, change or delete the review console's users", runUser},
		{"version", "print the version", runVersion},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "maildlp is an email data loss prevention gateway.\n\nUsage:\n\n\tmaildlp <command> [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "\t%-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nUse \"maildlp <command> --help\" for more information about a command.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		usage()
		os.Exit(0)
	}
	for _, c := range commands() {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "maildlp: unknown command %q\n", name)
	usage()
	os.Exit(2)
}
