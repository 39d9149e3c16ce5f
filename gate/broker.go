package gate

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/procgroup"
)

// Credential broker kinds, as --credential-broker names them.
const (
	BrokerOff     = "off"
	BrokerStub    = "stub"
	BrokerEnv     = "env"
	BrokerCommand = "command"
)

// Broker defaults, as Gait v1 has them.
const (
	// DefaultBrokerEnvPrefix prefixes the variable the env broker reads.
	DefaultBrokerEnvPrefix = "GAIT_BROKER_TOKEN_"
	// BrokerCommandAllowlistEnv names the variable holding the
	// comma-separated commands the command broker may run.
	BrokerCommandAllowlistEnv = "GAIT_CREDENTIAL_COMMAND_ALLOWLIST"
	// DefaultBrokerTimeout bounds one command broker run.
	DefaultBrokerTimeout = 5 * time.Second
	// DefaultBrokerMaxOutput bounds what a command broker may print.
	DefaultBrokerMaxOutput = 16 << 10
	// brokerTTL is how long a stub or env credential is recorded as valid.
	brokerTTL = 5 * time.Minute
)

// Reason code of an allow whose brokered credential was issued. A failed
// broker gives CodeBrokerCredentialMissing with the violation
// ViolationBrokerCredentialMissing.
const (
	CodeBrokerCredentialPresent = "broker_credential_present" //nolint:gosec // a reason code, not a credential
	CodeBrokerCredentialMissing = "broker_credential_missing" //nolint:gosec // a reason code, not a credential
)

// CredentialRecordSchemaID names the evidence document of one brokered
// credential.
const CredentialRecordSchemaID = "gait.gate.broker_credential_record"

// Broker issues the credential a rule with require_broker_credential asks
// for. Build one with NewBroker; a nil *Broker is the off broker: every
// allow that needs a credential is blocked (broker_credential_required).
// A Broker is safe for concurrent use.
//
// The credential's value never leaves Issue: what comes back is a
// reference (an opaque id, or a digest prefix of the value), never the
// value itself.
type Broker struct {
	kind        string
	envPrefix   string
	reference   string
	scopes      []string
	command     string
	commandArgs []string
	getenv      func(string) string
	timeout     time.Duration
	maxOutput   int
	now         func() time.Time
}

// BrokerOptions configure NewBroker; the fields mirror gate eval's
// --credential-* flags.
type BrokerOptions struct {
	// Kind is off, stub, env or command ("" means off).
	Kind string
	// EnvPrefix prefixes the env broker's variable name (default
	// DefaultBrokerEnvPrefix).
	EnvPrefix string
	// Reference replaces the rule's broker_reference (--credential-ref).
	Reference string
	// Scopes are added to the rule's broker_scopes (--credential-scopes).
	Scopes []string
	// Command and CommandArgs are the command broker's program and
	// arguments; the program must be allowed by the allowlist in
	// BrokerCommandAllowlistEnv when that is set.
	Command     string
	CommandArgs []string
	// Getenv reads the environment (the env broker's variables and the
	// allowlist); nil means os.Getenv.
	Getenv func(string) string
	// Timeout and MaxOutput bound a command broker run (defaults
	// DefaultBrokerTimeout and DefaultBrokerMaxOutput).
	Timeout   time.Duration
	MaxOutput int
	// Now is the clock for issued_at; nil means time.Now.
	Now func() time.Time
}

// NewBroker checks opts and returns the broker, or nil for off. A command
// broker without a command, or whose command the allowlist does not name,
// is a usage error (exit 6) whether or not a rule will need it.
func NewBroker(opts BrokerOptions) (*Broker, error) {
	kind := strings.ToLower(strings.TrimSpace(opts.Kind))
	if kind == "" || kind == BrokerOff {
		return nil, nil
	}
	b := &Broker{
		kind: kind, envPrefix: strings.TrimSpace(opts.EnvPrefix), reference: strings.TrimSpace(opts.Reference),
		scopes: normList(opts.Scopes, false), command: strings.TrimSpace(opts.Command), commandArgs: opts.CommandArgs,
		getenv: opts.Getenv, timeout: opts.Timeout, maxOutput: opts.MaxOutput, now: opts.Now,
	}
	if b.getenv == nil {
		b.getenv = os.Getenv
	}
	if b.envPrefix == "" {
		b.envPrefix = DefaultBrokerEnvPrefix
	}
	if b.timeout <= 0 {
		b.timeout = DefaultBrokerTimeout
	}
	if b.maxOutput <= 0 {
		b.maxOutput = DefaultBrokerMaxOutput
	}
	if b.now == nil {
		b.now = time.Now
	}
	switch kind {
	case BrokerStub, BrokerEnv:
	case BrokerCommand:
		if b.command == "" {
			return nil, exitcode.Invalidf("--credential-broker command needs --credential-command PATH; name the program that prints the credential reference")
		}
		if !CommandAllowed(b.command, b.getenv(BrokerCommandAllowlistEnv)) {
			return nil, exitcode.Invalidf("--credential-command %s is not in %s; add it to the comma-separated list or run another broker", b.command, BrokerCommandAllowlistEnv)
		}
	default:
		return nil, exitcode.Invalidf("--credential-broker %s is unknown; pass off, stub, env or command", opts.Kind)
	}
	return b, nil
}

// Kind is the broker's kind (off for a nil broker).
func (b *Broker) Kind() string {
	if b == nil {
		return BrokerOff
	}
	return b.kind
}

// CommandAllowed reports whether allowlist (comma-separated, as in
// GAIT_CREDENTIAL_COMMAND_ALLOWLIST) lets command run: an empty list
// allows every command; otherwise an entry must equal the command, or its
// cleaned path, or, for an entry without a directory, its base name.
func CommandAllowed(command, allowlist string) bool {
	if strings.TrimSpace(allowlist) == "" {
		return true
	}
	clean := filepath.Clean(command)
	for entry := range strings.SplitSeq(allowlist, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if entry == command || filepath.Clean(entry) == clean {
			return true
		}
		if !strings.ContainsRune(entry, filepath.Separator) && entry == filepath.Base(clean) {
			return true
		}
	}
	return false
}

// BrokerRequest is what a broker is asked for. The command broker reads it
// as JSON on stdin with Gait v1's field names, which are the Go names: the
// fields have no tags on purpose.
type BrokerRequest struct {
	ToolName  string
	Identity  string
	Workspace string
	SessionID string
	RequestID string
	Reference string
	Scope     []string
}

// Credential is an issued credential, by reference only.
type Credential struct {
	Broker     string
	Reference  string
	Scope      []string
	Ref        string
	IssuedAt   time.Time
	ExpiresAt  time.Time // zero when the broker did not say
	TTLSeconds int64
}

// BrokerError says why no credential was issued. Its text never holds a
// credential value or the broker's output.
type BrokerError struct{ Reason string }

func (e *BrokerError) Error() string { return "credential broker: " + e.Reason }

func brokerErr(format string, args ...any) error {
	return &BrokerError{Reason: fmt.Sprintf(format, args...)}
}

// Request is the broker request for an intent whose rule d requires a
// brokered credential: the reference is --credential-ref or the rule's
// broker_reference, the scope the rule's broker_scopes plus
// --credential-scopes, sorted.
func (b *Broker) Request(in *Intent, d Decision) BrokerRequest {
	ref := d.BrokerReference
	scopes := slices.Clone(d.BrokerScopes)
	if b != nil {
		if b.reference != "" {
			ref = b.reference
		}
		scopes = append(scopes, b.scopes...)
	}
	return BrokerRequest{
		ToolName: in.ToolName, Identity: in.Context.Identity, Workspace: in.Context.Workspace,
		SessionID: in.Context.SessionID, RequestID: in.Context.RequestID,
		Reference: strings.TrimSpace(ref), Scope: normList(scopes, false),
	}
}

// Issue asks the broker for a credential. A nil broker issues none.
func (b *Broker) Issue(ctx context.Context, req BrokerRequest) (Credential, error) {
	if b == nil {
		return Credential{}, brokerErr("no broker configured")
	}
	now := b.now().UTC()
	c := Credential{Broker: b.kind, Reference: req.Reference, Scope: req.Scope, IssuedAt: now}
	switch b.kind {
	case BrokerStub:
		sum := sha256.Sum256([]byte(strings.Join([]string{req.ToolName, req.Identity, req.Workspace, req.SessionID, req.RequestID, req.Reference, strings.Join(req.Scope, ",")}, "|")))
		c.Ref = "stub:" + hex.EncodeToString(sum[:12])
	case BrokerEnv:
		name := b.envPrefix + EnvKey(cmp.Or(req.Reference, req.ToolName))
		if name == b.envPrefix {
			return Credential{}, brokerErr("reference %q gives no variable name", req.Reference)
		}
		value := strings.TrimSpace(b.getenv(name))
		if value == "" {
			return Credential{}, brokerErr("%s is empty or unset", name)
		}
		sum := sha256.Sum256([]byte(value))
		c.Ref = "env:" + name + ":" + hex.EncodeToString(sum[:8])
	case BrokerCommand:
		return b.runCommand(ctx, req, c)
	default:
		return Credential{}, brokerErr("unknown broker %q", b.kind)
	}
	c.ExpiresAt = now.Add(brokerTTL)
	c.TTLSeconds = int64(brokerTTL / time.Second)
	return c, nil
}

// EnvKey is the variable suffix for a broker reference: upper case, every
// character but A-Z and 0-9 replaced by '_', outer '_' trimmed.
func EnvKey(ref string) string {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	var sb strings.Builder
	for _, r := range ref {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return strings.Trim(sb.String(), "_")
}

// commandOutput is what a command broker prints on stdout: one JSON
// object. Fields other than these (a credential value, say) are ignored
// and never stored.
type commandOutput struct {
	CredentialRef string `json:"credential_ref"`
	IssuedAt      string `json:"issued_at"`
	ExpiresAt     string `json:"expires_at"`
	TTLSeconds    int64  `json:"ttl_seconds"`
}

func (b *Broker) runCommand(ctx context.Context, req BrokerRequest, c Credential) (Credential, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	input, err := json.Marshal(req)
	if err != nil {
		return Credential{}, err
	}
	cmd := exec.CommandContext(ctx, b.command, b.commandArgs...)
	cmd.Stdin = bytes.NewReader(input)
	out := &limitedBuffer{max: b.maxOutput}
	cmd.Stdout = out
	cmd.Stderr = io.Discard // may hold secrets; never shown
	procgroup.Own(cmd)
	cmd.WaitDelay = 500 * time.Millisecond
	runErr := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return Credential{}, brokerErr("%s did not answer within %s", filepath.Base(b.command), b.timeout)
	case out.over:
		return Credential{}, brokerErr("%s printed more than %d bytes", filepath.Base(b.command), b.maxOutput)
	case runErr != nil:
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			return Credential{}, brokerErr("%s exited with status %d", filepath.Base(b.command), ee.ExitCode())
		}
		return Credential{}, brokerErr("%s cannot run: %v", filepath.Base(b.command), errors.Unwrap(runErr))
	}
	return ParseBrokerOutput(out.buf.Bytes(), c)
}

// ParseBrokerOutput reads a command broker's stdout into c: exactly one
// JSON object with a non-empty credential_ref, and RFC 3339 issued_at and
// expires_at when given. A credential that has already expired, or a
// negative ttl_seconds, is refused.
func ParseBrokerOutput(data []byte, c Credential) (Credential, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var o commandOutput
	if err := dec.Decode(&o); err != nil {
		return Credential{}, brokerErr("output is not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Credential{}, brokerErr("output holds more than one JSON value")
	}
	o.CredentialRef = strings.TrimSpace(o.CredentialRef)
	if o.CredentialRef == "" {
		return Credential{}, brokerErr("output has no credential_ref")
	}
	c.Ref = o.CredentialRef
	if s := strings.TrimSpace(o.IssuedAt); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Credential{}, brokerErr("issued_at is not an RFC 3339 time")
		}
		c.IssuedAt = t.UTC()
	}
	if s := strings.TrimSpace(o.ExpiresAt); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Credential{}, brokerErr("expires_at is not an RFC 3339 time")
		}
		c.ExpiresAt = t.UTC()
	}
	if o.TTLSeconds < 0 {
		return Credential{}, brokerErr("ttl_seconds is negative")
	}
	c.TTLSeconds = o.TTLSeconds
	return c, nil
}

// checkFresh refuses a credential that expired before now.
func (c Credential) checkFresh(now time.Time) error {
	if !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now) {
		return brokerErr("credential %s expired at %s", c.Ref, c.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// limitedBuffer keeps at most max bytes and notes when more were written.
// It has no ReadFrom, so io.Copy goes through Write.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.over || l.buf.Len()+len(p) > l.max {
		l.over = true
		return 0, errors.New("broker output over the limit")
	}
	return l.buf.Write(p)
}

// CredentialRecord is a gait.gate.broker_credential_record: evidence that
// a credential was brokered for a traced decision, by reference only.
type CredentialRecord struct {
	SchemaID        string   `json:"schema_id"`
	SchemaVersion   string   `json:"schema_version"`
	CreatedAt       string   `json:"created_at"`
	ProducerVersion string   `json:"producer_version"`
	TraceID         string   `json:"trace_id"`
	ToolName        string   `json:"tool_name"`
	Identity        string   `json:"identity"`
	Broker          string   `json:"broker"`
	Reference       string   `json:"reference,omitempty"`
	Scope           []string `json:"scope,omitempty"`
	CredentialRef   string   `json:"credential_ref"`
	IssuedAt        string   `json:"issued_at,omitempty"`
	ExpiresAt       string   `json:"expires_at,omitempty"`
	TTLSeconds      int64    `json:"ttl_seconds,omitempty"`
}

// NewCredentialRecord is the evidence record of c for the traced intent.
func NewCredentialRecord(in *Intent, traceID string, c Credential, producerVersion string) CredentialRecord {
	created := in.CreatedAt
	if created.IsZero() {
		created = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	r := CredentialRecord{
		SchemaID: CredentialRecordSchemaID, SchemaVersion: SchemaVersion, CreatedAt: created.Format(time.RFC3339Nano),
		ProducerVersion: producer(producerVersion), TraceID: traceID, ToolName: in.ToolName, Identity: in.Context.Identity,
		Broker: c.Broker, Reference: c.Reference, Scope: c.Scope, CredentialRef: c.Ref, TTLSeconds: c.TTLSeconds,
	}
	if !c.IssuedAt.IsZero() {
		r.IssuedAt = c.IssuedAt.Format(time.RFC3339Nano)
	}
	if !c.ExpiresAt.IsZero() {
		r.ExpiresAt = c.ExpiresAt.Format(time.RFC3339Nano)
	}
	return r
}

// WriteCredentialRecord writes r as indented JSON through an atomic
// rename, readable by its owner only.
func WriteCredentialRecord(path string, r CredentialRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}
