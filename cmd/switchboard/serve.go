package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-rt/switchboard/router"
)

// shutdownTimeout bounds a graceful stop: clients get their 1001 close,
// then the process exits regardless.
const shutdownTimeout = 10 * time.Second

func serve(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("serve", "[-c FILE] [--listen ADDR] [--pprof ADDR]", "Run the router: clients connect over WebSocket at server.listen and server.path.\nSIGINT or SIGTERM stops it, closing connections with 1001.", stderr)
	path := fl.String("c", "", "config `file` (default ./router.hcl, else the built-in config)")
	var listen, pprofAddr listenFlag
	fl.Var(&listen, "listen", "listen `address`, overriding server.listen")
	fl.Var(&pprofAddr, "pprof", "serve net/http/pprof on this `address` (e.g. 127.0.0.1:6060)")
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	cfg, cfgName := loadConfig(*path, stderr)
	if cfg == nil {
		return 1
	}
	if os.Getenv("GOGC") == "" {
		// Delivery allocates next to nothing, so the collector runs mostly
		// during connection storms, whose handshakes (net/http's buffers,
		// the request, the token) leave ~10 KiB of garbage each. At
		// GOGC=100 the heap may reach twice what is live before a
		// collection; 50 keeps idle RSS lower for a little CPU during
		// storms (docs/RATIONALE.md). GOGC in the environment wins.
		debug.SetGCPercent(50)
	}
	listenFrom := "server.listen in " + cfgName
	if listen != "" {
		cfg.Server.Listen, listenFrom = string(listen), "--listen"
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	demo := cfg.Auth.Enabled && cfg.Auth.JWT != nil && cfg.Auth.JWT.Secret == ""
	if demo {
		// A one-command start must be tryable at once: make a secret for
		// this run only, and hand out a token below.
		var b [32]byte
		_, _ = rand.Read(b[:])
		cfg.Auth.JWT.Secret = hex.EncodeToString(b[:])
	}
	opts := []router.Option{router.WithLogger(log)}
	var metricsHandler http.Handler
	if cfg.Metrics.Enabled {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts = append(opts, router.WithMetrics(reg))
		metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	rt, err := router.New(cfg, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return 1
	}
	if metricsHandler != nil && cfg.Metrics.Listen != "" {
		m := http.NewServeMux()
		m.Handle(cfg.Metrics.Path, metricsHandler)
		if err := sideServer(cfg.Metrics.Listen, m, log, "metrics"); err != nil {
			fmt.Fprintf(stderr, "switchboard: metrics: %s\n", listenError(err, cfg.Metrics.Listen, "metrics.listen in "+cfgName, "change metrics.listen"))
			return 1
		}
	}
	if pprofAddr != "" {
		m := http.NewServeMux()
		m.HandleFunc("/debug/pprof/", pprof.Index)
		m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		m.HandleFunc("/debug/pprof/profile", pprof.Profile)
		m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if err := sideServer(string(pprofAddr), m, log, "pprof"); err != nil {
			fmt.Fprintf(stderr, "switchboard: pprof: %s\n", listenError(err, string(pprofAddr), "--pprof", "pass --pprof with another port"))
			return 1
		}
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard: %s\n", listenError(err, cfg.Server.Listen, listenFrom, "pass --listen with another port, e.g. --listen 127.0.0.1:8081"))
		return 1
	}
	if t := cfg.Server.TLS; t != nil {
		// TLS here rather than in ServeTLS, so that logListener sits above
		// it and sees the 431s net/http writes. HTTP/1.1 only: a WebSocket
		// upgrade needs it.
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard: %v\n", err)
			return 1
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	}
	ln = logListener{ln, log}
	mux := http.NewServeMux()
	mux.Handle(cfg.Server.Path, unwrapHijack(rt))
	if metricsHandler != nil && cfg.Metrics.Listen == "" {
		mux.Handle(cfg.Metrics.Path, metricsHandler)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	if cfg.Server.Path != "/" {
		mux.Handle("GET /{$}", pageHandler(cfg.Server.Path))
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.Server.HandshakeTimeout,
		MaxHeaderBytes:    httpHeaderLimit(cfg.Server.MaxHeaderBytes),
		// A client that never finishes its request holds a goroutine and a
		// socket: bound every stage before the upgrade.
		ReadTimeout: cfg.Server.HandshakeTimeout,
		IdleTimeout: cfg.Server.HandshakeTimeout,
	}
	scheme := "ws://"
	if cfg.Server.TLS != nil {
		scheme = "wss://"
	}
	url := scheme + ln.Addr().String() + cfg.Server.Path
	log.Info("switchboard listening", "url", url, "routes", len(cfg.Routes))
	if demo {
		tok, _ := router.IssueToken([]byte(cfg.Auth.JWT.Secret), "demo", 24*time.Hour, nil)
		printDemo(stdout, scheme, cfg.Server.Path, ln.Addr(), tok)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "switchboard: %v\n", err)
		return 1
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(ctx) // stop accepting; upgraded connections are the router's
	if err := rt.Close(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown", "err", err)
	}
	return 0
}

// httpHeaderLimit is the http.Server.MaxHeaderBytes that makes net/http
// read at most limit bytes of request header: it allows 4096 bytes more than
// it is told. Below that net/http reads up to 4097 bytes, and the router
// refuses what is over limit (431) on its own.
func httpHeaderLimit(limit int) int {
	return max(limit-4096, 1)
}

// sideServer serves an operator endpoint (metrics, pprof) on its own
// listener, so it can stay off the public address.
func sideServer(addr string, h http.Handler, log *slog.Logger, what string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info(what+" listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// listenFlag is an address flag (--listen, --pprof) checked when parsed,
// so a bad value is a command-line error naming the flag.
type listenFlag string

func (l *listenFlag) String() string { return string(*l) }

func (l *listenFlag) Set(s string) error {
	if err := checkListenAddr(s); err != nil {
		return err
	}
	*l = listenFlag(s)
	return nil
}

// checkListenAddr reports an address net.Listen("tcp", addr) would refuse
// for its form: not host:port, or a port out of 0–65535.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port; write e.g. 127.0.0.1:8080, or :8080 for every interface", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// listenError explains a failed listen on addr, which came from source
// (a flag or a config field), with what to do when the port is taken.
func listenError(err error, addr, source, otherPort string) string {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Sprintf("cannot listen on %s (%s): the address is already in use, perhaps by another switchboard; stop it, or %s", addr, source, otherPort)
	}
	if cerr := checkListenAddr(addr); cerr != nil {
		return fmt.Sprintf("cannot listen on %s (%s): %v", addr, source, cerr)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err
	}
	return fmt.Sprintf("cannot listen on %s (%s): %v", addr, source, err)
}

// printDemo prints the demo user's WebSocket URL and page URL for a
// server listening on addr. Both name localhost when it listens on every
// interface: neither a browser nor most clients can open 0.0.0.0 or [::].
func printDemo(w io.Writer, scheme, path string, addr net.Addr, tok string) {
	host := addr.String()
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", strconv.Itoa(a.Port))
	}
	url := scheme + host + path
	page := "http" + strings.TrimPrefix(scheme, "ws") + host + "/"
	fmt.Fprintf(w, "SWITCHBOARD_JWT_SECRET is not set: using a random secret for this run.\n"+
		"Demo user \"demo\" can connect with:\n  %s?token=%s\n"+
		"or open this page in a browser:\n  %s?token=%s\n", url, tok, page, tok)
}
