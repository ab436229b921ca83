package main

// CLI tests in the style of filippo.io/age: each testdata/script/*.txtar is a
// story told with the real `tearline` binary (this test binary, re-executed
// under that name) and a few custom commands defined below.
//
// Custom commands:
//
//	freeport VAR                     set $VAR to a free loopback TCP port
//	waittls HOST:PORT                wait (bounded tries) until HOST:PORT completes a TLS handshake
//	waitfile FILE REGEXP             wait (bounded tries) until FILE matches REGEXP
//	lastline stdout|stderr|FILE VAR  set $VAR to the last line of the output or file
//	grab stdout|stderr|FILE REGEXP VAR...  set each VAR to a submatch of REGEXP
//	dirsum DIR FILE                  write a listing of DIR (path, mode, size, SHA-256) to FILE
//	replace FILE OLD NEW             replace the single occurrence of OLD in FILE by NEW
//	jsonobj BUNDLE ID FILE           write the object ID of a STIX bundle (raw, as in the file) to FILE
//	compress gz|xz IN OUT            write IN compressed with gzip or xz to OUT
//	jsoneq FILE1 FILE2               the two files hold the same JSON text, ignoring only whitespace
//	httpget [-ca FILE] [-token TOKEN] [-status CODE] URL
//	                                 HTTPS GET; the body goes to stdout; fails unless the status is CODE (200)
//	listall [-ca FILE] [-limit N] [-type T,...] BASE TOKEN
//	                                 walk GET /api/v1/objects page by page, checking the page contract;
//	                                 prints the ids seen, sorted, then "pages N"
//
// The test binary also answers to `stdout-to FILE tearline ARGS...`, which
// runs tearline with its standard output going to FILE: a background
// command's output is otherwise only readable once it has exited.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/ulikunitz/xz"

	"github.com/tearline/tearline/api"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tearline":  func() { os.Exit(run()) },
		"stdout-to": func() { os.Exit(stdoutTo()) },
	})
}

// stdoutTo runs `stdout-to FILE tearline ARGS...`.
func stdoutTo() int {
	if len(os.Args) < 3 || os.Args[2] != "tearline" {
		fmt.Fprintln(os.Stderr, "usage: stdout-to FILE tearline ARGS...")
		return 2
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	os.Stdout = f
	os.Args = os.Args[2:]
	return run()
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"freeport": cmdFreeport,
			"waittls":  cmdWaitTLS,
			"waitfile": cmdWaitFile,
			"lastline": cmdLastLine,
			"grab":     cmdGrab,
			"dirsum":   cmdDirsum,
			"replace":  cmdReplace,
			"jsonobj":  cmdJSONObj,
			"jsoneq":   cmdJSONEq,
			"httpget":  cmdHTTPGet,
			"listall":  cmdListAll,
			"compress": cmdCompress,
		},
	})
}

// Waits poll this often, at most this many times: bounded, and generous
// enough for a slow machine running the race detector.
const (
	pollEvery = 50 * time.Millisecond
	pollTries = 600
)

func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("unsupported: ! %s", name)
	}
}

func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "freeport")
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.Check(ln.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

func cmdWaitTLS(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "waittls")
	if len(args) != 1 {
		ts.Fatalf("usage: waittls HOST:PORT")
	}
	var err error
	for range pollTries {
		var c *tls.Conn
		d := &net.Dialer{Timeout: time.Second}
		c, err = tls.DialWithDialer(d, "tcp", args[0], &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(pollEvery)
	}
	ts.Fatalf("%s never accepted TLS after %d tries: %v", args[0], pollTries, err)
}

func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "waitfile")
	if len(args) != 2 {
		ts.Fatalf("usage: waitfile FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	var b []byte
	for range pollTries {
		b, _ = os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		time.Sleep(pollEvery)
	}
	ts.Fatalf("%s never matched %q after %d tries; it holds:\n%s", args[0], args[1], pollTries, b)
}

func cmdLastLine(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "lastline")
	if len(args) != 2 {
		ts.Fatalf("usage: lastline stdout|stderr|FILE VAR")
	}
	s := strings.TrimSuffix(ts.ReadFile(args[0]), "\n")
	if s == "" {
		ts.Fatalf("%s is empty", args[0])
	}
	last := s[strings.LastIndexByte(s, '\n')+1:]
	ts.Setenv(args[1], last)
}

func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "grab")
	if len(args) < 3 {
		ts.Fatalf("usage: grab stdout|stderr|FILE REGEXP VAR...")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	vars := args[2:]
	if re.NumSubexp() != len(vars) {
		ts.Fatalf("grab: %q has %d groups for %d variables", args[1], re.NumSubexp(), len(vars))
	}
	m := re.FindStringSubmatch(ts.ReadFile(args[0]))
	if m == nil {
		ts.Fatalf("grab: %s does not match %q", args[0], args[1])
	}
	for i, v := range vars {
		ts.Setenv(v, m[i+1])
	}
}

func cmdDirsum(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "dirsum")
	if len(args) != 2 {
		ts.Fatalf("usage: dirsum DIR FILE")
	}
	root := ts.MkAbs(args[0])
	var out strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			fmt.Fprintf(&out, "%s/ %v\n", rel, info.Mode())
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&out, "%s %v %d %x\n", rel, info.Mode(), info.Size(), sha256.Sum256(b))
		return nil
	})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out.String()), 0o644))
}

func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "replace")
	if len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	s := ts.ReadFile(args[0])
	if n := strings.Count(s, args[1]); n != 1 {
		ts.Fatalf("replace: %q occurs %d times in %s, want once", args[1], n, args[0])
	}
	s = strings.Replace(s, args[1], args[2], 1)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(s), 0o644))
}

func cmdJSONObj(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "jsonobj")
	if len(args) != 3 {
		ts.Fatalf("usage: jsonobj BUNDLE ID FILE")
	}
	var b struct{ Objects []json.RawMessage }
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &b))
	for _, raw := range b.Objects {
		var o struct{ ID string }
		ts.Check(json.Unmarshal(raw, &o))
		if o.ID == args[1] {
			ts.Check(os.WriteFile(ts.MkAbs(args[2]), append(raw, '\n'), 0o644))
			return
		}
	}
	ts.Fatalf("jsonobj: no %s in %s", args[1], args[0])
}

// cmdJSONEq compares two JSON texts after removing insignificant
// whitespace: member order, number spelling and string escapes must match.
func cmdJSONEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsoneq FILE1 FILE2")
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, []byte(ts.ReadFile(args[0]))); err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	if err := json.Compact(&b, []byte(ts.ReadFile(args[1]))); err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	eq := bytes.Equal(a.Bytes(), b.Bytes())
	switch {
	case eq && neg:
		ts.Fatalf("%s and %s hold the same JSON", args[0], args[1])
	case !eq && !neg:
		ts.Fatalf("%s and %s differ:\n%s\n%s", args[0], args[1], a.Bytes(), b.Bytes())
	}
}

// httpFlags are the flags shared by httpget and listall.
type httpFlags struct {
	ca, token, types string
	status, limit    int
}

func parseHTTPFlags(ts *testscript.TestScript, name string, args []string) (*httpFlags, []string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f httpFlags
	fs.StringVar(&f.ca, "ca", "", "")
	fs.StringVar(&f.token, "token", "", "")
	fs.StringVar(&f.types, "type", "", "")
	fs.IntVar(&f.status, "status", http.StatusOK, "")
	fs.IntVar(&f.limit, "limit", 0, "")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("%s: %v", name, err)
	}
	return &f, fs.Args()
}

func httpDo(ts *testscript.TestScript, ca, token, u string) (int, []byte) {
	caFile := ""
	if ca != "" {
		caFile = ts.MkAbs(ca)
	}
	tc, err := api.ClientTLS(caFile, caFile == "")
	ts.Check(err)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	ts.Check(err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := cl.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	return resp.StatusCode, b
}

func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "httpget")
	f, rest := parseHTTPFlags(ts, "httpget", args)
	if len(rest) != 1 {
		ts.Fatalf("usage: httpget [-ca FILE] [-token TOKEN] [-status CODE] URL")
	}
	code, body := httpDo(ts, f.ca, f.token, rest[0])
	ts.Stdout().Write(body)
	if code != f.status {
		ts.Fatalf("GET %s: status %d, want %d; body:\n%s", rest[0], code, f.status, body)
	}
}

func cmdListAll(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "listall")
	f, rest := parseHTTPFlags(ts, "listall", args)
	if len(rest) != 2 {
		ts.Fatalf("usage: listall [-ca FILE] [-limit N] [-type T,...] BASE TOKEN")
	}
	base, token := strings.TrimRight(rest[0], "/"), rest[1]
	seen := map[string]bool{}
	var ids []string
	next, pages := "", 0
	for {
		q := url.Values{}
		if f.types != "" {
			q.Set("type", f.types)
		}
		if f.limit > 0 {
			q.Set("limit", strconv.Itoa(f.limit))
		}
		if next != "" {
			q.Set("next", next)
		}
		u := base + "/api/v1/objects?" + q.Encode()
		code, body := httpDo(ts, f.ca, token, u)
		if code != http.StatusOK {
			ts.Fatalf("GET %s: status %d; body:\n%s", u, code, body)
		}
		pages++
		var page map[string]json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			ts.Fatalf("page %d: %v\n%s", pages, err, body)
		}
		var objs []struct{ ID, Type string }
		var more bool
		if err := json.Unmarshal(page["objects"], &objs); err != nil || page["objects"] == nil {
			ts.Fatalf("page %d: objects is not an array: %s", pages, body)
		}
		if err := json.Unmarshal(page["more"], &more); err != nil {
			ts.Fatalf("page %d: more is not a boolean: %s", pages, body)
		}
		_, hasNext := page["next"]
		for k := range page {
			if k != "objects" && k != "more" && k != "next" {
				ts.Fatalf("page %d: unexpected member %q", pages, k)
			}
		}
		if hasNext != more {
			ts.Fatalf("page %d: more=%t but next present=%t: %s", pages, more, hasNext, body)
		}
		if f.limit > 0 && len(objs) > f.limit {
			ts.Fatalf("page %d: %d objects, limit %d", pages, len(objs), f.limit)
		}
		for _, o := range objs {
			if seen[o.ID] {
				ts.Fatalf("page %d: %s listed twice", pages, o.ID)
			}
			if f.types != "" && !slices.Contains(strings.Split(f.types, ","), o.Type) {
				ts.Fatalf("page %d: %s is not of type %s", pages, o.ID, f.types)
			}
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
		if !more {
			break
		}
		if err := json.Unmarshal(page["next"], &next); err != nil || next == "" {
			ts.Fatalf("page %d: next is not a non-empty string: %s", pages, body)
		}
		if pages > 10000 {
			ts.Fatalf("more than 10000 pages: the cursor does not advance")
		}
	}
	slices.Sort(ids)
	out := ts.Stdout()
	for _, id := range ids {
		fmt.Fprintln(out, id)
	}
	fmt.Fprintf(out, "pages %d\n", pages)
}

func cmdCompress(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "compress")
	if len(args) != 3 || (args[0] != "gz" && args[0] != "xz") {
		ts.Fatalf("usage: compress gz|xz IN OUT")
	}
	var out bytes.Buffer
	var w io.WriteCloser
	if args[0] == "gz" {
		w = gzip.NewWriter(&out)
	} else {
		xw, err := xz.NewWriter(&out)
		ts.Check(err)
		w = xw
	}
	_, err := io.WriteString(w, ts.ReadFile(args[1]))
	ts.Check(err)
	ts.Check(w.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), out.Bytes(), 0o644))
}

// TestFlagHelpRenders guards every flag's help text: pflag takes a
// backticked word in a usage string as the value's placeholder, so
// "(from `ca init`)" would render as "--ca ca init".
func TestFlagHelpRenders(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "`") {
				t.Errorf("%s --%s: usage has a backtick, which help renders as the placeholder: %q", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root())
}
