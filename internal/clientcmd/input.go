package clientcmd

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/ulikunitz/xz"

	"github.com/tearline/tearline/api"
)

// maxInput bounds what publish and verify read, after decompression: a
// small .xz can expand to far more than any node accepts.
const maxInput = 1 << 30

// Magic numbers of the compressed forms bundles are commonly shipped in
// (MITRE ships ATT&CK as .json.xz); detected by content, not by file name,
// so standard input works too.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// ReadInput reads FILE, or standard input for "-", decompressing gzip and
// xz. It refuses an empty input, and one larger than maxInput, with a
// message that says so.
func ReadInput(name string) ([]byte, error) {
	what := name
	var r io.Reader
	if name == "-" {
		what = "standard input"
		r = os.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(xzMagic))
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(head, xzMagic):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: reading xz: %w", what, err)
		}
		src = xr
	case bytes.HasPrefix(head, gzipMagic):
		gr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: reading gzip: %w", what, err)
		}
		defer gr.Close()
		src = gr
	}
	data, err := io.ReadAll(io.LimitReader(src, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s: larger than %d MiB (after decompression); split the bundle", what, maxInput>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty: nothing to read (give a STIX bundle or object, plain, .gz or .xz)", what)
	}
	return data, nil
}

// checkServerURL refuses a --server value that is not an http(s) URL with
// a host, before any request makes a confusing error of it.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--server %q is not a URL with a scheme and host: write it as https://HOST:PORT (e.g. https://127.0.0.1:8443)", s)
	}
	return nil
}

// Explain adds what to do to the errors a person most often meets at the
// command line; other errors pass unchanged.
func Explain(err error) error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var apiErr *api.APIError
	switch {
	case errors.As(err, &unknown): // also inside tls.CertificateVerificationError
		return fmt.Errorf("%w\nthe server's certificate is not signed by a CA this client trusts: pass --ca FILE (the node's tls/cert.pem, or the alliance CA), or --insecure for a test node", err)
	case errors.As(err, &host):
		return fmt.Errorf("%w\nthe server's certificate does not name the host in --server: use a name or address the certificate lists, or --insecure for a test node", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w\nthe node refuses request bodies over its size limit: split the bundle, or raise max_body_bytes in the node's tearline.yaml", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return fmt.Errorf("%w\nthe token was refused: check --token (or TEARLINE_TOKEN); an administrator issues a new one with `tearline user token`", err)
	}
	return err
}
