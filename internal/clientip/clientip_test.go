package clientip

import (
	"crypto/tls"
	"net/http"
	"testing"
)

func request(peer string, headers ...string) *http.Request {
	r, _ := http.NewRequest("GET", "http://roster.example/", nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestClientIP(t *testing.T) {
	proxies, err := Parse("10.0.0.0/8, 192.168.1.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		proxies *Proxies
		peer    string
		headers []string
		want    string
	}{
		{"no proxies trusted: the peer", nil, "203.0.113.9:5000", nil, "203.0.113.9"},
		{"nil proxies ignore X-Forwarded-For", nil, "203.0.113.9:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer sending X-Forwarded-For is ignored", proxies, "203.0.113.9:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer sending Forwarded is ignored", proxies, "203.0.113.9:5000", []string{"Forwarded", "for=198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer claiming to be a trusted proxy", proxies, "203.0.113.9:5000", []string{"X-Forwarded-For", "10.1.1.1"}, "203.0.113.9"},
		{"trusted peer without headers", proxies, "10.0.0.2:5000", nil, "10.0.0.2"},
		{"one trusted proxy", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "198.51.100.1"},
		{"a bare address is a range of one", proxies, "192.168.1.1:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "198.51.100.1"},
		{"next to a trusted address is not trusted", proxies, "192.168.1.2:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "192.168.1.2"},
		{"a chain of trusted proxies is walked from the right", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "198.51.100.1, 10.0.0.7, 10.0.0.3"}, "198.51.100.1"},
		{"a spoofed left-most entry is not believed", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"a spoofed trusted-looking left-most entry is not believed", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"several header lines are one list", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "198.51.100.1, 10.0.0.3"}, "198.51.100.1"},
		{"every hop trusted: the left-most", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "10.0.0.9, 10.0.0.3"}, "10.0.0.9"},
		{"entries with ports", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "198.51.100.1:3456, [2001:db8::5]:80"}, "2001:db8::5"},
		{"IPv6 client", proxies, "[fd00::1]:5000", []string{"X-Forwarded-For", "2001:db8::17"}, "2001:db8::17"},
		{"IPv4-mapped peer is trusted as IPv4", proxies, "[::ffff:10.0.0.2]:5000", []string{"X-Forwarded-For", "198.51.100.1"}, "198.51.100.1"},
		{"malformed entry ends the walk at the proxy that wrote it", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "198.51.100.1, not-an-ip, 10.0.0.3"}, "10.0.0.3"},
		{"malformed right-most entry: the peer", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "198.51.100.1, garbage"}, "10.0.0.2"},
		{"empty X-Forwarded-For: the peer", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", ""}, "10.0.0.2"},
		{"a zone is refused", proxies, "10.0.0.2:5000", []string{"X-Forwarded-For", "fe80::1%eth0"}, "10.0.0.2"},
		{"Forwarded for=", proxies, "10.0.0.2:5000", []string{"Forwarded", "for=198.51.100.1;proto=https"}, "198.51.100.1"},
		{"Forwarded quoted IPv6 with port", proxies, "10.0.0.2:5000", []string{"Forwarded", `for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded quoted IPv4 with port", proxies, "10.0.0.2:5000", []string{"Forwarded", `For="198.51.100.1:4711"`}, "198.51.100.1"},
		{"Forwarded chain with a spoofed first element", proxies, "10.0.0.2:5000", []string{"Forwarded", "for=1.2.3.4, for=198.51.100.1;by=10.0.0.2, for=10.0.0.3"}, "198.51.100.1"},
		{"Forwarded quoted comma does not split", proxies, "10.0.0.2:5000", []string{"Forwarded", `for=198.51.100.1;x="a,b"`}, "198.51.100.1"},
		{"Forwarded unknown ends the walk", proxies, "10.0.0.2:5000", []string{"Forwarded", "for=198.51.100.1, for=unknown"}, "10.0.0.2"},
		{"Forwarded obfuscated ends the walk", proxies, "10.0.0.2:5000", []string{"Forwarded", "for=_hidden"}, "10.0.0.2"},
		{"Forwarded unterminated quote", proxies, "10.0.0.2:5000", []string{"Forwarded", `for="198.51.100.1`}, "10.0.0.2"},
		{"Forwarded element without =", proxies, "10.0.0.2:5000", []string{"Forwarded", `198.51.100.1`}, "10.0.0.2"},
		{"X-Forwarded-For wins over Forwarded", proxies, "10.0.0.2:5000", []string{"Forwarded", "for=1.2.3.4", "X-Forwarded-For", "198.51.100.1"}, "198.51.100.1"},
		{"RemoteAddr without a port", proxies, "203.0.113.9", nil, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.proxies.ClientIP(request(tt.peer, tt.headers...)); got != tt.want {
				t.Fatalf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecure(t *testing.T) {
	proxies, err := Parse("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		proxies *Proxies
		peer    string
		tls     bool
		headers []string
		want    bool
	}{
		{"plain http", proxies, "203.0.113.9:1", false, nil, false},
		{"TLS", nil, "203.0.113.9:1", true, nil, true},
		{"untrusted peer claiming https", proxies, "203.0.113.9:1", false, []string{"X-Forwarded-Proto", "https"}, false},
		{"untrusted peer claiming https in Forwarded", proxies, "203.0.113.9:1", false, []string{"Forwarded", "for=1.2.3.4;proto=https"}, false},
		{"nobody trusted", nil, "10.0.0.2:1", false, []string{"X-Forwarded-Proto", "https"}, false},
		{"trusted proxy says https", proxies, "10.0.0.2:1", false, []string{"X-Forwarded-Proto", "https"}, true},
		{"trusted proxy says HTTPS", proxies, "10.0.0.2:1", false, []string{"X-Forwarded-Proto", "HTTPS"}, true},
		{"trusted proxy says http", proxies, "10.0.0.2:1", false, []string{"X-Forwarded-Proto", "http"}, false},
		{"trusted chain, TLS at the edge", proxies, "10.0.0.2:1", false, []string{"X-Forwarded-Proto", "https, http"}, true},
		{"trusted proxy Forwarded proto", proxies, "10.0.0.2:1", false, []string{"Forwarded", `for="[2001:db8::1]";proto=https`}, true},
		{"trusted proxy Forwarded proto http", proxies, "10.0.0.2:1", false, []string{"Forwarded", "for=1.2.3.4;proto=http"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.peer, tt.headers...)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := tt.proxies.Secure(r); got != tt.want {
				t.Fatalf("Secure = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: " , ", want: ""},
		{in: "127.0.0.1/32", want: "127.0.0.1/32"},
		{in: "10.1.2.3/8,::1", want: "10.0.0.0/8,::1/128"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "192.168.0.1", want: "192.168.0.1/32"},
		{in: "10.0.0.0/33", bad: true},
		{in: "localhost", bad: true},
		{in: "10.0.0.0/8,nonsense/8", bad: true},
	} {
		p, err := Parse(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %v; want an error", tt.in, p)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, p.String(), err, tt.want)
		}
	}
}
