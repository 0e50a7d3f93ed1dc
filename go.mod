module github.com/sloguard/sloguard

go 1.26
