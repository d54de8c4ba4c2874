package main

import "fmt"

func runServe(args []string) int {
	fmt.Println("maildlp: serve is not available in this build")
	return 2
}
