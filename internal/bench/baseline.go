package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lxzan/gws"
)

// Baseline is the naive server the figures are compared against: the same
// protocol subset as Switchboard's default config (connected, join_room →
// room_joined, send_message → message_received to the room except the
// sender, a JWT in the query) written the way a gws tutorial does it:
// encoding/json, one gws.Broadcaster per message, and gws's per-connection
// write queue, which writes every frame with its own syscall.
type Baseline struct {
	parser   *jwt.Parser
	secret   []byte
	upgrader *gws.Upgrader
	seq      atomic.Uint64

	mu    sync.RWMutex
	rooms map[string]map[*gws.Conn]struct{}
}

// NewBaseline returns the baseline server's WebSocket handler.
func NewBaseline(secret []byte) *Baseline {
	b := &Baseline{
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})),
		secret: secret,
		rooms:  map[string]map[*gws.Conn]struct{}{},
	}
	b.upgrader = gws.NewUpgrader(baselineEvents{b}, &gws.ServerOption{ReadMaxPayloadSize: 64 << 10})
	return b
}

func (b *Baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	claims := jwt.MapClaims{}
	_, err := b.parser.ParseWithClaims(r.URL.Query().Get("token"), claims, func(*jwt.Token) (any, error) { return b.secret, nil })
	sub, _ := claims["sub"].(string)
	if err != nil || sub == "" {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	ws, err := b.upgrader.Upgrade(w, r)
	if err != nil {
		return
	}
	ws.Session().Store("user", sub)
	ws.Session().Store("rooms", map[string]struct{}{})
	go ws.ReadLoop()
}

type baselineEvents struct{ b *Baseline }

type baselineMsg struct {
	Type   string `json:"type"`
	RoomID string `json:"roomId,omitempty"`
	Text   string `json:"text,omitempty"`
	UserID string `json:"userId,omitempty"`
	TS     int64  `json:"ts,omitempty"`
	ID     string `json:"id,omitempty"`
}

func sessionUser(ws *gws.Conn) string {
	v, _ := ws.Session().Load("user")
	s, _ := v.(string)
	return s
}

func (e baselineEvents) OnOpen(ws *gws.Conn) {
	out, _ := json.Marshal(baselineMsg{Type: "connected", UserID: sessionUser(ws)})
	_ = ws.WriteMessage(gws.OpcodeText, out)
}

func (e baselineEvents) OnClose(ws *gws.Conn, _ error) {
	v, _ := ws.Session().Load("rooms")
	rooms, _ := v.(map[string]struct{})
	e.b.mu.Lock()
	for name := range rooms {
		delete(e.b.rooms[name], ws)
		if len(e.b.rooms[name]) == 0 {
			delete(e.b.rooms, name)
		}
	}
	e.b.mu.Unlock()
}

func (e baselineEvents) OnPing(ws *gws.Conn, p []byte) { _ = ws.WritePong(p) }
func (e baselineEvents) OnPong(*gws.Conn, []byte)      {}

func (e baselineEvents) OnMessage(ws *gws.Conn, m *gws.Message) {
	defer m.Close()
	var in baselineMsg
	if err := json.Unmarshal(m.Bytes(), &in); err != nil || in.RoomID == "" {
		_ = ws.WriteMessage(gws.OpcodeText, []byte(`{"type":"error","code":"bad_json","message":"want {type, roomId}"}`))
		return
	}
	b := e.b
	switch in.Type {
	case "join_room":
		v, _ := ws.Session().Load("rooms")
		rooms, _ := v.(map[string]struct{})
		b.mu.Lock()
		if b.rooms[in.RoomID] == nil {
			b.rooms[in.RoomID] = map[*gws.Conn]struct{}{}
		}
		b.rooms[in.RoomID][ws] = struct{}{}
		rooms[in.RoomID] = struct{}{}
		b.mu.Unlock()
		out, _ := json.Marshal(baselineMsg{Type: "room_joined", RoomID: in.RoomID})
		_ = ws.WriteMessage(gws.OpcodeText, out)
	case "send_message":
		out, _ := json.Marshal(baselineMsg{
			Type: "message_received", RoomID: in.RoomID, Text: in.Text, UserID: sessionUser(ws),
			TS: time.Now().UnixMilli(), ID: "b-" + strconv.FormatUint(b.seq.Add(1), 36),
		})
		bc := gws.NewBroadcaster(gws.OpcodeText, out)
		b.mu.RLock()
		for c := range b.rooms[in.RoomID] {
			if c != ws {
				_ = bc.Broadcast(c, nil)
			}
		}
		b.mu.RUnlock()
		_ = bc.Close()
	default:
		_ = ws.WriteMessage(gws.OpcodeText, []byte(`{"type":"error","code":"unknown_type","message":"baseline knows join_room and send_message"}`))
	}
}

// ServeBaseline runs the baseline on listen (with /healthz, like
// `switchboard serve`) until ctx is done.
func ServeBaseline(ctx context.Context, listen, path string, secret []byte) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(path, NewBaseline(secret))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
