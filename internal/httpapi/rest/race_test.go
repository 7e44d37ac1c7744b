//go:build race

package rest_test

func init() { raceEnabled = true }
