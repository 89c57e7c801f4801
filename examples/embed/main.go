// Command embed shows Switchboard inside an existing Go service: the router
// is mounted on the service's own http.ServeMux next to its other handlers,
// and the service publishes to rooms from Go.
//
//	SWITCHBOARD_JWT_SECRET=dev go run ./examples/embed
//	curl -X POST 'localhost:8090/announce?room=lobby&text=hello'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-rt/switchboard/router"
)

// config is the service's routing config, inline: a room chat where only
// the service itself announces.
const config = `
auth {
  jwt {
    secret = env("SWITCHBOARD_JWT_SECRET")
  }
}
route "join_room" {
  schema {
    field "roomId" {
      type       = "string"
      required   = true
      max_length = 64
    }
  }
  action = "join"
  room   = msg.roomId
}
route "send_message" {
  schema {
    field "roomId" {
      type     = "string"
      required = true
    }
    field "text" {
      type       = "string"
      required   = true
      max_length = 500
    }
  }
  plugins = [plugin.no_shouting]
  deliver {
    to             = "room"
    room           = msg.roomId
    exclude_sender = true
    as             = "message_received"
  }
}
plugin "no_shouting" {
  native = true
}
`

// noShouting is a policy written in Go, run by the router like a plugin.
func noShouting(_ context.Context, m *router.Message) router.Verdict {
	var msg struct{ Text string }
	if err := json.Unmarshal(m.Payload, &msg); err == nil && len(msg.Text) > 3 && isUpper(msg.Text) {
		return router.Verdict{Action: router.Reject, Code: "shouting", Reason: "please don't shout"}
	}
	return router.Verdict{Action: router.Allow}
}

func isUpper(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			return false
		}
	}
	return true
}

// newService builds the service's handler: its own endpoints plus the
// router at /ws.
func newService(rt *router.Router) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", rt)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("POST /announce", func(w http.ResponseWriter, r *http.Request) {
		room, text := r.URL.Query().Get("room"), r.URL.Query().Get("text")
		if room == "" || text == "" {
			http.Error(w, "room and text are required", http.StatusBadRequest)
			return
		}
		err := rt.Publish(r.Context(), room, map[string]string{"type": "announcement", "roomId": room, "text": text})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

func newRouter(logger *slog.Logger) (*router.Router, error) {
	cfg, err := router.ParseConfig([]byte(config), "embed.hcl")
	if err != nil {
		return nil, err
	}
	return router.New(cfg,
		router.WithLogger(logger),
		router.WithPolicy("no_shouting", router.PolicyFunc(noShouting)))
}

func main() {
	addr := flag.String("listen", "127.0.0.1:8090", "listen address")
	flag.Parse()
	if os.Getenv("SWITCHBOARD_JWT_SECRET") == "" {
		log.Fatal("set SWITCHBOARD_JWT_SECRET (any string, for a try)")
	}
	rt, err := newRouter(slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: newService(rt), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	log.Printf("listening on http://%s (WebSocket at /ws)", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = rt.Close(ctx)
}
