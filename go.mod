module github.com/maildlp/maildlp

go 1.26.8
