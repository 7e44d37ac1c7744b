package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
)

// Machine describes where a measurement ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpuModel,omitempty"`
	OS         string `json:"os"`
	// LoadAvg is the 1, 5 and 15 minute load averages when the report was
	// made (Linux only): the server and the load tool share the machine
	// with whatever else runs.
	LoadAvg string `json:"loadAvg,omitempty"`
}

// ThisMachine describes the machine the load tool runs on.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// Report is the JSON document of a bench run.
type Report struct {
	Machine Machine   `json:"machine"`
	Results []*Result `json:"results"`
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report as a table: one row per scenario, and one
// per baseline run under it.
func WriteTable(w io.Writer, rep Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SCENARIO\tTARGET\tCONNS\tREQUESTS\tERRORS\tREQ/S\tP50\tP99\tP99.9\tMAX\tBODY\tCPU µs/REQ\t% BASELINE\t")
	row := func(r *Result, pct string) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Scenario, r.Target, r.Connections, r.Requests, r.Errors, r.Rate,
			msText(r.Latency.P50), msText(r.Latency.P99), msText(r.Latency.P999), msText(r.Latency.Max),
			bodyText(r.ResponseBytes), cpuText(r), pct)
	}
	for _, r := range rep.Results {
		pct := "-"
		if r.Baseline != nil {
			pct = fmt.Sprintf("%.1f%%", r.BaselinePercent)
			if r.CPUBaselinePercent > 0 {
				pct += fmt.Sprintf(" (CPU %.1f%%)", r.CPUBaselinePercent)
			}
		}
		row(r, pct)
		if r.Baseline != nil {
			row(r.Baseline, "100%")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := rep.Machine
	fmt.Fprintf(w, "\nmachine: %d CPUs (GOMAXPROCS %d), %s, %s, load average %s\n", m.CPUs, m.GOMAXPROCS, m.CPUModel, m.OS, m.LoadAvg)
	for _, r := range rep.Results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Scenario, r.FirstError)
		}
	}
	return nil
}

// cpuText renders the CPU per request: the server's + the load tool's.
func cpuText(r *Result) string {
	switch {
	case r.ServerCPUMicros > 0:
		return fmt.Sprintf("%.0f+%.0f", r.ServerCPUMicros, r.LoadToolCPUMicros)
	case r.LoadToolCPUMicros > 0:
		return fmt.Sprintf("%.0f", r.LoadToolCPUMicros)
	}
	return "-"
}

func msText(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.2fms", ms)
}

func bodyText(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, meth := range []string{"GET", "POST", "PUT"} {
		if n, ok := m[meth]; ok {
			parts = append(parts, fmt.Sprintf("%s %dB", meth, n))
		}
	}
	return strings.Join(parts, ", ")
}
