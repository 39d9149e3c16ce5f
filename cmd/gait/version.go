package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// producerVersion is the version stamped into artifacts.
func producerVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.0.0-dev"
}

func init() {
	registerCommand("version", func(root *cobra.Command, a *app) {
		root.AddCommand(&cobra.Command{
			Use:   "version",
			Short: "Print the gait version",
			Long:  "version prints the gait version, Go version and platform.",
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				v := producerVersion()
				a.emit(struct {
					OK        bool   `json:"ok"`
					Version   string `json:"version"`
					GoVersion string `json:"go_version"`
					Platform  string `json:"platform"`
				}{true, v, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH},
					kv("version", v, "go_version", runtime.Version(), "platform", runtime.GOOS+"/"+runtime.GOARCH))
				return nil
			},
		})
	})
}
