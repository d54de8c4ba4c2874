package main

import "fmt"

func runMilter(args []string) int {
	fmt.Println("maildlp: milter is not available in this build")
	return 2
}
