package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Secrets put into command lines by the tests below; none may ever be printed.
const (
	secretUser  = "ci-bot-U53R"
	secretPass  = "p4ss-W0RD-s3cr3t"
	secretToken = "ghp_T0KEN1234567890abcdef" // a token given as the user name
	secretQuery = "qv-Q3ERY-s3cr3t"
	secretEnv   = "env-B3ARER-s3cr3t"
)

// echoServer answers every request with status and a body that repeats
// everything sensitive in the request, as some error pages and proxies do.
func echoServer(t *testing.T, status int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		w.WriteHeader(status)
		fmt.Fprintf(w, "no access for %s %s (user %s, password %s, %s) {not json",
			r.Method, r.URL.RequestURI(), user, pass, r.Header.Get("Authorization"))
	}))
	t.Cleanup(s.Close)
	return s
}

// assertNoSecret fails when out holds any secret or the query string.
func assertNoSecret(t *testing.T, args []string, out string) {
	t.Helper()
	for _, s := range []string{
		secretUser, secretPass, secretToken, secretQuery, secretEnv, "key=", "sig=",
		base64.StdEncoding.EncodeToString([]byte(secretUser + ":" + secretPass)),
		base64.StdEncoding.EncodeToString([]byte(secretToken + ":")),
	} {
		if strings.Contains(out, s) {
			t.Errorf("sloguard %q printed %q:\n%s", args, s, out)
		}
	}
}

// withSecrets returns base (http://host:port) with credentials and a query.
func withSecrets(base, path string) []string {
	host := strings.TrimPrefix(base, "http://")
	return []string{
		"http://" + secretUser + ":" + secretPass + "@" + host + path + "?key=" + secretQuery,
		"http://" + secretToken + "@" + host + path + "?sig=" + secretQuery,
		"http://" + host + path + "?key=" + secretQuery + "&sig=" + secretQuery,
	}
}

// TestNoCredentialsPrinted runs every network command with credentials in
// its URL (and a bearer token in the environment) in each failure mode, and
// checks that neither stdout nor stderr holds any of them or the query.
func TestNoCredentialsPrinted(t *testing.T) {
	unauthorized := echoServer(t, http.StatusUnauthorized)
	badJSON := echoServer(t, http.StatusOK)
	conflict := echoServer(t, http.StatusConflict)
	modes := []struct {
		name  string
		urls  []string
		wantE string // in stderr: the message still says what went wrong
	}{
		{"unreachable", withSecrets(closedPort(t), "/sloguard"), "connection refused"},
		{"timeout", withSecrets(hangingServer(t).URL, "/sloguard"), "no answer within"},
		{"401", withSecrets(unauthorized.URL, "/sloguard"), "401 Unauthorized"},
		{"bad JSON", withSecrets(badJSON.URL, "/sloguard"), "invalid JSON"},
		{"409 bad JSON", withSecrets(conflict.URL, "/sloguard"), "sloguard"},
		{"unparsable", []string{
			"http://" + secretUser + ":" + secretPass + "@127.0.0.1:1/%zz" + secretQuery + "?key=" + secretQuery,
			"http://" + secretToken + "@127.0.0.1:" + secretPass + "/sloguard?key=" + secretQuery,
			"http://" + secretUser + " " + secretPass + "@127.0.0.1/sloguard",
			"http://" + secretToken + "@[::1/sloguard?key=" + secretQuery,
			"http://" + secretToken + "\n@127.0.0.1/sloguard",
		}, "could not be parsed"},
		{"not http", []string{
			"ftp://" + secretUser + ":" + secretPass + "@127.0.0.1/sloguard?key=" + secretQuery,
			"https:" + secretToken + "@127.0.0.1/sloguard?key=" + secretQuery,
			secretToken + "@127.0.0.1/sloguard?key=" + secretQuery,
		}, "want an http:// or https:// URL"},
	}
	commands := [][]string{{"status"}, {"status", "--json"}, {"gate"}, {"gate", "--objective", "x"}, {"events"}, {"postmortem"}}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, u := range m.urls {
				for _, env := range []string{"", secretEnv} {
					if env != "" && strings.Contains(u, "@") {
						continue // the token and a user name conflict: TestCredentialsConflict
					}
					t.Setenv(envToken, env)
					for _, cmd := range commands {
						args := append(append([]string(nil), cmd...), "--url", u, "--timeout", "100ms")
						code, stdout, stderr := runCmd(t, args...)
						if code != exitError {
							t.Errorf("sloguard %q = %d, want %d", args, code, exitError)
						}
						if !strings.Contains(stderr, m.wantE) {
							t.Errorf("sloguard %q stderr = %q, want it to contain %q", args, stderr, m.wantE)
						}
						assertNoSecret(t, args, stdout+stderr)
					}
				}
			}
		})
	}
}

// TestNoCredentialsPrintedFromArguments checks the messages about bad
// command lines: a URL given as an argument or as another flag's value.
func TestNoCredentialsPrintedFromArguments(t *testing.T) {
	u := "http://" + secretUser + ":" + secretPass + "@127.0.0.1/sloguard?key=" + secretQuery
	tok := "https://" + secretToken + "@127.0.0.1/sloguard?sig=" + secretQuery
	for _, args := range [][]string{
		{"gate", u},
		{"gate", "--url", "http://127.0.0.1/", tok},
		{"status", "--timeout", u},
		{"status", "--url", "http://127.0.0.1/", "--events", tok},
		{"events", "--since", u},
		{"events", "--timeout=" + tok},
		{"postmortem", "--since", u},
		{"postmortem", "--url", "http://127.0.0.1/", "--since=" + tok},
		{"gate", "--url", u, "--timeout", "0s"},
		{"status", "--json=" + u},
		{"version", u},
		{"help", u},
		{u},
	} {
		code, stdout, stderr := runCmd(t, args...)
		if code != exitError {
			t.Errorf("sloguard %q = %d, want %d", args, code, exitError)
		}
		if stderr == "" {
			t.Errorf("sloguard %q printed no error", args)
		}
		assertNoSecret(t, args, stdout+stderr)
	}
}

// TestStatusHeaderRedacted checks the first line of status, which names the
// document read.
func TestStatusHeaderRedacted(t *testing.T) {
	srv := serve(t, map[string]reply{"/sloguard/status.json": jsonReply(t, http.StatusOK, sampleDoc())})
	for _, u := range withSecrets(srv.URL, "/sloguard") {
		args := []string{"status", "--url", u}
		code, stdout, stderr := runCmd(t, args...)
		if code != exitOK {
			t.Fatalf("sloguard %q = %d, want 0; stderr: %s", args, code, stderr)
		}
		want := "sloguard status of " + srv.URL + "/sloguard/status.json\n"
		if !strings.HasPrefix(stdout, want) {
			t.Errorf("sloguard %q stdout starts %q, want %q", args, strings.SplitAfter(stdout, "\n")[0], want)
		}
		assertNoSecret(t, args, stdout+stderr)
	}
}

// TestCredentials checks what the service receives: basic auth from the
// URL's user name and password, or a bearer token from SLOGUARD_TOKEN, never
// both, and never a token that a header can not carry.
func TestCredentials(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string // guarded by mu
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`{"allowed": true}`))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name, env, url string
		wantCode       int
		wantAuth       string // when wantCode is 0
		wantErr        string // when it is not
	}{
		{"none", "", srv.URL, exitOK, "", ""},
		{"basic", "", "http://" + secretUser + ":" + secretPass + "@" + host, exitOK, basic(secretUser, secretPass), ""},
		{"token as user", "", "http://" + secretToken + "@" + host, exitOK, basic(secretToken, ""), ""},
		{"bearer", secretEnv, srv.URL, exitOK, "Bearer " + secretEnv, ""},
		{"both", secretEnv, "http://" + secretToken + "@" + host, exitError, "", "give the credentials one way"},
		{"bad token", "a b" + secretEnv, srv.URL, exitError, "", "not printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			t.Setenv(envToken, tt.env)
			args := []string{"gate", "--url", tt.url}
			code, stdout, stderr := runCmd(t, args...)
			mu.Lock()
			defer mu.Unlock()
			if code != tt.wantCode {
				t.Fatalf("sloguard %q = %d, want %d; stderr: %s", args, code, tt.wantCode, stderr)
			}
			if tt.wantCode == exitOK && (len(got) != 1 || got[0] != tt.wantAuth) {
				t.Errorf("sloguard %q sent Authorization %q, want [%q]", args, got, tt.wantAuth)
			}
			if tt.wantCode != exitOK && (len(got) != 0 || !strings.Contains(stderr, tt.wantErr)) {
				t.Errorf("sloguard %q sent %d requests, stderr %q; want none and %q", args, len(got), stderr, tt.wantErr)
			}
			assertNoSecret(t, args, stdout+stderr)
		})
	}
}

// TestCredentialsStayOnHost checks that a redirect to another host or port
// gets no credentials, and one on the same host keeps the bearer token.
func TestCredentialsStayOnHost(t *testing.T) {
	var (
		mu   sync.Mutex
		auth = map[string]string{} // by server, guarded by mu
	)
	answer := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth[name] = r.Header.Get("Authorization")
			mu.Unlock()
			w.Write([]byte(`{"allowed": true}`))
		}
	}
	other := httptest.NewServer(answer("other"))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.Handle("/away/release", http.RedirectHandler(other.URL+"/release", http.StatusFound))
	mux.Handle("/here/release", http.RedirectHandler("/there/release", http.StatusFound))
	mux.Handle("/there/release", answer("same"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	for _, tt := range []struct {
		name, env, url, server, want string
	}{
		{"token to another port", secretEnv, srv.URL + "/away", "other", ""},
		{"basic auth to another port", "", "http://" + secretUser + ":" + secretPass + "@" + host + "/away", "other", ""},
		{"token on the same host", secretEnv, srv.URL + "/here", "same", "Bearer " + secretEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envToken, tt.env)
			mu.Lock()
			clear(auth)
			mu.Unlock()
			args := []string{"gate", "--url", tt.url}
			code, stdout, stderr := runCmd(t, args...)
			if code != exitOK {
				t.Fatalf("sloguard %q = %d, want 0; stderr: %s", args, code, stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if got, ok := auth[tt.server]; !ok || got != tt.want {
				t.Errorf("sloguard %q: the %s server got Authorization %q (asked: %t), want %q", args, tt.server, got, ok, tt.want)
			}
			assertNoSecret(t, args, stdout+stderr)
		})
	}
}
