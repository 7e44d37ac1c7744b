package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/seed-3e8d63de/coffer/client"
)

// The seal commands (README, "Production: sealing"): init, unseal, seal
// and seal-status go through Vault's /v1/sys/ endpoints; rekey and
// migrate-seal through coffer's /sys/seal/. Unseal keys and passphrases
// are read from a prompt that does not echo, from standard input, or from
// a file; never from a flag, which other users of the machine can see.

func newSealCmds(x *cli) []*cobra.Command {
	return []*cobra.Command{newInitCmd(x), newUnsealCmd(x), newSealCmd(x), newSealStatusCmd(x), newRekeyCmd(x), newMigrateSealCmd(x)}
}

// secretLine reads one secret: the first line of file if given, else a
// line from standard input, prompted on stderr, without echo on a
// terminal.
func (x *cli) secretLine(file, prompt string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageError{err}
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	fmt.Fprint(x.e.stderr, prompt)
	if f, ok := x.e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(x.e.stderr)
		return string(b), err
	}
	if x.in == nil {
		x.in = bufio.NewReader(x.e.stdin)
	}
	line, err := x.in.ReadString('\n')
	fmt.Fprintln(x.e.stderr) // the answer was not echoed
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", usagef("nothing on standard input: %s", strings.TrimSpace(prompt))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// sealStart is how every seal command begins: the output format, the
// client, and the seal's status.
func (x *cli) sealStart(cmd *cobra.Command) (asJSON bool, c *client.Client, st *client.SealStatus, err error) {
	if asJSON, err = x.json(); err != nil {
		return
	}
	if c, err = x.client(); err != nil {
		return
	}
	st, err = c.SealStatus(cmd.Context())
	return
}

// newPassphrase reads a new passphrase from file, or twice from the
// prompt.
func (x *cli) newPassphrase(file string) (string, error) {
	p, err := x.secretLine(file, "New unseal passphrase: ")
	if err != nil || file != "" {
		return p, err
	}
	again, err := x.secretLine("", "Repeat it: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", usagef("the two passphrases differ")
	}
	return p, nil
}

// printKeys prints keys handed out once.
func (x *cli) printKeys(keys []string, encrypted bool) {
	for i, k := range keys {
		fmt.Fprintf(x.e.stdout, "Unseal Key %d: %s\n", i+1, k)
	}
	if encrypted {
		fmt.Fprintln(x.e.stdout, "\nEach key is encrypted to its age recipient, in order: decrypt one with\n    echo '<key>' | base64 -d | age -d -i <identity file>")
	}
}

func newInitCmd(x *cli) *cobra.Command {
	var (
		shares, threshold int
		passFile          string
		recipients        []string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialise a server started with --seal shamir or passphrase",
		Long: `Initialise a new installation whose server was started with --seal shamir or
--seal passphrase: the server generates the root key, protects it with the
seal, and creates the first domain and the root token.

shamir: the key that protects the root key is split into --key-shares
shares, any --key-threshold of which unseal. The shares and the root token
are printed once: hand one share to each key holder. With --age-recipient
(once per share, in order) each share is printed encrypted to that age
public key instead.

passphrase: the passphrase (12 characters at least) is read from
--passphrase-file, or prompted twice.

The server stays sealed afterwards: unseal it with coffer operator unseal.`,
		Example: `  coffer operator init --key-shares 5 --key-threshold 3
  coffer operator init --passphrase-file /root/coffer-passphrase`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, c, st, err := x.sealStart(cmd)
			if err != nil {
				return err
			}
			if st.Initialized {
				return fmt.Errorf("the server is already initialized (seal %s)", st.Type)
			}
			req := client.InitRequest{Shares: shares, Threshold: threshold, AgeRecipients: recipients}
			if st.Type == "passphrase" {
				if req.Passphrase, err = x.newPassphrase(passFile); err != nil {
					return err
				}
				req.Shares, req.Threshold = 0, 0
			}
			res, err := c.Init(cmd.Context(), req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, res)
			}
			x.printKeys(res.KeysBase64, len(recipients) > 0)
			fmt.Fprintf(x.e.stdout, "\nInitial Root Token: %s\n\n", res.RootToken)
			if st.Type == "passphrase" {
				fmt.Fprintln(x.e.stdout, "The root key is protected by the passphrase. Keep it safe: without it the data is lost.")
			} else {
				fmt.Fprintf(x.e.stdout, "The root key is protected by %d shares, %d of which unseal the server. They are shown only\n"+
					"this once: without %d of them the data is lost.\n", shares, threshold, threshold)
			}
			fmt.Fprintln(x.e.stdout, "The server is sealed: unseal it with `coffer operator unseal`.")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&shares, "key-shares", 5, "shamir: number of key shares")
	f.IntVar(&threshold, "key-threshold", 3, "shamir: number of shares needed to unseal")
	f.StringVar(&passFile, "passphrase-file", "", "passphrase: file whose first line is the passphrase (default: prompt)")
	f.StringSliceVar(&recipients, "age-recipient", nil, "shamir: age public key (age1…) to encrypt a share to, once per share")
	x.connFlags(cmd, true)
	return cmd
}

func newUnsealCmd(x *cli) *cobra.Command {
	var (
		passFile string
		reset    bool
	)
	cmd := &cobra.Command{
		Use:   "unseal",
		Short: "Submit one unseal key (or the passphrase) to a sealed server",
		Long: `Submit one unseal key to a sealed server, as vault operator unseal does:
each key holder runs it once with their share, until the threshold is met.
The key is prompted without echo, or read from standard input. Under the
passphrase seal, the passphrase is read from --passphrase-file or
prompted. Under the file, okms and transit seals, no key is needed: the
server reads its key file again, or asks its KMS at once instead of
waiting for its next attempt. --reset forgets the keys submitted so far.`,
		Example: `  coffer operator unseal
  coffer operator unseal --passphrase-file /root/coffer-passphrase`,
		Args: exactArgs(0, "no argument: the key is prompted, never given on the command line"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, c, st, err := x.sealStart(cmd)
			if err != nil {
				return err
			}
			key := ""
			switch {
			case reset:
			case !st.Initialized:
				return errors.New("the server is not initialized: run coffer operator init first")
			case !st.Sealed:
			case st.Type == "passphrase":
				key, err = x.secretLine(passFile, "Unseal passphrase: ")
			case st.T > 0:
				key, err = x.secretLine("", fmt.Sprintf("Unseal key (%d of %d submitted): ", st.Progress, st.T))
			}
			if err != nil {
				return err
			}
			if st.Sealed || reset {
				if st, err = c.Unseal(cmd.Context(), key, reset); err != nil {
					return err
				}
			}
			if asJSON {
				return printJSON(x.e.stdout, st)
			}
			return sealPairs(x, st)
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "passphrase seal: file whose first line is the passphrase (default: prompt)")
	cmd.Flags().BoolVar(&reset, "reset", false, "forget the keys submitted so far")
	x.connFlags(cmd, true)
	return cmd
}

func sealPairs(x *cli, st *client.SealStatus) error {
	progress := ""
	if st.T > 0 {
		progress = fmt.Sprintf("%d/%d", st.Progress, st.T)
	}
	return pairs(x.e.stdout, [2]string{"seal", st.Type}, [2]string{"initialized", strconv.FormatBool(st.Initialized)},
		[2]string{"sealed", strconv.FormatBool(st.Sealed)}, [2]string{"threshold", strconv.Itoa(st.T)},
		[2]string{"shares", strconv.Itoa(st.N)}, [2]string{"progress", dash(progress)})
}

func newSealCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal",
		Short: "Seal a running server (account root or ADMIN)",
		Long: `Seal the server: it finishes the requests in flight, drops the root key and
every key derived from it from memory, and answers 503 until unsealed.`,
		Example: `  COFFER_TOKEN=cof_root_… coffer operator seal
  coffer operator seal --addr https://node1.example.com:8200 --ca ca.pem`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := x.client()
			if err != nil {
				return err
			}
			if err := c.Seal(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(x.e.stdout, "Sealed.")
			return nil
		},
	}
	x.connFlags(cmd, false)
	return cmd
}

func newSealStatusCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal-status",
		Short: "Show the seal of a server: type, sealed, threshold, progress",
		Example: `  coffer operator seal-status
  coffer operator seal-status --addr https://node2.example.com:8200 --ca ca.pem --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, _, st, err := x.sealStart(cmd)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, st)
			}
			return sealPairs(x, st)
		},
	}
	x.connFlags(cmd, true)
	return cmd
}

// sealChangeFlags are the flags of rekey and migrate-seal.
type sealChangeFlags struct {
	shares, threshold int
	passFile, curPass string
	recipients        []string
	to                string
}

func (sf *sealChangeFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&sf.shares, "key-shares", 5, "shamir: number of new key shares")
	f.IntVar(&sf.threshold, "key-threshold", 3, "shamir: number of new shares needed to unseal")
	f.StringVar(&sf.passFile, "passphrase-file", "", "passphrase: file whose first line is the new passphrase (default: prompt)")
	f.StringVar(&sf.curPass, "current-passphrase-file", "", "file whose first line is the current passphrase, when the seal is passphrase (default: prompt)")
	f.StringSliceVar(&sf.recipients, "age-recipient", nil, "shamir: age public key to encrypt a new share to, once per share")
}

// changeSeal runs a rekey or migration: the current keys, the new
// protection, the new keys printed, then the commit.
func (x *cli) changeSeal(cmd *cobra.Command, sf *sealChangeFlags) error {
	asJSON, c, st, err := x.sealStart(cmd)
	if err != nil {
		return err
	}
	if st.Sealed {
		return errors.New("the server is sealed: unseal it first")
	}
	to := sf.to
	if to == "" {
		to = st.Type
	}
	req := client.SealChangeRequest{To: sf.to, AgeRecipients: sf.recipients}
	// The current keys: an operator token alone cannot replace the key
	// holders.
	switch {
	case st.Type == "passphrase":
		p, err := x.secretLine(sf.curPass, "Current unseal passphrase: ")
		if err != nil {
			return err
		}
		req.Keys = []string{p}
	case st.T > 0:
		for i := range st.T {
			k, err := x.secretLine("", fmt.Sprintf("Current unseal key %d of %d: ", i+1, st.T))
			if err != nil {
				return err
			}
			req.Keys = append(req.Keys, k)
		}
	}
	switch to {
	case "shamir":
		req.Shares, req.Threshold = sf.shares, sf.threshold
	case "passphrase":
		if req.Passphrase, err = x.newPassphrase(sf.passFile); err != nil {
			return err
		}
	}
	ch, err := c.StartSealChange(cmd.Context(), req)
	if err != nil {
		return err
	}
	// The new keys are printed before the commit: once it is done, they
	// are the only way in.
	if !asJSON {
		x.printKeys(ch.KeysBase64, len(sf.recipients) > 0)
	}
	commit := client.SealCommitRequest{Nonce: ch.Nonce}
	switch {
	case to == "passphrase":
		commit.Keys = []string{req.Passphrase}
	case len(sf.recipients) == 0 && ch.T > 0:
		commit.Keys = ch.KeysBase64[:ch.T] // proves the printed keys open the new seal
	}
	done, err := c.CommitSealChange(cmd.Context(), commit)
	if err != nil {
		return fmt.Errorf("the change was not committed, the old seal stays: %w", err)
	}
	if asJSON {
		return printJSON(x.e.stdout, map[string]any{"change": ch, "status": done})
	}
	fmt.Fprintf(x.e.stdout, "\nThe seal is now %s", done.Type)
	if done.Type == "shamir" {
		fmt.Fprintf(x.e.stdout, " (%d of %d keys)", done.T, done.N)
	}
	if done.Type == "okms" || done.Type == "transit" {
		fmt.Fprint(x.e.stdout, ", through the KMS in the server's configuration")
	}
	fmt.Fprintln(x.e.stdout, "; the root key is the same, no data was rewritten.")
	if done.Type == "shamir" {
		fmt.Fprintln(x.e.stdout, "The old keys no longer unseal it; hand out the new ones above.")
	}
	return nil
}

func newRekeyCmd(x *cli) *cobra.Command {
	sf := &sealChangeFlags{}
	cmd := &cobra.Command{
		Use:   "rekey",
		Short: "Replace the unseal keys (new shares or passphrase), keeping the root key",
		Long: `Replace the unseal keys of a running, unsealed server: new Shamir shares
(--key-shares, --key-threshold) or a new passphrase, for the seal it has.
The current keys are asked first (threshold shares, or the passphrase):
an operator token alone cannot replace the key holders. Account root or
ADMIN only.

The root key does not change and no data is rewritten. The change takes
two steps, so that a crash leaves the old keys or the new ones working,
never neither: the new keys are stored beside the old ones, printed, then
committed.`,
		Example: `  coffer operator rekey --key-shares 5 --key-threshold 3
  coffer operator rekey --passphrase-file new-pass --current-passphrase-file old-pass`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error { return x.changeSeal(cmd, sf) },
	}
	sf.register(cmd)
	x.connFlags(cmd, true)
	return cmd
}

func newMigrateSealCmd(x *cli) *cobra.Command {
	sf := &sealChangeFlags{}
	cmd := &cobra.Command{
		Use:   "migrate-seal --to shamir|passphrase|file|okms|transit",
		Short: "Change the seal type, keeping the root key",
		Long: `Move a running, unsealed server to another seal: shamir (new shares),
passphrase (a new passphrase), file (the root key in its key file), okms
(a service key of an OKMS domain) or transit (a Vault Transit key). The
root key is re-wrapped; no data is rewritten. The current keys are asked
first, as for rekey (none for the file, okms and transit seals). Moving off
the file seal deletes the key file once the new seal is in place; moving
to it writes the key file first.

okms and transit: the server wraps the root key through the KMS its own
configuration names (--seal-okms-* or --seal-transit-* of coffer server,
with their credentials), so start the server with those settings before
migrating. Account root or ADMIN only. Start the server with the new --seal
(or without --seal) from then on, keeping the KMS settings for okms and
transit.`,
		Example: `  coffer operator migrate-seal --to shamir --key-shares 5 --key-threshold 3
  coffer operator migrate-seal --to passphrase --passphrase-file pass
  coffer operator migrate-seal --to okms      # the server has --seal-okms-* settings
  coffer operator migrate-seal --to transit   # the server has --seal-transit-* settings`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch sf.to {
			case "shamir", "passphrase", "file", "okms", "transit":
			default:
				return usagef("--to is required: shamir, passphrase, file, okms or transit")
			}
			return x.changeSeal(cmd, sf)
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&sf.to, "to", "", "the new seal: shamir, passphrase, file, okms or transit")
	x.connFlags(cmd, true)
	return cmd
}
