package main

import "fmt"

func runQuarantine(args []string) int {
	fmt.Println("maildlp: quarantine is not available in this build")
	return 2
}
