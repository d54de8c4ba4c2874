package main

import (
	"os"

	"github.com/maildlp/maildlp/app"
)

func runMilter(args []string) int {
	return serviceMain("milter", app.MilterOnly, args, os.Stderr)
}
