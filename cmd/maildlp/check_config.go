package main

import "fmt"

func runCheckConfig(args []string) int {
	fmt.Println("maildlp: check_config is not available in this build")
	return 2
}
