package main

import (
	"fmt"
	"strings"
)

// printBanner tells, in a few lines, where everything listens and how to start a job.
func (d *daemon) printBanner() {
	o := d.opts
	api := d.servers[0].ln.Addr().String()
	var b strings.Builder
	role := o.role
	if o.sim {
		role = "simulated " + role
	}
	fmt.Fprintf(&b, "pioreactord %s: unit %s, %s", version, o.unit, role)
	if o.sim {
		fmt.Fprintf(&b, ", clock x%g", o.speed)
	}
	scheme := "http"
	if d.servers[0].local != nil {
		scheme = "https"
	}
	fmt.Fprintf(&b, "\n  HTTP API   %s://%s\n", scheme, api)
	if o.leader() {
		if d.dashboardBuilt {
			fmt.Fprintf(&b, "  Dashboard  %s://%s/\n", scheme, api)
		} else {
			fmt.Fprintf(&b, "  Dashboard  (not built: make ui)\n")
		}
	}
	for _, s := range d.servers[1:] {
		fmt.Fprintf(&b, "  worker     %s at http://%s\n", s.unit, s.ln.Addr())
	}
	if d.broker != nil {
		mq, _ := d.conf.MQTT()
		tlsOn := d.conf.String("mqtt", keyCertFile, "") != ""
		mqtt, ws := "", "ws"
		if tlsOn {
			mqtt, ws = " over TLS", "wss"
		}
		fmt.Fprintf(&b, "  MQTT       %s%s (user %s)\n", d.broker.TCPAddr(), mqtt, mq.Username)
		if addr := d.broker.WSAddr(); addr != "" {
			fmt.Fprintf(&b, "  WebSocket  %s://%s/mqtt\n", ws, addr)
		}
	}
	if o.sim && o.role == "both" && o.units > 0 && d.broker != nil {
		host, port := splitHostPort(d.broker.TCPAddr())
		mq, _ := d.conf.MQTT()
		fmt.Fprintf(&b, "Try:\n  curl -X PATCH http://%s/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo -H 'content-type: application/json' -d '{\"options\":{\"target_rpm\":400}}'\n", api)
		fmt.Fprintf(&b, "  mosquitto_sub -h %s -p %s -u %s -P %s -t 'pioreactor/#' -v\n", host, port, mq.Username, mq.Password)
	}
	fmt.Fprint(d.stdout, b.String())
}

func splitHostPort(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}
