package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// upper changes lower-case ASCII letters to upper case, and reports false
// when there are none.
func upper(_ string, s []byte) ([]byte, bool) {
	if !bytes.ContainsFunc(s, func(r rune) bool { return 'a' <= r && r <= 'z' }) {
		return nil, false
	}
	return bytes.ToUpper(s), true
}

func TestRewriteStrings(t *testing.T) {
	cases := []struct {
		name   string
		env    string
		fields []string
		want   string // "" = unchanged
	}{
		{"one field", `{"type":"m","text":"hi"}`, []string{"text"}, `{"type":"m","text":"HI"}`},
		{"nothing to change", `{"type":"m","text":"HI!"}`, []string{"text"}, ""},
		{"missing", `{"type":"m"}`, []string{"text"}, ""},
		{"empty object", `{}`, []string{"text"}, ""},
		{"no fields", `{"text":"hi"}`, nil, ""},
		{"other fields untouched", `{"type":"m","roomId":"r","text":"ok"}`, []string{"text"}, `{"type":"m","roomId":"r","text":"OK"}`},
		{"two fields", `{"type":"m","text":"a","caption":"b","alt":"c"}`, []string{"text", "caption"},
			`{"type":"m","text":"A","caption":"B","alt":"c"}`},
		{"duplicate keys, every one", `{"text":"ok","text":"hi","text":"X"}`, []string{"text"}, `{"text":"OK","text":"HI","text":"X"}`},
		{"escaped key", `{"te\u0078t":"hi"}`, []string{"text"}, `{"te\u0078t":"HI"}`},
		{"escaped value decoded, re-encoded", `{"text":"a\"b\\c\u00e9\n\u0001\/"}`, []string{"text"}, `{"text":"A\"B\\CÉ\n\u0001/"}`},
		{"not a string", `{"text":{"text":"hi"},"n":1}`, []string{"text"}, ""},
		{"nested untouched", `{"meta":{"text":"a","x":[1,"]"]},"text":"b"}`, []string{"text"}, `{"meta":{"text":"a","x":[1,"]"]},"text":"B"}`},
		{"spaces kept", " { \"type\" : \"m\" , \"text\" : \"b\" } \n", []string{"text"}, " { \"type\" : \"m\" , \"text\" : \"B\" } \n"},
		{"values of every kind", `{"a":true,"b":null,"c":-1.5e3,"d":[],"e":{},"text":"x","f":false}`, []string{"text"},
			`{"a":true,"b":null,"c":-1.5e3,"d":[],"e":{},"text":"X","f":false}`},
		{"invalid UTF-8 with escapes as encoding/json", "{\"text\":\"\\n\xff\xe2\x82 \u00e9\xc3a\"}", []string{"text"},
			"{\"text\":\"\\n\uFFFD\uFFFD\uFFFD É\uFFFDA\"}"},
		{"surrogates", `{"text":"\ud83d\ude00 \ud800 a"}`, []string{"text"}, `{"text":"😀 ` + "\uFFFD" + ` A"}`},
	}
	for _, c := range cases {
		out, changed, err := RewriteStrings([]byte(c.env), c.fields, upper)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := c.want
		if want == "" {
			want = c.env
		}
		if changed != (c.want != "") || string(out) != want {
			t.Errorf("%s: got %s, %v\nwant %s, %v", c.name, out, changed, want, c.want != "")
		}
	}
}

func TestRewriteStringsField(t *testing.T) {
	// f is told which field it sees: the name from fields, also for an
	// escaped key.
	var got []string
	_, _, err := RewriteStrings([]byte(`{"a":"1","b":"2","\u0061":"3","c":"4"}`), []string{"a", "b"}, func(field string, v []byte) ([]byte, bool) {
		got = append(got, field+"="+string(v))
		return nil, false
	})
	if want := []string{"a=1", "b=2", "a=3"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("f saw %q, %v; want %q", got, err, want)
	}
	// The replacement is any bytes, encoded as a JSON string.
	out, _, _ := RewriteStrings([]byte(`{"text":"x"}`), []string{"text"}, func(string, []byte) ([]byte, bool) {
		return []byte("<\"\\\x00\x1f\t>"), true
	})
	if want := `{"text":"<\"\\\u0000\u001f\t>"}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	// changed with an empty value empties the field.
	out, changed, _ := RewriteStrings([]byte(`{"text":"x"}`), []string{"text"}, func(string, []byte) ([]byte, bool) { return nil, true })
	if string(out) != `{"text":""}` || !changed {
		t.Errorf("got %s, %v", out, changed)
	}
}

func TestRewriteStringsNotObject(t *testing.T) {
	for _, env := range []string{``, `[]`, `"text"`, `{"text" "x"}`, `{text:"x"}`, `{"text":"x`, `{"text":`, `{"te`} {
		if _, _, err := RewriteStrings([]byte(env), []string{"text"}, upper); err == nil || !strings.HasPrefix(err.Error(), "envelope is not a JSON object") {
			t.Errorf("%s: err %v, want envelope is not a JSON object", env, err)
		}
	}
}

func TestRewriteStringsAllocs(t *testing.T) {
	env := []byte(`{"type":"send_message","roomId":"lobby","text":"nothing to change here","text":"HI"}`)
	none := func(string, []byte) ([]byte, bool) { return nil, false }
	allocs := testing.AllocsPerRun(100, func() {
		out, changed, err := RewriteStrings(env, []string{"text", "caption"}, none)
		if err != nil || changed || &out[0] != &env[0] {
			t.Fatal("changed or copied")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations when nothing changes, want 0", allocs)
	}
}

// member is a top-level member of a JSON object, as encoding/json decodes it.
type member struct {
	name  string
	value any // a string for string values, else json.RawMessage
}

// members lists the top-level members of the JSON object b in order,
// duplicates included, decoded by encoding/json.
func members(b []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var ms []member
	for d.More() {
		k, err := d.Token()
		name, ok := k.(string)
		if err != nil || !ok {
			return nil, errors.New("bad member name")
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		m := member{name: name}
		if v[0] == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			m.value = s
		} else {
			m.value = json.RawMessage(slices.Clone(v))
		}
		ms = append(ms, m)
	}
	if _, err := d.Token(); err != nil { // }
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, err
	}
	return ms, nil
}

// FuzzRewriteStrings checks RewriteStrings against encoding/json: on a valid
// object f sees exactly the string members encoding/json decodes for the
// fields, in order; the output is valid JSON with those values replaced and
// everything else as it was; and when f changes nothing the envelope comes
// back as it is, not copied. On anything else it must only not panic.
func FuzzRewriteStrings(f *testing.F) {
	for _, s := range []string{
		`{"type":"m","text":"hi"}`,
		`{"text":"ok","text":"<b>"}`,
		`{"te\u0078t":"a\"b\\c\u00e9\ud83d\ude00\n"}`,
		` { "meta" : {"text":"x","a":[1,"]"]} , "text" : "y" } `,
		`{"text":{"text":"nested"},"caption":"z"}`,
	} {
		f.Add([]byte(s), "text", "caption", byte(0))
	}
	f.Fuzz(func(t *testing.T, env []byte, field1, field2 string, mode byte) {
		fields := []string{field1, field2}
		var seen []member
		rewrite := func(field string, v []byte) ([]byte, bool) {
			seen = append(seen, member{field, string(v)})
			switch mode % 4 {
			case 0:
				return nil, false
			case 1:
				return upper(field, v)
			case 2:
				return append([]byte(`<"\`), v...), true
			default:
				return nil, true
			}
		}
		out, changed, err := RewriteStrings(env, fields, rewrite)
		in, jerr := members(env)
		if jerr != nil || !json.Valid(env) {
			return // not a JSON object: anything but a panic goes
		}
		// The host passes on only valid UTF-8. Without escapes, f sees a
		// string's raw bytes, where encoding/json would replace invalid
		// UTF-8, so the comparisons below need valid UTF-8.
		validUTF8 := utf8.Valid(env)
		if err != nil {
			t.Fatalf("valid object %q: %v", env, err)
		}
		if !json.Valid(out) {
			t.Fatalf("%q became invalid JSON %q", env, out)
		}
		// f saw what encoding/json decodes.
		var want []member
		for _, m := range in {
			if s, ok := m.value.(string); ok && slices.Contains(fields, m.name) {
				want = append(want, member{m.name, s})
			}
		}
		if validUTF8 && !slices.Equal(seen, want) {
			t.Fatalf("%q: f saw %q, want %q", env, seen, want)
		}
		if !changed {
			if len(env) > 0 && (len(out) != len(env) || &out[0] != &env[0]) {
				t.Fatalf("%q: unchanged but copied to %q", env, out)
			}
			return
		}
		// Decoded, the output is the input with f's replacements.
		got, err := members(out)
		if err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if !validUTF8 {
			return
		}
		for i := range in {
			if s, ok := in[i].value.(string); ok && slices.Contains(fields, in[i].name) {
				if v, ok := rewrite(in[i].name, []byte(s)); ok {
					in[i].value = string(v)
				}
			}
		}
		if !slices.EqualFunc(got, in, func(a, b member) bool {
			if ar, ok := a.value.(json.RawMessage); ok {
				br, ok := b.value.(json.RawMessage)
				return ok && a.name == b.name && bytes.Equal(ar, br)
			}
			return a == b
		}) {
			t.Fatalf("%q -> %q: members %q, want %q", env, out, got, in)
		}
	})
}
