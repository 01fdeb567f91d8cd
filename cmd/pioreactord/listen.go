package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Config keys of the listeners (docs/security.md). Ports stay where the reference keeps
// them: [mqtt] broker_port and broker_ws_port, [ui] port.
const (
	secUI          = "ui"
	keyBind        = "bind_address"    // interface to listen on; empty: every interface
	keyCertFile    = "tls_cert_file"   // PEM certificate (chain); with the key, the listener speaks TLS only
	keyKeyFile     = "tls_key_file"    // PEM private key of the certificate
	keyMaxPacket   = "max_packet_size" // [mqtt]: the largest MQTT packet a client may send, bytes
	localListening = "127.0.0.1:0"     // the daemon's own connections to its broker and API
)

// listenFromConfig fills the listener addresses no flag set. Under --sim every listener
// binds to loopback (fillDefaults); otherwise the host is <section> bind_address and the
// port the section's port key.
func (o *options) listenFromConfig(conf *config.Config) error {
	for _, l := range []struct {
		addr             *string
		section, portKey string
		defaultPort      int
	}{
		{&o.httpAddr, secUI, "port", 80},
		{&o.mqttAddr, config.SecMQTT, "broker_port", 1883},
		{&o.wsAddr, config.SecMQTT, "broker_ws_port", 9001},
	} {
		if *l.addr != "" {
			continue
		}
		port, err := intOr(conf, l.section, l.portKey, l.defaultPort)
		if err != nil {
			return err
		}
		host := strings.TrimSpace(conf.String(l.section, keyBind, ""))
		*l.addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	return nil
}

// intOr reads an integer key; absent or blank means fallback.
func intOr(conf *config.Config, section, key string, fallback int) (int, error) {
	if strings.TrimSpace(conf.String(section, key, "")) == "" {
		return fallback, nil
	}
	return conf.Int(section, key, fallback)
}

// checkBrokerCredentials refuses to start the embedded broker, outside --sim, with
// credentials that would let anyone on the network in.
func checkBrokerCredentials(o options, mq config.MQTTConfig) error {
	if o.sim {
		return nil
	}
	switch {
	case mq.Username == "":
		return errors.New("the MQTT broker needs a user outside --sim: set [mqtt] username in config.ini")
	case mq.Password == "":
		// The broker would accept the user with no password at all.
		return errors.New("the MQTT broker needs a password outside --sim: set [mqtt] password in config.ini")
	}
	return nil
}

// brokerConfig is the embedded broker's config: the public listeners (TLS when a
// certificate is configured), and a plain loopback listener for the daemon's own clients,
// whose client ids the public listeners may not take over.
func (d *daemon) brokerConfig(mq config.MQTTConfig) (broker.Config, error) {
	maxPacket, err := intOr(d.conf, config.SecMQTT, keyMaxPacket, 0)
	if err != nil {
		return broker.Config{}, err
	}
	tlsConf, err := loadTLS(d.conf, config.SecMQTT)
	if err != nil {
		return broker.Config{}, err
	}
	return broker.Config{TCPAddr: d.opts.mqttAddr, WSAddr: d.opts.wsAddr, LocalAddr: localListening,
		Username: mq.Username, Password: mq.Password, TLS: tlsConf, MaxPacketSize: maxPacket}, nil
}

// loadTLS reads <section> tls_cert_file and tls_key_file: nil when neither is set, an error
// naming the keys when only one is or they do not load.
func loadTLS(conf *config.Config, section string) (*tls.Config, error) {
	cert := strings.TrimSpace(conf.String(section, keyCertFile, ""))
	key := strings.TrimSpace(conf.String(section, keyKeyFile, ""))
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, fmt.Errorf("[%s] %s and %s go together: set both for TLS, or neither", section, keyCertFile, keyKeyFile)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("[%s] %s/%s: %w", section, keyCertFile, keyKeyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// clientDialer is how the daemon's clients reach the broker at addr: over TLS when [mqtt]
// use_tls=1 (a worker's leader, an external broker), except for the embedded broker, whose
// own clients use its plain loopback listener.
func clientDialer(addr string, mq config.MQTTConfig, embedded bool, log *slog.Logger) (pubsub.Dialer, error) {
	if !mq.UseTLS || embedded {
		return pubsub.NewDialer(addr, mq.Username, mq.Password, log), nil
	}
	tlsConf, err := pubsub.ClientTLS(mq.TLSCAFile)
	if err != nil {
		return nil, fmt.Errorf("[mqtt] tls_ca_file: %w", err)
	}
	return pubsub.NewTLSDialer(addr, mq.Username, mq.Password, tlsConf, log), nil
}
