package webui_test

import (
	"fmt"
	"testing"
)

// BenchmarkBrowser_List1000 measures a list page of a folder of 1,000
// secrets in the browser tests' Chromium, from the start of the navigation
// to DOMContentLoaded (the page's own Navigation Timing), as the panel
// serves it: the service's filtered lists read, natural sort, the page
// rendered. ms/domready is the mean; the bar is 300 ms. Run it
// with:
//
//	COFFER_BROWSER_TESTS=1 go test ./internal/webui -run '^$' -bench BenchmarkBrowser_List1000 -benchtime 20x
func BenchmarkBrowser_List1000(b *testing.B) {
	for _, size := range []int{50, 200} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			e := newEnv(b, envOptions{})
			for i := range 1000 {
				e.putSecret(e.domain, fmt.Sprintf("bulk/item-%04d", i), `{"n":"x"}`)
			}
			tb := e.openTab(b)
			tb.signInToken(e.root)
			url := fmt.Sprintf("/ui/d/%s/secrets?prefix=bulk/&size=%d", e.domain, size)
			tb.open(url) // warm: templates, connections
			var total float64
			b.ResetTimer()
			for range b.N {
				tb.open(url)
				ms := tb.eval(`(() => { const n = performance.getEntriesByType("navigation")[0]; return n.domContentLoadedEventEnd - n.startTime })()`).(float64)
				total += ms
			}
			b.StopTimer()
			if n := tb.count("#secret-rows tr"); n != size {
				b.Fatalf("the page lists %d rows, want %d", n, size)
			}
			b.ReportMetric(total/float64(b.N), "ms/domready")
		})
	}
}
