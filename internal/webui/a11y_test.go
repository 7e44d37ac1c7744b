package webui_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// The accessibility check: axe-core, vendored under testdata (its README
// says where from), injected into the page as it is shown and run over the
// whole document. Any violation of serious or critical impact fails the
// test, with the rule, its help text and the elements.

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

func axeSource() (string, error) {
	axeOnce.Do(func() {
		b, err := os.ReadFile("testdata/vendor/axe-core/axe.min.js")
		axeSrc, axeErr = string(b), err
	})
	return axeSrc, axeErr
}

// axeViolation is the part of an axe result the test reports.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axe runs axe-core on the page shown and fails the test on any serious or
// critical violation.
func (b *tab) axe() {
	b.t.Helper()
	vs := b.axeViolations()
	if len(vs) == 0 {
		return
	}
	var sb strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&sb, "\n  %s (%s): %s: %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
	}
	b.t.Errorf("accessibility check of %s: %d serious or critical violation(s):%s", b.location(), len(vs), sb.String())
}

// axeViolations returns the serious and critical violations axe-core finds
// on the page shown.
func (b *tab) axeViolations() []axeViolation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	// Runtime.evaluate is not subject to the page's CSP, which forbids
	// every script but the panel's own.
	if b.eval(`typeof window.axe`) != "object" {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			b.t.Fatalf("inject axe-core: %v", err)
		}
	}
	res := b.eval(`(async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})));
	})()`)
	return jsonOf[[]axeViolation](b.t, res)
}

// The check itself is checked: a button without a name on a panel page
// is found.
func TestBrowser_AxeFindsViolations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.openTab(t)
	b.signInToken(e.root)
	b.open("/ui/secrets")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("main").append(document.createElement("button"))`))
	vs := b.axeViolations()
	if !slices.ContainsFunc(vs, func(v axeViolation) bool { return v.ID == "button-name" }) {
		t.Errorf("axe-core did not find the button without a name: %+v", vs)
	}
}
