// Package doctor checks that a working directory is ready for gait: the
// output directory is writable, signing keys are present and valid, policy
// files parse, gait.yaml and every fixture it lists resolve. Checks are data:
// each has an id, a status, a message and the command that fixes it.
package doctor

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
)

// The doctor result document.
const (
	SchemaID      = "gait.doctor.result"
	SchemaVersion = "1.0.0"
)

// Status is a check's outcome.
type Status string

// Check outcomes, from best to worst.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Check ids.
const (
	CheckOutputDir      = "output_dir"
	CheckKeys           = "keys"
	CheckKeyPermissions = "key_permissions"
	CheckKeyGit         = "key_git"
	CheckPolicies       = "policies"
	CheckConfig         = "config"
	CheckFixtures       = "fixtures"
	CheckVersion        = "version"
)

// Check is one diagnostic. A required check that fails makes the whole
// result fail; warnings never do.
type Check struct {
	ID       string `json:"id"`
	Status   Status `json:"status"`
	Required bool   `json:"required"`
	Message  string `json:"message"`
	Fix      string `json:"fix_command,omitempty"`
}

// Result is the gait.doctor.result document.
type Result struct {
	SchemaID            string   `json:"schema_id"`
	SchemaVersion       string   `json:"schema_version"`
	OK                  bool     `json:"ok"`
	Status              Status   `json:"status"`
	ProductionReadiness bool     `json:"production_readiness"`
	Failed              int      `json:"failed"`
	Warned              int      `json:"warned"`
	Checks              []Check  `json:"checks"`
	FixCommands         []string `json:"fix_commands"`
}

// Options say where to look. Relative paths are taken as given (from the
// current directory); empty ones get the defaults.
type Options struct {
	OutDir     string // default gait-out
	Config     string // default gait.yaml
	PolicyDir  string // default policies
	PrivateKey string // default <OutDir>/keys/gait_private.key
	PublicKey  string // default <OutDir>/keys/gait_public.key
	// ProductionReadiness makes key checks required: signing keys must
	// exist, form a valid pair and be private to their owner. Dev mode
	// (unsigned or ephemeral keys) is refused.
	ProductionReadiness bool
	Version             string // the running binary's version

	explicitKeys bool // key paths were given, not defaulted
}

func (o *Options) defaults() {
	if o.OutDir == "" {
		o.OutDir = "gait-out"
	}
	if o.Config == "" {
		o.Config = regress.DefaultConfig
	}
	if o.PolicyDir == "" {
		o.PolicyDir = "policies"
	}
	keyDir := filepath.Join(o.OutDir, "keys")
	priv, pub := keys.Paths(keyDir, "gait")
	if o.PrivateKey == "" && o.PublicKey == "" {
		o.PrivateKey, o.PublicKey = priv, pub
	} else {
		o.explicitKeys = true
	}
}

// Run runs every check and sums them up. It changes nothing on disk except
// a probe file it creates and removes in the output directory.
func Run(opts Options) Result {
	opts.defaults()
	var checks []Check
	checks = append(checks, checkOutputDir(opts))
	checks = append(checks, checkKeys(opts)...)
	checks = append(checks, checkPolicies(opts))
	checks = append(checks, checkConfig(opts)...)
	checks = append(checks, checkVersion(opts))

	res := Result{SchemaID: SchemaID, SchemaVersion: SchemaVersion, Status: Pass,
		ProductionReadiness: opts.ProductionReadiness, Checks: checks, FixCommands: []string{}}
	for _, c := range checks {
		switch {
		case c.Status == Fail && c.Required:
			res.Failed++
			res.Status = Fail
		case c.Status != Pass:
			res.Warned++
			if res.Status == Pass {
				res.Status = Warn
			}
		}
		if c.Status != Pass && c.Fix != "" && !slices.Contains(res.FixCommands, c.Fix) {
			res.FixCommands = append(res.FixCommands, c.Fix)
		}
	}
	res.OK = res.Failed == 0
	return res
}

func checkOutputDir(o Options) Check {
	c := Check{ID: CheckOutputDir, Required: true}
	st, err := os.Stat(o.OutDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Status, c.Message = Warn, o.OutDir+" does not exist yet; commands create it"
		c.Fix = "mkdir -p " + o.OutDir
		return c
	case err != nil:
		c.Status, c.Message = Fail, fmt.Sprintf("%s: %v", o.OutDir, err)
		c.Fix = "chmod u+rwx " + o.OutDir
		return c
	case !st.IsDir():
		c.Status, c.Message = Fail, o.OutDir+" is a file, not a directory; outputs cannot be written"
		c.Fix = "mv " + o.OutDir + " " + o.OutDir + ".old && mkdir -p " + o.OutDir
		return c
	}
	f, err := os.CreateTemp(o.OutDir, ".doctor-*")
	if err != nil {
		c.Status, c.Message = Fail, fmt.Sprintf("%s is not writable: %v", o.OutDir, unwrapPath(err))
		c.Fix = "chmod u+rwx " + o.OutDir
		return c
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	c.Status, c.Message = Pass, o.OutDir+" is writable"
	return c
}

func checkKeys(o Options) []Check {
	c := Check{ID: CheckKeys, Required: o.ProductionReadiness}
	initFix := keysInitCommand(cmpOr(o.PrivateKey, o.PublicKey))
	privExists, pubExists := exists(o.PrivateKey), exists(o.PublicKey)
	if !privExists && !pubExists {
		c.Fix = initFix
		switch {
		case o.ProductionReadiness:
			c.Status, c.Message = Fail, "no signing keys at "+keyNames(o)+"; production refuses dev mode (unsigned runpacks, ephemeral keys)"
		case o.explicitKeys:
			c.Required = true
			c.Status, c.Message = Fail, "no key at "+keyNames(o)
			if keys.InitCommand(cmpOr(o.PrivateKey, o.PublicKey)) == "" {
				c.Message += "; `gait keys init` writes gait-out/keys/gait_private.key and gait_public.key: pass those"
			}
		default:
			c.Status, c.Message = Warn, "no signing keys at "+keyNames(o)+"; dev mode: runpacks and traces are unsigned"
		}
		return []Check{c}
	}
	var priv ed25519.PrivateKey
	var pub ed25519.PublicKey
	var problems []string
	if o.PrivateKey != "" {
		if !privExists {
			problems = append(problems, o.PrivateKey+" is missing")
		} else if k, err := keys.LoadPrivate(o.PrivateKey); err != nil {
			problems = append(problems, oneLine(err))
		} else {
			priv = k
		}
	}
	if o.PublicKey != "" {
		if !pubExists {
			problems = append(problems, o.PublicKey+" is missing")
		} else if k, err := keys.LoadPublic(o.PublicKey); err != nil {
			problems = append(problems, oneLine(err))
		} else {
			pub = k
		}
	}
	if priv != nil && pub != nil {
		if err := keys.VerifyPair(priv, pub); err != nil {
			problems = append(problems, fmt.Sprintf("%s and %s are not one pair: %s", o.PrivateKey, o.PublicKey, oneLine(err)))
		}
	}
	if o.ProductionReadiness && priv == nil && len(problems) == 0 {
		problems = append(problems, "no private key given; production signs every runpack and trace")
	}
	if len(problems) > 0 {
		// Keys someone named, or production ones, must work; broken keys
		// lying in the default place are a warning in dev mode.
		c.Required = o.ProductionReadiness || o.explicitKeys
		c.Status, c.Message = Warn, strings.Join(problems, "; ")
		if c.Required {
			c.Status = Fail
		}
		c.Fix = initFix
		if keys.InitCommand(cmpOr(o.PrivateKey, o.PublicKey)) != "" {
			c.Fix += " --force"
		}
		return []Check{c}
	}
	id := keys.ID(pub)
	if pub == nil {
		id = keys.ID(priv.Public().(ed25519.PublicKey))
	}
	c.Status, c.Message = Pass, fmt.Sprintf("signing keys valid (key_id %s)", id[:16])
	if priv != nil {
		c.Message += "; signing is off until a command is given the key: pass --key-mode prod --private-key " + filepath.ToSlash(o.PrivateKey) +
			" to run record, pack build, guard pack and gate eval, and verify with --public-key"
	}
	checks := []Check{c}
	if priv != nil {
		checks = append(checks, checkKeyPermissions(o), checkKeyGit(o))
	}
	return checks
}

// checkKeyGit fails when the private key could be committed: it is tracked
// by git, or lies in a git work tree without being ignored.
func checkKeyGit(o Options) Check {
	c := Check{ID: CheckKeyGit, Required: true, Status: Pass, Message: o.PrivateKey + " cannot be committed (outside git or ignored)"}
	switch problem := keys.Exposure(o.PrivateKey); problem {
	case "":
	case "tracked by git":
		c.Status, c.Message = Fail, o.PrivateKey+" is tracked by git; untrack it, rotate it (it is in the history) and keep keys out of the repository"
		c.Fix = "git rm --cached " + filepath.ToSlash(o.PrivateKey)
	default:
		c.Status, c.Message = Fail, o.PrivateKey+" is "+problem+"; one `git add .` would commit a private key"
		c.Fix = "echo /" + keys.IgnoredDir(o.PrivateKey) + "/ >> .gitignore"
	}
	return c
}

func checkKeyPermissions(o Options) Check {
	c := Check{ID: CheckKeyPermissions, Required: o.ProductionReadiness}
	st, err := os.Stat(o.PrivateKey)
	if err != nil {
		c.Status, c.Message = Fail, oneLine(err)
		return c
	}
	if runtime.GOOS == "windows" {
		c.Status, c.Message = Pass, "file modes are not checked on Windows"
		return c
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		c.Status = Warn
		if o.ProductionReadiness {
			c.Status = Fail
		}
		c.Message = fmt.Sprintf("%s is readable by others (mode %04o)", o.PrivateKey, perm)
		c.Fix = "chmod 600 " + o.PrivateKey
		return c
	}
	c.Status, c.Message = Pass, o.PrivateKey+" is private to its owner"
	return c
}

// policyFiles lists policies/*.yaml|*.yml and the policies fixtures name.
func policyFiles(o Options) []string {
	var files []string
	for _, g := range []string{"*.yaml", "*.yml"} {
		m, _ := filepath.Glob(filepath.Join(o.PolicyDir, g))
		files = append(files, m...)
	}
	if cfg, err := regress.LoadConfig(o.Config); err == nil {
		for _, f := range cfg.Fixtures {
			dir := filepath.Dir(filepath.Join(filepath.Dir(o.Config), filepath.FromSlash(f.Runpack)))
			fx, err := regress.LoadFixture(filepath.Join(dir, regress.FixtureFile))
			if err == nil && fx.Policy != "" {
				files = append(files, filepath.Join(dir, filepath.FromSlash(fx.Policy)))
			}
		}
	}
	for i := range files {
		files[i] = filepath.Clean(files[i])
	}
	slices.Sort(files)
	return slices.Compact(files)
}

func checkPolicies(o Options) Check {
	c := Check{ID: CheckPolicies, Required: true}
	files := policyFiles(o)
	if len(files) == 0 {
		c.Status, c.Message = Pass, "no policy files ("+filepath.ToSlash(o.PolicyDir)+"/*.yaml or named by fixtures)"
		return c
	}
	for _, f := range files {
		if _, err := gate.LoadPolicy(f); err != nil {
			c.Status, c.Message = Fail, oneLine(err)
			c.Fix = "gait policy validate " + filepath.ToSlash(f)
			return c
		}
	}
	c.Status, c.Message = Pass, fmt.Sprintf("%d policy file(s) parse: %s", len(files), strings.Join(slashAll(files), ", "))
	return c
}

func checkConfig(o Options) []Check {
	c := Check{ID: CheckConfig, Required: true}
	if !exists(o.Config) {
		c.Required = false
		c.Status = Warn
		c.Message = "no " + o.Config + "; no fixtures yet"
		if run := FirstRun(o.OutDir); run != "" {
			c.Message += "; " + run + " can become the first"
			c.Fix = "gait regress bootstrap --from " + run
		} else {
			c.Message += "; record a run (gait demo writes one) and bootstrap a fixture from it"
			c.Fix = "gait demo"
		}
		return []Check{c}
	}
	cfg, err := regress.LoadConfig(o.Config)
	if err != nil {
		c.Status, c.Message = Fail, oneLine(err)
		c.Fix = "git checkout -- " + o.Config
		return []Check{c}
	}
	c.Status, c.Message = Pass, fmt.Sprintf("%s lists %d fixture(s)", o.Config, len(cfg.Fixtures))
	return []Check{c, checkFixtures(o, cfg)}
}

func checkFixtures(o Options, cfg *regress.Config) Check {
	c := Check{ID: CheckFixtures, Required: true}
	base := filepath.Dir(o.Config)
	for _, f := range cfg.Fixtures {
		rp := filepath.Join(base, filepath.FromSlash(f.Runpack))
		fixtureFile := filepath.Join(filepath.Dir(rp), regress.FixtureFile)
		problem := ""
		if _, err := regress.LoadFixture(fixtureFile); err != nil {
			problem = oneLine(err)
		} else if _, err := pack.Verify(rp, pack.VerifyOptions{}); err != nil {
			problem = oneLine(err)
		}
		if problem == "" {
			continue
		}
		c.Status, c.Message = Fail, "fixture "+f.Name+": "+problem
		if f.RunID != "" && exists(pack.DefaultPath(o.OutDir, f.RunID)) {
			c.Fix = fmt.Sprintf("gait regress add --from %s --name %s --config %s", f.RunID, f.Name, filepath.ToSlash(o.Config))
		} else {
			c.Fix = "git checkout -- " + filepath.ToSlash(filepath.Dir(rp))
		}
		return c
	}
	c.Status, c.Message = Pass, fmt.Sprintf("%d fixture(s) resolve and verify", len(cfg.Fixtures))
	return c
}

// ReleasedVersion is the newest release of gait, the version hints tell
// users to pin; scripts/release-check.sh keeps it equal to the version the
// action and the setup action run.
const ReleasedVersion = "v1.0.0"

func checkVersion(o Options) Check {
	c := Check{ID: CheckVersion, Status: Pass, Message: fmt.Sprintf("gait %s (%s %s/%s)", o.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)}
	if o.ProductionReadiness && (o.Version == "" || strings.HasPrefix(o.Version, "0.0.0")) {
		c.Status = Warn
		c.Message += "; a development build: pin a released version in production"
		c.Fix = "go install github.com/gait-dev/gait/cmd/gait@" + ReleasedVersion
	}
	return c
}

// FirstRun is the run id of the first runpack in outDir, by name, or "".
func FirstRun(outDir string) string {
	m, _ := filepath.Glob(filepath.Join(outDir, "runpack_*.zip"))
	slices.Sort(m)
	for _, p := range m {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "runpack_"), ".zip")
		if pack.ValidRunID(id) {
			return id
		}
	}
	return ""
}

// keysInitCommand is the `gait keys init` that writes the key at path, or
// the default pair when the named file is not one keys init can write.
func keysInitCommand(path string) string {
	if cmd := keys.InitCommand(path); cmd != "" {
		return cmd
	}
	return "gait keys init"
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

func keyNames(o Options) string {
	return strings.Join(slashAll(slices.DeleteFunc([]string{o.PrivateKey, o.PublicKey}, func(s string) bool { return s == "" })), " and ")
}

func slashAll(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.ToSlash(p)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
