package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-rt/switchboard/router"
)

func TestEmbeddedRouter(t *testing.T) {
	t.Setenv("SWITCHBOARD_JWT_SECRET", "embed-test")
	rt, err := newRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newService(rt))
	defer srv.Close()
	defer rt.Close(context.Background())

	// The service's own handler still works beside the router.
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, _ := router.IssueToken([]byte("embed-test"), "alice", time.Hour, nil)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?token="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func() map[string]any {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(data, &m)
		return m
	}
	read() // connected
	c.Write(ctx, websocket.MessageText, []byte(`{"type":"join_room","roomId":"lobby"}`))
	if m := read(); m["type"] != "room_joined" {
		t.Fatalf("join: %v", m)
	}

	// Publishing from Go, through the service's own endpoint.
	resp, err = http.Post(srv.URL+"/announce?room=lobby&text=hello", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("announce: %v %v", resp, err)
	}
	if m := read(); m["type"] != "announcement" || m["text"] != "hello" || m["roomId"] != "lobby" {
		t.Fatalf("announcement: %v", m)
	}

	// The Go policy runs on the route.
	c.Write(ctx, websocket.MessageText, []byte(`{"type":"send_message","roomId":"lobby","text":"HELLO ALL"}`))
	if m := read(); m["type"] != "error" || m["code"] != "shouting" {
		t.Fatalf("policy: %v", m)
	}
}
