package sdk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-rt/switchboard/sdk/internal/hook"
)

func TestConfigStrict(t *testing.T) {
	type item struct {
		Name string `json:"name"`
	}
	type conf struct {
		Fields []string `json:"fields"`
		Items  []item   `json:"items"`
	}
	defer func(old []byte) { hook.Config = old }(hook.Config)
	cases := []struct {
		config string
		want   conf
		err    string // "" = no error
	}{
		{``, conf{}, ""}, // no config block
		{`{}`, conf{}, ""},
		{`{"fields":["text"],"items":[{"name":"a"}]}`, conf{Fields: []string{"text"}, Items: []item{{"a"}}}, ""},
		{`{"feilds":["text"]}`, conf{}, `config: unknown field "feilds"`},
		{`{"items":[{"name":"a","nmae":"b"}]}`, conf{}, `config: unknown field "nmae"`}, // nested
		{`{"fields":"text"}`, conf{}, "config: cannot unmarshal string into Go struct field"},
	}
	for _, c := range cases {
		hook.Config = []byte(c.config)
		var got conf
		err := ConfigStrict(&got)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.config, err)
		case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.config, err, c.err)
		case c.err == "" && (strings.Join(got.Fields, ",") != strings.Join(c.want.Fields, ",") || len(got.Items) != len(c.want.Items)):
			t.Errorf("%s: got %+v, want %+v", c.config, got, c.want)
		}
	}

	// The error unwraps to encoding/json's.
	hook.Config = []byte(`{"fields":1}`)
	var typeErr *json.UnmarshalTypeError
	if err := ConfigStrict(&conf{}); !errors.As(err, &typeErr) {
		t.Errorf("error %v does not unwrap to *json.UnmarshalTypeError", err)
	}

	// Config still ignores unknown keys; a map or json.RawMessage takes
	// anything under ConfigStrict too.
	hook.Config = []byte(`{"feilds":["text"]}`)
	if err := Config(&conf{}); err != nil {
		t.Errorf("Config: %v", err)
	}
	var raw json.RawMessage
	if err := ConfigStrict(&raw); err != nil || string(raw) != `{"feilds":["text"]}` {
		t.Errorf("ConfigStrict(RawMessage) = %s, %v", raw, err)
	}
}
