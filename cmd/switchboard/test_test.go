package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyTestsOfRouterHCL(t *testing.T) {
	out, errOut, code := switchboard(t, "../..", nil, "test", "-v")
	if code != 0 {
		t.Fatalf("switchboard test on router.hcl: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "--- PASS: send_message goes to the room as message_received") || !strings.Contains(out, "\nok  \trouter.hcl") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestPolicyTestFailures(t *testing.T) {
	cfg := `
route "echo" {
  schema {
    field "n" {
      type = "number"
      max  = 10
    }
  }
  deliver {
    to = "sender"
  }
}
test "passes" {
  send = { type = "echo", n = 3 }
  expect {
    to     = "sender"
    fields = { n = 3 }
  }
}
test "wrong verdict" {
  send = { type = "echo", n = 11 }
}
test "wrong field" {
  send = { type = "echo", n = 4 }
  expect {
    fields = { n = 5, missing = true }
  }
}
`
	path := filepath.Join(t.TempDir(), "t.hcl")
	os.WriteFile(path, []byte(cfg), 0o600)
	out, _, code := switchboard(t, ".", nil, "test", "-c", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"--- FAIL: wrong verdict",
		`t.hcl:20: verdict = "reject (invalid_field: \"n\" must be at most 10)", want "deliver"`,
		"--- FAIL: wrong field",
		`field "n" = 4, want 5`,
		`field "missing" missing`,
		"1 passed, 2 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL: passes") {
		t.Errorf("passing test reported as failed:\n%s", out)
	}
	out, _, code = switchboard(t, ".", nil, "test", "-c", path, "-run", "passes")
	if code != 0 || !strings.Contains(out, "1 passed, 0 failed") {
		t.Fatalf("-run passes: exit %d\n%s", code, out)
	}
}

// Issue 9 item 14: test blocks are decoded as live frames, and config
// strings are taken as written (HCL would make both NFC), so these
// expectations are the live server's verdicts (router's
// TestConfigStringsAsWrittenOfflineAndLive checks the same over a socket).
func TestPolicyTestsDecodeLikeLive(t *testing.T) {
	cfg := `
route "name" {
  schema {
    field "text" {
      type       = "string"
      max_length = 5
    }
    field "drink" {
      type = "string"
      enum = ["cafe\u0301"]
    }
    field "n" {
      type = "number"
      max  = 9007199254740992
    }
  }
  deliver {
    to = "sender"
  }
}
test "decomposed is six code points" {
  send = { type = "name", text = "e\u0301e\u0301e\u0301" }
  expect {
    verdict = "reject"
    code    = "invalid_field"
  }
}
test "enum as written" {
  send = { type = "name", drink = "cafe\u0301" }
  expect {
    fields = { drink = "cafe\u0301" }
  }
}
test "enum not normalised" {
  send = { type = "name", drink = "caf\u00e9" }
  expect {
    verdict = "reject"
  }
}
test "exact numbers" {
  send = { type = "name", n = 9007199254740993 }
  expect {
    verdict = "reject"
  }
}
test "duplicate names as a client would send them" {
  send = { type = "name", "text" = "a", text = "b" }
  expect {
    verdict = "reject"
    code    = "duplicate_key"
  }
}
`
	path := filepath.Join(t.TempDir(), "t.hcl")
	os.WriteFile(path, []byte(cfg), 0o600)
	out, errOut, code := switchboard(t, ".", nil, "test", "-v", "-c", path)
	if code != 0 || !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
}
