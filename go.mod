module github.com/nightjar-dev/nightjar

go 1.26.8
