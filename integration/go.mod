module github.com/maildlp/maildlp/integration

go 1.26.8

require github.com/emersion/go-smtp v0.25.1

require github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect

require github.com/maildlp/maildlp v0.0.0

// The tests share the helpers of internal/testutil with the unit tests.
replace github.com/maildlp/maildlp => ../
