//go:build !race

package pack_test

// allocSlack scales allocation bounds; see race_on_test.go.
const allocSlack = 1
