package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/seed-3e8d63de/coffer/internal/config"
	"github.com/seed-3e8d63de/coffer/internal/server"
)

// reloadable are the settings a running server takes without a restart;
// the server itself re-reads the TLS pair and reopens the audit file.
var reloadable = map[string]bool{
	"logLevel": true, "rateLimit": true, "rateBurst": true,
	"maxSecretsPerDomain": true, "maxVersionsPerDomain": true, "maxPolicies": true,
}

// reloader re-reads the configuration on SIGHUP and when the
// configuration file changes, and asks the server to reload.
type reloader struct {
	e       *env
	running *pflag.FlagSet // the server's flags, holding the settings in force
	regions *config.File   // the regions in force
	path    string         // the configuration file, "" if none
	level   *slog.LevelVar // the server log's level
	log     *slog.Logger   //
	out     chan<- server.Reload
	every   time.Duration // how often to look at the configuration file; 0: never
	seen    os.FileInfo   // the configuration file when last read
}

// start catches SIGHUP from now on (its default action would end the
// process), then serves it and watches the configuration file until ctx
// is done.
func (r *reloader) start(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		r.run(ctx, hup)
	}()
}

func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if r.path != "" && r.every > 0 {
		r.seen, _ = os.Stat(r.path)
		t := time.NewTicker(r.every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.log.Info("reload: SIGHUP")
			r.reload(ctx, true)
		case <-tick:
			if fi, _ := os.Stat(r.path); fileChanged(r.seen, fi) {
				r.seen = fi
				r.log.Info("reload: the configuration file changed", "path", r.path)
				r.reload(ctx, false)
			}
		}
	}
}

// fileChanged reports whether a file is not the one last seen, or was
// written since.
func fileChanged(prev, now os.FileInfo) bool {
	if prev == nil || now == nil {
		return (prev == nil) != (now == nil)
	}
	return !os.SameFile(prev, now) || !prev.ModTime().Equal(now.ModTime()) || prev.Size() != now.Size()
}

// reload layers the configuration again, as at start: the command line as
// it was given, the environment of the process, the file as it is now. It
// puts the reloadable settings in force, logs the others that changed as
// needing a restart, and sends the server its reload (force: an operator
// asked, so the TLS pair and the audit file are reloaded whatever their
// files look like). A configuration that does not parse changes nothing
// but the TLS pair and the audit file.
func (r *reloader) reload(ctx context.Context, force bool) {
	req := server.Reload{Force: force}
	defer func() {
		select {
		case r.out <- req:
		case <-ctx.Done():
		}
	}()
	fresh := newServerCmd(r.e).Flags()
	r.running.Visit(func(fl *pflag.Flag) { // the flags given on the command line
		to := fresh.Lookup(fl.Name)
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			_ = to.Value.(pflag.SliceValue).Replace(sv.GetSlice())
		} else {
			_ = to.Value.Set(fl.Value.String())
		}
		to.Changed = true
	})
	st, err := layerSettings(fresh, r.e.getenv, r.path)
	if err != nil {
		r.log.Error("reload: the configuration was not re-read; the settings in force stay", "err", err)
		return
	}
	var apply []serverKey
	for _, k := range st.keys {
		if flagValue(r.running.Lookup(k.flag.Name)) == flagValue(k.flag) {
			continue
		}
		if !reloadable[k.key] {
			// The name only: the value may be a secret.
			r.log.Warn("reload: a setting changed; it takes effect at the next restart", "key", k.key)
			continue
		}
		r.log.Info("reload: setting changed", "key", k.key)
		apply = append(apply, k)
	}
	if !reflect.DeepEqual(st.regions, r.regions) {
		r.log.Warn("reload: the regions changed; they take effect at the next restart", "key", "regions")
	}
	// Logged first, applied after: the log level is one of them.
	for _, k := range apply {
		now := r.running.Lookup(k.flag.Name)
		if sv, ok := k.flag.Value.(pflag.SliceValue); ok {
			_ = now.Value.(pflag.SliceValue).Replace(sv.GetSlice())
		} else {
			_ = now.Value.Set(k.flag.Value.String())
		}
	}
	// The running flags now hold the reloadable settings (the log level's
	// sets the log's level as it is set): the limits are read from them.
	limits := limitsOf(r.running)
	req.Limits = &limits
}

// flagValue is a flag's value as text, lists included.
func flagValue(fl *pflag.Flag) string {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return fmt.Sprint(sv.GetSlice())
	}
	return fl.Value.String()
}
