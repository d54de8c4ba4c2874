package main

import "fmt"

func runVersion(args []string) int {
	fmt.Println("maildlp: version is not available in this build")
	return 2
}
