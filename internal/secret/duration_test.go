package secret

import (
	"strconv"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	const (
		day     = 86400
		century = 100 * 365 * day
	)
	tests := []struct {
		name     string
		in       string
		wantSecs int64
		wantErr  bool
	}{
		{name: "one day", in: "1d", wantSecs: day},
		{name: "hours minutes seconds", in: "10h30m10s", wantSecs: 10*3600 + 30*60 + 10},
		{name: "zero seconds", in: "0s", wantSecs: 0},
		{name: "zero days", in: "0d", wantSecs: 0},
		{name: "thirty days", in: "30d", wantSecs: 30 * day},
		{name: "every unit", in: "1d2h3m4s", wantSecs: day + 2*3600 + 3*60 + 4},
		{name: "units in any order", in: "4s3m2h1d", wantSecs: day + 2*3600 + 3*60 + 4},
		{name: "repeated unit adds up", in: "1h1h", wantSecs: 7200},
		{name: "minutes", in: "90m", wantSecs: 5400},
		{name: "large seconds", in: "86400s", wantSecs: day},
		{name: "leading zeros", in: "007s", wantSecs: 7},
		{name: "many leading zeros", in: "00000000000000000001d", wantSecs: day},
		{name: "36500 days is 100 years", in: "36500d", wantSecs: century},
		{name: "100 years in seconds", in: strconv.Itoa(century) + "s", wantSecs: century},

		{name: "empty", in: "", wantErr: true},
		{name: "number without unit", in: "1", wantErr: true},
		{name: "unit without number", in: "d", wantErr: true},
		{name: "trailing number", in: "1d2", wantErr: true},
		{name: "fraction", in: "1.5h", wantErr: true},
		{name: "negative", in: "-1s", wantErr: true},
		{name: "plus sign", in: "+1s", wantErr: true},
		{name: "weeks", in: "1w", wantErr: true},
		{name: "milliseconds", in: "500ms", wantErr: true},
		{name: "go microseconds", in: "1us", wantErr: true},
		{name: "upper-case unit", in: "1D", wantErr: true},
		{name: "inner space", in: "1h 2m", wantErr: true},
		{name: "leading space", in: " 1d", wantErr: true},
		{name: "trailing space", in: "1d ", wantErr: true},
		{name: "trailing newline", in: "1d\n", wantErr: true},
		{name: "integer seconds as text", in: "3600", wantErr: true},
		{name: "unicode digit", in: "١d", wantErr: true},
		{name: "over 100 years by a second", in: strconv.Itoa(century+1) + "s", wantErr: true},
		{name: "100 years and a second", in: "36500d1s", wantErr: true},
		{name: "over 100 julian years", in: "36526d", wantErr: true},
		{name: "huge number", in: "99999999999999999999999d", wantErr: true},
		{name: "int64 overflow", in: "9223372036854775808s", wantErr: true},
		{name: "sum overflows", in: "36500d36500d", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDuration(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %d s, nil; want an error", tc.in, d.Seconds())
				}
				if got := violationID(t, err); got != "SecretDeactivateVersionAfterInvalidDuration" {
					t.Errorf("ParseDuration(%q) violation ID = %q, want SecretDeactivateVersionAfterInvalidDuration", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDuration(%q) = error %v, want %d s", tc.in, err, tc.wantSecs)
			}
			if got := d.Seconds(); got != tc.wantSecs {
				t.Errorf("ParseDuration(%q).Seconds() = %d, want %d", tc.in, got, tc.wantSecs)
			}
			// okms-rest.md 2.6: the text is echoed back as given.
			if got := d.Text(); got != tc.in {
				t.Errorf("ParseDuration(%q).Text() = %q, want the input", tc.in, got)
			}
			if got, want := d.Std(), time.Duration(tc.wantSecs)*time.Second; got != want {
				t.Errorf("ParseDuration(%q).Std() = %v, want %v", tc.in, got, want)
			}
			if got := d.IsZero(); got != (tc.wantSecs == 0) {
				t.Errorf("ParseDuration(%q).IsZero() = %v, want %v", tc.in, got, tc.wantSecs == 0)
			}
		})
	}
}

func TestDuration_GoText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"1d", "24h0m0s"},
		{"0s", "0s"},
		{"10h30m10s", "10h30m10s"},
		{"90m", "1h30m0s"},
		{"7d", "168h0m0s"},
		{"3h25m19s", "3h25m19s"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDuration(tc.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q) = error %v", tc.in, err)
			}
			if got := d.GoText(); got != tc.want {
				t.Errorf("ParseDuration(%q).GoText() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDurationOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       time.Duration
		wantSecs int64
		wantText string
		wantErr  bool
	}{
		{name: "zero", in: 0, wantSecs: 0, wantText: "0s"},
		{name: "500ms truncates to zero", in: 500 * time.Millisecond, wantSecs: 0, wantText: "0s"},
		{name: "1.5s truncates to 1s", in: 1500 * time.Millisecond, wantSecs: 1, wantText: "1s"},
		{name: "one hour", in: 3600 * time.Second, wantSecs: 3600, wantText: "1h0m0s"},
		{name: "1.5h", in: 90 * time.Minute, wantSecs: 5400, wantText: "1h30m0s"},
		{name: "one day", in: 24 * time.Hour, wantSecs: 86400, wantText: "24h0m0s"},
		{name: "minute and a fraction", in: 61*time.Second + 999*time.Millisecond, wantSecs: 61, wantText: "1m1s"},
		{name: "negative second is disabled", in: -time.Second, wantSecs: -1, wantText: "-1s"},
		{name: "negative hour is disabled", in: -time.Hour, wantSecs: -1, wantText: "-1s"},
		{name: "100 years", in: 100 * 365 * 24 * time.Hour, wantSecs: MaxDurationSeconds, wantText: (100 * 365 * 24 * time.Hour).String()},
		{name: "over 100 years", in: 100*365*24*time.Hour + time.Second, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := DurationOf(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("DurationOf(%v) = %q, nil; want an error", tc.in, d.Text())
				}
				if got := violationID(t, err); got != "SecretDeactivateVersionAfterInvalidDuration" {
					t.Errorf("DurationOf(%v) violation ID = %q, want SecretDeactivateVersionAfterInvalidDuration", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DurationOf(%v) = error %v", tc.in, err)
			}
			if d.Seconds() != tc.wantSecs || d.Text() != tc.wantText {
				t.Errorf("DurationOf(%v) = (%d s, %q), want (%d s, %q)", tc.in, d.Seconds(), d.Text(), tc.wantSecs, tc.wantText)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	d := Disabled()
	if d.Seconds() >= 0 || d.Text() != "-1s" || d.GoText() != "-1s" || d.IsZero() {
		t.Errorf("Disabled() = (%d s, text %q, go %q, zero %v), want negative, \"-1s\", \"-1s\", false", d.Seconds(), d.Text(), d.GoText(), d.IsZero())
	}
}

func TestDuration_zero(t *testing.T) {
	t.Parallel()
	var d Duration
	if !d.IsZero() || d.Seconds() != 0 || d.Text() != "0s" || d.GoText() != "0s" || d.Std() != 0 {
		t.Errorf("Duration{} = (zero %v, %d s, text %q, go %q), want zero, 0, \"0s\", \"0s\"", d.IsZero(), d.Seconds(), d.Text(), d.GoText())
	}
}

func TestDurationFromStored(t *testing.T) {
	t.Parallel()
	d := DurationFromStored(86400, "1d")
	if d.Seconds() != 86400 || d.Text() != "1d" || d.GoText() != "24h0m0s" {
		t.Errorf(`DurationFromStored(86400, "1d") = (%d, %q, %q), want (86400, "1d", "24h0m0s")`, d.Seconds(), d.Text(), d.GoText())
	}
	p, _ := ParseDuration("1d")
	if d != p {
		t.Errorf(`DurationFromStored(86400, "1d") = %+v, want it equal to ParseDuration("1d") = %+v`, d, p)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"1d", "10h30m10s", "0s", "30d", "", "1", "d", "1.5h", "-1s", "1w", "1h 2m", " 1d",
		"36500d", "36500d1s", "007s", "99999999999999999999d", "1d1d1d", "3153600000s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if _, ok := AsViolations(err); !ok {
				t.Fatalf("ParseDuration(%q) error %v is not Violations", s, err)
			}
			return
		}
		if d.Seconds() < 0 || d.Seconds() > MaxDurationSeconds {
			t.Fatalf("ParseDuration(%q) = %d s, outside 0..%d", s, d.Seconds(), MaxDurationSeconds)
		}
		if d.Text() != s {
			t.Fatalf("ParseDuration(%q).Text() = %q, want the input", s, d.Text())
		}
		again, err := ParseDuration(d.Text())
		if err != nil || again.Seconds() != d.Seconds() {
			t.Fatalf("ParseDuration(ParseDuration(%q).Text()) = %d s, %v; want %d s", s, again.Seconds(), err, d.Seconds())
		}
		// The Go form the Vault surface shows reads back as the same value.
		std, err := time.ParseDuration(d.GoText())
		if err != nil || std != d.Std() {
			t.Fatalf("time.ParseDuration(ParseDuration(%q).GoText() = %q) = %v, %v; want %v", s, d.GoText(), std, err, d.Std())
		}
		via, err := DurationOf(std)
		if err != nil || via.Seconds() != d.Seconds() {
			t.Fatalf("DurationOf(%v) = %d s, %v; want %d s", std, via.Seconds(), err, d.Seconds())
		}
	})
}
