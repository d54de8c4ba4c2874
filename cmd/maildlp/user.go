package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/maildlp/maildlp/console"
	"github.com/maildlp/maildlp/store"
)

const userUsage = `usage: maildlp user <command> [flags] [NAME]

Manage the review console's local users, kept in the incident store.

	add NAME [--role viewer|analyst|admin]   create a user (default role admin)
	list                                     list users and roles
	passwd NAME                              set a user's password
	role NAME --role ROLE                    change a user's role
	delete NAME                              delete a user

The password is read from the terminal without echo, or from the first
line of standard input when it is not a terminal (--password-stdin is
implied). It needs at least 10 characters. Changing a password or a role
ends the user's sessions; every change is in the audit log.

Flags:
`

func runUser(args []string) int { return userMain(args, os.Stdin, os.Stdout, os.Stderr) }

func userMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	roleName := fs.String("role", "", "role: viewer, analyst or admin (add: default admin)")
	if err := fs.Parse(reorder(args[1:], fs)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "maildlp user %s: %v\n", cmd, err)
		return 1
	}
	want := 1
	if cmd == "list" {
		want = 0
	}
	if fs.NArg() != want {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	name := fs.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, _, err := sf.open(ctx)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	users := console.NewUsers(st)
	who := store.Actor{Name: loginName() + " (cli)"}
	switch cmd {
	case "add":
		role := console.Admin
		if *roleName != "" {
			if role, err = console.ParseRole(*roleName); err != nil {
				return fail(err)
			}
		}
		pw, err := readPassword(stdin, stderr, "Password for "+name+": ")
		if err != nil {
			return fail(err)
		}
		if err := users.Add(ctx, name, role, pw, who); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "user %s added with role %s\n", name, role)
	case "list":
		us, err := users.List(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tCHANGED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Created.Format(time.RFC3339), u.Updated.Format(time.RFC3339))
		}
		tw.Flush()
	case "passwd":
		pw, err := readPassword(stdin, stderr, "New password for "+name+": ")
		if err != nil {
			return fail(err)
		}
		if err := users.SetPassword(ctx, name, pw, who); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions were ended\n", name)
	case "role":
		role, err := console.ParseRole(*roleName)
		if err != nil {
			return fail(err)
		}
		if err := users.SetRole(ctx, name, role, who); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "role of %s is now %s; their sessions were ended\n", name, role)
	case "delete":
		if err := users.Delete(ctx, name, who); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "user %s deleted\n", name)
	default:
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	return 0
}

// readPassword reads a password from the terminal without echo, twice,
// or the first line of a non-terminal stdin.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, console.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
