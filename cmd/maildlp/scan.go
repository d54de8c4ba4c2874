package main

import "fmt"

func runScan(args []string) int {
	fmt.Println("maildlp: scan is not available in this build")
	return 2
}
