module github.com/maildlp/maildlp/integration

go 1.26.8

require github.com/emersion/go-smtp v0.25.1

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/chromedp/chromedp v0.23.1 // indirect
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

require github.com/maildlp/maildlp v0.0.0

// The tests share the helpers of internal/testutil with the unit tests.
replace github.com/maildlp/maildlp => ../
