package api

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestAPIKeyBackoff: after five wrong keys in a row an address is refused with 429 and
// Retry-After, right key or not, for a back-off that doubles with each further failure;
// other addresses are not affected, and a success resets the count; requests without a key
// are refused but not counted. There used to be no limit: guesses ran as fast as the network
// allowed.
func TestAPIKeyBackoff(t *testing.T) {
	t.Parallel()
	const key = "cGlvOnNlY3JldA=="
	clock := &fakeClock{t: t0}
	s, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Now: clock.Now, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	try := func(addr, auth string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/unit_api/versions/app", nil)
		req.RemoteAddr = addr
		if auth != "" {
			req.Header.Set("Authorization", "Basic "+auth)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Header().Get("Retry-After")
	}
	const attacker, other = "192.0.2.7:40000", "192.0.2.8:40000"
	step := func(name, addr, auth string, status int, retry string) {
		t.Helper()
		if got, ra := try(addr, auth); got != status || ra != retry {
			t.Fatalf("%s: %d Retry-After %q, want %d %q", name, got, ra, status, retry)
		}
	}
	for i := range 8 { // a dashboard before its login form sends no key: it guesses nothing
		step("no key "+strconv.Itoa(i+1), attacker, "", 401, "")
	}
	for i := range 5 {
		step("wrong key "+strconv.Itoa(i+1), attacker, "nope", 401, "")
	}
	step("blocked, wrong key", attacker, "nope", 429, "1")
	step("blocked, right key", attacker, key, 429, "1")
	step("another address", other, key, 200, "")
	step("another port, same address", "192.0.2.7:40001", key, 429, "1")

	clock.Advance(time.Second)
	step("sixth wrong key", attacker, "nope", 401, "")
	step("blocked twice as long", attacker, "nope", 429, "2")
	clock.Advance(1500 * time.Millisecond)
	step("still blocked", attacker, key, 429, "1") // 0.5 s left, rounded up
	clock.Advance(500 * time.Millisecond)
	step("seventh wrong key", attacker, "nope", 401, "")
	step("blocked 4 s", attacker, "nope", 429, "4")
	for range 30 { // the back-off is capped
		clock.Advance(authBackoffMax)
		try(attacker, "nope")
	}
	step("capped", attacker, "nope", 429, strconv.Itoa(int(authBackoffMax/time.Second)))

	clock.Advance(authBackoffMax)
	step("right key after the wait", attacker, key, 200, "")
	for i := range 4 {
		step("counted afresh "+strconv.Itoa(i+1), attacker, "nope", 401, "")
	}
	step("a success resets", attacker, key, 200, "")
	step("not blocked", attacker, "nope", 401, "")
}

// TestAuthGuardBounded: a flood of addresses cannot grow the table without bound.
func TestAuthGuardBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: t0}
	g := &authGuard{now: clock.Now, clients: map[string]*authClient{}}
	for i := range 3 * authMaxClients {
		g.failed("198.51.100." + strconv.Itoa(i))
		if i%100 == 0 {
			clock.Advance(time.Minute)
		}
	}
	if n := len(g.clients); n > authMaxClients {
		t.Fatalf("%d clients kept, cap %d", n, authMaxClients)
	}
}
