package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tearline/tearline/api"
	"github.com/tearline/tearline/node/stack"
	"github.com/tearline/tearline/web"
	"github.com/tearline/tearline/web/site"
)

// TestFederateDemoWebAtPartner follows the demo's printed instructions as a
// newcomer would: take a partner's URL and its analyst's password from the
// output, sign in there through the login form, and find the tearline that
// arrived, marked, on the partner's object page.
func TestFederateDemoWebAtPartner(t *testing.T) {
	var out bytes.Buffer
	ui := func(n *stack.Node) ([]api.Option, error) {
		h, err := site.New(n, slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		return []api.Option{api.WithHandler(web.Prefix, h), api.WithHandler("GET /{$}", h)}, nil
	}
	c, err := Federate(context.Background(), t.TempDir(), &out, ui)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := out.String()
	line := regexp.MustCompile(`(?m)^  fra +(https://\S+)/ui/  analyst (\S+),`).FindStringSubmatch(s)
	if line == nil {
		t.Fatalf("output names no web interface and password for fra:\n%s", s)
	}
	tearline := regexp.MustCompile(`-> fra +TEARLINE +(\S+) `).FindStringSubmatch(s)
	if tearline == nil {
		t.Fatalf("output names no tearline for fra:\n%s", s)
	}
	base, pw, id := line[1], line[2], tearline[1]

	pool := x509.NewCertPool()
	pool.AddCert(c.CA.Cert)
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, form := get("/ui/login")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("login form has no csrf input:\n%s", form)
	}
	res, err := cl.PostForm(base+"/ui/login", url.Values{"csrf": {csrf[1]}, "name": {"analyst"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/" {
		t.Fatalf("login at fra with the printed password: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	code, page := get("/ui/objects/" + id)
	if code != http.StatusOK || !strings.Contains(page, `data-object-id="`+id+`"`) {
		t.Fatalf("fra's analyst cannot open the tearline %s: %d\n%s", id, code, page)
	}
	if !strings.Contains(page, "HARBOUR SWIFT") {
		t.Errorf("the tearline page at fra lacks the released name:\n%s", page)
	}
	if strings.Contains(page, "ferry operator") {
		t.Errorf("the tearline page at fra shows the description that was cut")
	}
}
