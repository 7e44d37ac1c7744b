package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/server"
)

// startServer starts a coffer server in memory, whose root token is
// "root", behind an httptest listener. Examples call it to have something
// to talk to; in real life the address is your server's.
func startServer() (*httptest.Server, func()) {
	srv, err := server.New(context.Background(), server.Config{Dev: true, DevRootToken: "root",
		Logger: slog.New(slog.DiscardHandler), Out: io.Discard})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	return ts, func() { ts.Close(); srv.Close() }
}

func Example() {
	ts, stop := startServer()
	defer stop()
	ctx := context.Background()

	c, err := client.New(ts.URL, client.WithToken("root"))
	if err != nil {
		log.Fatal(err)
	}
	// Without WithDomain, the client addresses the server's default domain.
	_, err = c.CreateSecret(ctx, api.CreateSecretRequest{
		Path:    "prod/database/MySQL",
		Version: &api.VersionInput{Data: json.RawMessage(`{"login":"admin","password":"s3cr3t"}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	s, err := c.GetSecret(ctx, "prod/database/MySQL", client.GetSecretOptions{IncludeData: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Path, s.Version.ID, s.Version.State, string(s.Version.Data))
	// Output: prod/database/MySQL 1 active {"login":"admin","password":"s3cr3t"}
}

func ExampleClient_Secrets() {
	ts, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(ts.URL, client.WithToken("root"))
	for _, p := range []string{"app/a", "app/b", "web/c"} {
		if _, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: p,
			Version: &api.VersionInput{Data: json.RawMessage(`{"k":"v"}`)}}); err != nil {
			log.Fatal(err)
		}
	}
	// The iterator follows X-Pagination-Cursor-Next until the last page.
	for s, err := range c.Secrets(ctx, 10) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.Path, s.Metadata.CurrentVersion)
	}
	// Output:
	// app/a 1
	// app/b 1
	// web/c 1
}

func ExampleError() {
	ts, stop := startServer()
	defer stop()
	c, _ := client.New(ts.URL, client.WithToken("root"))
	_, err := c.GetSecret(context.Background(), "no/such/secret", client.GetSecretOptions{})
	fmt.Println(errors.Is(err, client.ErrNotFound))
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.ID, e.Code, e.Messages)
	}
	// Output:
	// true
	// 404 SecretNotFound 17125377 [secret not found]
}

func ExampleKV() {
	ts, stop := startServer()
	defer stop()
	ctx := context.Background()
	c, _ := client.New(ts.URL, client.WithToken("root"))
	kv := c.KV("secret")
	if _, err := kv.Put(ctx, "app/config", json.RawMessage(`{"mode":"blue"}`), nil); err != nil {
		log.Fatal(err)
	}
	cas := 1
	if _, err := kv.Patch(ctx, "app/config", json.RawMessage(`{"replicas":3}`), &cas); err != nil {
		log.Fatal(err)
	}
	s, err := kv.Get(ctx, "app/config", 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Metadata.Version, string(s.Data))
	keys, _ := kv.List(ctx, "app")
	fmt.Println(keys)
	// Output:
	// 2 {"mode":"blue","replicas":3}
	// [config]
}
