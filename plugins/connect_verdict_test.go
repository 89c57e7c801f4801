package plugins

import (
	"testing"

	"github.com/switchboard-rt/switchboard/sdk/abi"
)

func TestDecodeConnectVerdict(t *testing.T) {
	cases := []struct {
		name   string
		action abi.Action
		code   int
		out    string
		want   ConnectVerdict
		bad    bool
	}{
		{"accept", abi.Allow, 0, `{"userId":"svc","claims":{"roles":["bot"]}}`, ConnectVerdict{Accept: true, UserID: "svc", Claims: map[string]any{"roles": []any{"bot"}}}, false},
		{"pass", abi.Allow, 0, ``, ConnectVerdict{Accept: true}, false},
		{"accept without user", abi.Allow, 0, `{"claims":{}}`, ConnectVerdict{}, true},
		{"accept, not JSON", abi.Allow, 0, `svc`, ConnectVerdict{}, true},
		{"reject", abi.Reject, 3, `bad no key`, ConnectVerdict{Code: "bad", Reason: " no key"}, false},
		{"reject, bad code", abi.Reject, 2, `a"x`, ConnectVerdict{}, true},
		{"transform is not a connect verdict", abi.Transform, 0, `{}`, ConnectVerdict{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeConnectVerdict(abi.Pack(tc.action, uint32(tc.code), uint32(len(tc.out))), []byte(tc.out))
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", v)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Accept != tc.want.Accept || v.UserID != tc.want.UserID || v.Code != tc.want.Code || v.Reason != tc.want.Reason || len(v.Claims) != len(tc.want.Claims) {
				t.Fatalf("got %+v, want %+v", v, tc.want)
			}
		})
	}
}
