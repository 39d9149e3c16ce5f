package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/doctor"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newDoctorCmd(a))
	})
}

func newDoctorCmd(a *app) *cobra.Command {
	var o doctor.Options
	cmd := &cobra.Command{
		Use:   "doctor [--production-readiness]",
		Short: "Check that this directory is ready for gait",
		Long: `doctor checks the working directory: the output directory is writable,
signing keys are present and form a valid pair, policy files parse
(policies/*.yaml and those fixtures name), gait.yaml and every fixture it lists
resolve and verify, and which gait binary runs. Each check prints its status
(pass, warn, fail), what it found and the command that fixes it.

--production-readiness makes the key checks required: signing keys must exist,
be one valid pair and be readable only by their owner; dev mode (unsigned
runpacks, ephemeral keys) is refused.

Exit 0 when every required check passes (warnings allowed), 2 when one fails.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.Version = producerVersion()
			res := doctor.Run(o)
			if a.json {
				a.writeJSON(res)
			} else {
				a.emit(nil, doctorText(res))
			}
			if !res.OK {
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.ProductionReadiness, "production-readiness", false, "require production signing keys")
	f.StringVar(&o.OutDir, "output-dir", defaultOutDir, "output directory to check")
	f.StringVar(&o.Config, "config", regress.DefaultConfig, "regress config to check")
	f.StringVar(&o.PolicyDir, "policy-dir", "policies", "directory of policy files to check")
	f.StringVar(&o.PrivateKey, "private-key", "", "signing key to check (default: gait-out/keys/gait_private.key)")
	f.StringVar(&o.PublicKey, "public-key", "", "public key to check (default: gait-out/keys/gait_public.key)")
	cmd.AddCommand(newDoctorAdoptionCmd(a))
	return cmd
}

// doctorText renders one line per check and the fixes as next= commands.
func doctorText(res doctor.Result) []field {
	out := kv("doctor", string(res.Status), "failed", fmt.Sprint(res.Failed), "warned", fmt.Sprint(res.Warned))
	for _, c := range res.Checks {
		out = append(out, field{"check", fmt.Sprintf("%s %s: %s", c.ID, c.Status, c.Message)})
	}
	for _, fix := range res.FixCommands {
		out = append(out, field{"next", fix})
	}
	return out
}
