//go:build race

package pack_test

// allocSlack scales allocation bounds: under the race detector sync.Pool
// drops most of what is put back, so pooled inflate buffers are allocated
// again on every use.
const allocSlack = 6
