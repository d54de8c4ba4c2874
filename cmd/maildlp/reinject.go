package main

import "fmt"

func runReinject(args []string) int {
	fmt.Println("maildlp: reinject is not available in this build")
	return 2
}
