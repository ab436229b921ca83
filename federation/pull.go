package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tearline/tearline/taxii"
)

// Pull: reading a partner's TAXII holdings collection (what it releases to
// this node) with the node's federation client, page by page from an
// added_after cursor. The caller stores each page and saves the cursor only
// after the page is committed, so a crash re-reads at most one page.

// MaxPullPages bounds one pull, so that a partner that always answers
// more=true cannot keep a pull going for ever; the next pull continues.
const MaxPullPages = 10000

// Page is one page of a pull: the envelope's objects and the cursor that
// follows it (X-TAXII-Date-Added-Last; "" when the partner sent none).
type Page struct {
	Objects []json.RawMessage
	Last    string
}

// Pull reads the holdings collection of the partner at base (its URL) with
// c, from added_after cursor (or the start when ""), limit objects a
// page, and hands each page to fn in order. fn returns the cursor to go on
// from; an error stops the pull. It returns the number of pages read.
func Pull(ctx context.Context, c *http.Client, base, cursor string, limit int, timeout time.Duration,
	fn func(ctx context.Context, p Page) error) (int, error) {
	root := strings.TrimSuffix(base, "/") + taxii.Prefix + taxii.DefaultRoot + "/"
	coll, err := holdings(ctx, c, root, timeout)
	if err != nil {
		return 0, err
	}
	next, pages := "", 0
	for pages < MaxPullPages {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if next != "" {
			q.Set("next", next)
		} else if cursor != "" {
			q.Set("added_after", cursor)
		}
		env, last, err := getEnvelope(ctx, c, root+"collections/"+url.PathEscape(coll)+"/objects/?"+q.Encode(), timeout)
		if err != nil {
			return pages, err
		}
		pages++
		if err := fn(ctx, Page{Objects: env.Objects, Last: last}); err != nil {
			return pages, fmt.Errorf("page %d: %w", pages, err)
		}
		if !env.More || env.Next == "" {
			break
		}
		next = env.Next
	}
	return pages, nil
}

// holdings finds the partner's holdings collection (its id is the
// partner's, derived from its identity).
func holdings(ctx context.Context, c *http.Client, root string, timeout time.Duration) (string, error) {
	b, _, err := taxiiGet(ctx, c, root+"collections/", timeout)
	if err != nil {
		return "", err
	}
	var cs struct {
		Collections []taxii.Collection `json:"collections"`
	}
	if err := json.Unmarshal(b, &cs); err != nil {
		return "", fmt.Errorf("collections: %w", err)
	}
	for _, col := range cs.Collections {
		if col.Alias == HoldingsAlias && col.CanRead {
			return col.ID, nil
		}
	}
	return "", errors.New("the partner offers no readable holdings collection")
}

func getEnvelope(ctx context.Context, c *http.Client, u string, timeout time.Duration) (taxii.Envelope, string, error) {
	b, h, err := taxiiGet(ctx, c, u, timeout)
	if err != nil {
		return taxii.Envelope{}, "", err
	}
	var env taxii.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return taxii.Envelope{}, "", fmt.Errorf("envelope: %w", err)
	}
	return env, h.Get("X-TAXII-Date-Added-Last"), nil
}

// taxiiGet GETs a TAXII resource with the node's client certificate and no
// token: the partner serves its partner view.
func taxiiGet(ctx context.Context, c *http.Client, u string, timeout time.Duration) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxInboxBody+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > MaxInboxBody {
		return nil, nil, fmt.Errorf("GET %s: answer larger than %d bytes", u, MaxInboxBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, truncate(string(bytes.TrimSpace(b)), 300))
	}
	return b, resp.Header, nil
}
