package client

import (
	"net/url"
	"strings"

	"github.com/olops/olops/internal/cli/cmdutil"
)

// Resolve finds the URL and token of the public API (management false) or
// the management API: the flags first, then OLOPS_URL / OLOPS_PUBLIC_TOKEN
// (public) or OLOPS_MANAGEMENT_URL / OLOPS_MANAGEMENT_TOKEN (management),
// then the current context of the context file written by `olops serve`
// or `olops deploy`. OLOPS_CONTEXT_NAME picks another context than the
// current one. A token is taken from the same place as the URL unless a
// flag or the environment sets it.
func Resolve(f *cmdutil.Factory, flagURL, flagToken string, management bool) (u, token string, err error) {
	getenv := f.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	urlEnv, tokenEnv, flagName := "OLOPS_URL", "OLOPS_PUBLIC_TOKEN", "public"
	if management {
		urlEnv, tokenEnv, flagName = "OLOPS_MANAGEMENT_URL", "OLOPS_MANAGEMENT_TOKEN", "management"
	}
	u, token = flagURL, flagToken
	if u == "" {
		u = getenv(urlEnv)
	}
	if token == "" {
		token = getenv(tokenEnv)
	}
	if u == "" || token == "" {
		path, perr := ContextPath(getenv)
		if perr == nil {
			cs, lerr := LoadContexts(path)
			if lerr != nil {
				if u == "" {
					return "", "", lerr
				}
			} else if c, ok := cs.Get(getenv("OLOPS_CONTEXT_NAME")); ok {
				cu, ct := c.PublicURL, c.PublicToken
				if management {
					cu, ct = c.ManagementURL, c.ManagementToken
				}
				// Take the context's token only with its URL (or with a
				// URL that is the same), so a token never goes to a
				// server it was not made for.
				if u == "" {
					u = cu
					if token == "" {
						token = ct
					}
				} else if token == "" && sameURL(u, cu) {
					token = ct
				}
			}
		}
	}
	if u == "" {
		return "", "", cmdutil.Usage("no %s URL: pass --url, set %s, or start a server with 'olops serve' (it records where it listens)", flagName, urlEnv)
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	pu, perr := url.Parse(u)
	if perr != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return "", "", cmdutil.Usage("bad %s URL %q: use http://host:port or https://host:port", flagName, u)
	}
	return strings.TrimRight(u, "/"), token, nil
}

func sameURL(a, b string) bool {
	norm := func(s string) string {
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		return strings.TrimRight(s, "/")
	}
	return b != "" && norm(a) == norm(b)
}
