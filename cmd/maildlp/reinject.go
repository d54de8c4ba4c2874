package main

import (
	"os"

	"github.com/maildlp/maildlp/app"
)

func runReinject(args []string) int {
	return serviceMain("reinject", app.ReinjectOnly, args, os.Stderr)
}
