package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Every route that makes a token refuses a lifetime that is not positive
// or longer than token_max_ttl (90 days by default), and makes nothing:
// a token that never expires cannot be had by asking for a negative one.
func TestTokenLifetimesBounded(t *testing.T) {
	tn := newNode(t, "gbr", "GBR")
	admin := tn.user(t, adminSpec())
	tokensOf := func(name string) int {
		r := tn.get(t, "/api/v1/users/"+name+"/tokens", admin)
		return bytes.Count(r.Body, []byte(`"id"`))
	}
	for _, ttl := range []string{"-1h", "0s", "-5h", "2161h", "8760h"} {
		body := []byte(`{"name":"u` + strings.NewReplacer("-", "m", "s", "", "h", "").Replace(ttl) + `","role":"analyst","nationality":"GBR","token_ttl":"` + ttl + `"}`)
		if r := tn.do(t, http.MethodPost, "/api/v1/users", admin, body); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte("positive duration")) {
			t.Errorf("add user with token_ttl %s: %d %s", ttl, r.Status, r.Body)
		}
	}
	if r := tn.get(t, "/api/v1/users", admin); bytes.Contains(r.Body, []byte(`"um1"`)) {
		t.Errorf("a refused user was made: %s", r.Body)
	}
	if r := tn.do(t, http.MethodPost, "/api/v1/users", admin, []byte(`{"name":"zed","role":"analyst","nationality":"GBR","token_ttl":"2160h"}`)); r.Status != http.StatusCreated {
		t.Fatalf("add user with the longest lifetime: %d %s", r.Status, r.Body)
	}
	before := tokensOf("zed")
	for _, ttl := range []string{"-5h", "0s", "2161h"} {
		if r := tn.do(t, http.MethodPost, "/api/v1/users/zed/tokens?ttl="+ttl, admin, nil); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte("positive duration")) {
			t.Errorf("issue token with ttl %s: %d %s", ttl, r.Status, r.Body)
		}
	}
	if got := tokensOf("zed"); got != before {
		t.Errorf("refused token requests made tokens: %d, want %d", got, before)
	}
	if r := tn.do(t, http.MethodPost, "/api/v1/users/zed/tokens?ttl=1h", admin, nil); r.Status != http.StatusCreated {
		t.Errorf("issue token 1h: %d %s", r.Status, r.Body)
	}
}
